"""Scoped coordinators without Telegram: scopes as groups and keys, reading `/grant`'s
filters in both languages, the release decisions of scoped groups on the shared history
(checked by brute force), scoped free text, and the stored scope on both databases."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.access import Access, Actor
from bot.core.i18n import use_language
from bot.reports.errors import BadGrantArgument, OtherSurvey, TooFewResponses, UnknownSurvey
from bot.reports.filters import parse_scope, scope_name
from bot.reports.model import (
    EVERYWHERE,
    Cohort,
    Coordinator,
    Filter,
    Grant,
    History,
    Inputs,
    Scope,
)
from bot.reports.model import ReleasedComment as Said
from bot.reports.scopes import scoped_comments
from bot.reports.service import ReportService
from bot.reports.snapshots import Noise, publish
from bot.survey.model import ReportRole
from storage import Storage
from tests.e2e import SHIPPED_SURVEY
from tests.respondents import answers, complete
from tests.test_snapshots import COUNTRIES, LEVELS, SECTORS, _isolated
from tests.wiring import open_test_storage, survey_service

THRESHOLD = 5
AT = datetime(2026, 12, 1, tzinfo=UTC)
ADMIN = Actor(900001, "Admin")
JORDAN = Filter(ReportRole.COUNTRY, "jordan")
IRAQ = Filter(ReportRole.COUNTRY, "iraq")
POLICE = Filter(ReportRole.SECTOR, "law_enforcement")
SOCIETY = Filter(ReportRole.SECTOR, "civil_society")
BOTH = Scope.of(JORDAN, IRAQ)


def test_a_scope_is_a_union_within_a_dimension_and_an_intersection_across():
    scope = Scope.of(JORDAN, IRAQ, POLICE)
    assert str(scope) == "country=iraq|jordan&sector=law_enforcement"
    assert Scope.parse(str(scope)) == scope and Scope.parse("*") == EVERYWHERE
    assert str(Scope.of(JORDAN)) == str(JORDAN)  # the unscoped filter's own group key
    assert scope.covers(("iraq", "law_enforcement", "local"))
    assert not scope.covers(("iraq", "civil_society", "local"))
    assert not scope.covers(("lebanon", "law_enforcement", "local"))
    assert scope.narrowed(JORDAN) == Scope.of(JORDAN, POLICE)
    assert scope.narrowed(Filter(ReportRole.COUNTRY, "lebanon")) is None
    assert scope.narrowed(SOCIETY) is None
    assert BOTH.narrowed(SOCIETY) == Scope.of(JORDAN, IRAQ, SOCIETY)
    assert EVERYWHERE.narrowed(JORDAN) == Scope.of(JORDAN) and EVERYWHERE.everyone


def test_grant_filters_are_read_in_either_language_and_named_in_words():
    assert parse_scope(SHIPPED_SURVEY, ["country=jordan", "country=iraq"]) == BOTH
    assert parse_scope(SHIPPED_SURVEY, ["الأردن", "Iraq"]) == BOTH
    local_government = ["الحكومة", "المحلية", "/", "البلدية"]  # a label of several words
    assert parse_scope(SHIPPED_SURVEY, ["jordan", *local_government]) == Scope.of(
        JORDAN, Filter(ReportRole.SECTOR, "local_gov")
    )
    assert parse_scope(SHIPPED_SURVEY, []) == EVERYWHERE
    with use_language("en"):
        assert scope_name(SHIPPED_SURVEY, Scope.of(JORDAN, IRAQ, POLICE)) == (
            "Country: Jordan or Iraq; Sector: Law enforcement / police"
        )
    with use_language("ar"):
        assert "الأردن أو العراق" in scope_name(SHIPPED_SURVEY, BOTH)


def _publish(history: History, present: list[tuple[tuple[str, str, str], int]], scopes):  # type: ignore[no-untyped-def]
    counted = Counter(present)
    cohorts = tuple(
        Cohort(*cell, arrived or None, n) for (cell, arrived), n in sorted(counted.items())
    )
    snapshot = publish(
        SHIPPED_SURVEY, history, Inputs(cohorts, (), (), {}), THRESHOLD, Noise(b"k"), AT, scopes
    )
    return snapshot, History(
        (*history.released, snapshot.released), snapshot.atoms, snapshot.population, AT
    )


def test_scoped_groups_are_decided_after_and_against_every_unscoped_group():
    """One Iraqi in civil society among Jordanians and Iraqi police: Jordan's sectors
    would each isolate them against the unscoped groups, so neither is released; the
    unscoped groups are what they would be without scopes."""
    cells = {
        ("jordan", "civil_society", "local"): 6,
        ("jordan", "law_enforcement", "local"): 6,
        ("iraq", "civil_society", "local"): 1,
        ("iraq", "law_enforcement", "local"): 6,
    }
    present = [(cell, 0) for cell, n in cells.items() for _ in range(n)]
    scoped, _ = _publish(History(), present, [BOTH, Scope.of(JORDAN)])
    alone, _ = _publish(History(), present, [])
    assert scoped.released[: len(alone.released)] == alone.released
    assert "country=jordan&sector=law_enforcement" not in scoped.released
    assert "country=jordan&sector=civil_society" not in scoped.released
    assert "country=iraq|jordan&sector=civil_society" in scoped.views
    assert scoped.views["country=iraq|jordan"].scope == BOTH


@pytest.mark.parametrize("seed", range(3))
def test_no_sequence_of_scoped_snapshots_isolates_fewer_than_k(seed: int):
    """Random populations over three snapshots with random scopes: no combination of every
    released total, scoped or not, of every snapshot rests on fewer than k respondents
    (checked by rank over every small set of people)."""
    rng = random.Random(seed)
    options = [Filter(ReportRole.COUNTRY, c) for c in COUNTRIES]
    options += [Filter(ReportRole.SECTOR, s) for s in SECTORS]
    scopes = [Scope(frozenset(rng.sample(options, rng.randint(1, 3)))) for _ in range(2)]
    people: list[list] = []  # [cell, arrived, left]
    history = History()
    for number in (1, 2, 3):
        for _ in range(rng.randint(5, 9)):
            cell = (rng.choice(COUNTRIES), rng.choice(SECTORS), rng.choice(LEVELS))
            people.append([cell, number, None])
        present = [p for p in people if p[2] is None]
        if number > 1 and rng.random() < 0.7:
            leaving = rng.choice([p for p in present if p[1] < number])
            leaving[2] = number
        present = [p for p in people if p[2] is None]
        _, history = _publish(
            history, [(p[0], p[1] if p[1] < number else 0) for p in present], scopes
        )
        found = _isolated([(p[0], p[1], p[2]) for p in people], history)
        assert found is None, (number, found, history.released)
    assert any("&" in key or "|" in key for keys in history.released for key in keys)


def test_scoped_free_text_comes_in_whole_batches_split_into_parts_of_k():
    amman = [Said(1, ("jordan", "civil_society", "local"), f"Amman {i}") for i in range(5)]
    basra = [Said(1, ("iraq", "civil_society", "local"), f"Basra {i}") for i in range(5)]
    jordan = Scope.of(JORDAN)
    assert sorted(scoped_comments(amman + basra, jordan, [jordan], 5)) == sorted(
        c.text for c in amman
    )
    tyre = [Said(2, ("lebanon", "civil_society", "local"), "Tyre 0")]
    late = [Said(2, ("jordan", "civil_society", "local"), f"Zarqa {i}") for i in range(5)]
    # The second batch has one Lebanese answer: Rami's {Jordan, Iraq} list against the full
    # one would show it came from outside; nobody scoped reads that batch.
    shown = scoped_comments(amman + basra + tyre + late, BOTH, [jordan, BOTH], 5)
    assert sorted(shown) == sorted(c.text for c in amman + basra)
    assert scoped_comments(amman + basra + late, jordan, [jordan, BOTH], 5) == [
        c.text for c in amman + late
    ]


# -- storage and the service, on both databases -------------------------------------------


@pytest.fixture
async def reports(storage: Storage) -> ReportService:
    access = Access(storage.reports, storage.reports, {ADMIN.user_id})
    return await ReportService.start(storage.reports, SHIPPED_SURVEY, access, THRESHOLD)


async def test_the_scope_is_stored_with_the_grant_and_the_role(
    reports: ReportService, storage: Storage, database: str
):
    issued = await reports.access.grant(ADMIN, 2001, ["country=jordan", "العراق"])
    assert issued.scope == BOTH
    everyone = await reports.access.grant(ADMIN, 2002)
    await reports.access.redeem(Actor(2001, "Rami"), issued.code)
    await reports.access.redeem(Actor(2002, "Huda"), everyone.code)
    with pytest.raises(BadGrantArgument):
        await reports.access.grant(ADMIN, 2003, ["narnia"])
    reopened = await open_test_storage(database)  # as after a restart
    try:
        stored = await reopened.reports.coordinators()
        assert [(c.user_id, c.scope) for c in stored] == [(2001, BOTH), (2002, EVERYWHERE)]
        assert isinstance(stored[0], Coordinator)
        assert await reopened.reports.granted_scopes() == [BOTH]
        await reopened.reports.remove_coordinator(2001)
        assert await reopened.reports.granted_scopes() == [BOTH]  # revoked, still known
    finally:
        await reopened.close()
    entries = await storage.reports.recent(10)
    assert any(e.detail == "for 2001; scope country=iraq|jordan" for e in entries)


async def test_a_coordinator_limited_to_one_survey_sees_nothing_of_another(
    reports: ReportService, storage: Storage
):
    """/grant survey=ID (the issue's "or to one survey"): stored with the role; while another
    survey is run, that coordinator's looks are refused and their scope is not published."""
    with pytest.raises(UnknownSurvey):
        await reports.access.grant(ADMIN, 2001, ["survey=never-run"])
    issued = await reports.access.grant(ADMIN, 2001, [f"survey={SHIPPED_SURVEY.id}", "العراق"])
    assert issued.survey_id == SHIPPED_SURVEY.id
    await reports.access.redeem(Actor(2001, "Rami"), issued.code)
    (stored,) = await storage.reports.coordinators()
    assert stored.survey_id == SHIPPED_SURVEY.id
    with pytest.raises(TooFewResponses):  # their survey: they may look (nothing yet)
        await reports.summary(Actor(2001, "Rami"))
    other = replace(SHIPPED_SURVEY, id="youth_voices")
    access = Access(storage.reports, storage.reports, {ADMIN.user_id})
    elsewhere = await ReportService.start(storage.reports, other, access, THRESHOLD)
    with pytest.raises(OtherSurvey):
        await elsewhere.summary(Actor(2001, "Rami"))
    entries = await storage.reports.recent(10)
    assert any(
        e.detail == f"for 2001; scope country=iraq; survey {SHIPPED_SURVEY.id}" for e in entries
    )


async def test_released_free_text_comes_with_its_cell_and_batch(
    reports: ReportService, storage: Storage
):
    survey = survey_service(storage, SHIPPED_SURVEY)
    channels = {"barrier_channels": 4}
    for user_id in range(100, 106):
        country = "jordan" if user_id < 103 else "iraq"
        given = answers(country=country, scale=channels, missing_channel=f"note {user_id}")
        await complete(survey, user_id, given)
    assert await reports.publish_if_due() is not None
    found = await storage.reports.released_comments_by_cell(SHIPPED_SURVEY.id, 0, "missing_channel")
    assert sorted((c.text, c.snapshot, c.cell[0]) for c in found) == [
        ("note 100", 1, "jordan"), ("note 101", 1, "jordan"), ("note 102", 1, "jordan"),
        ("note 103", 1, "iraq"), ("note 104", 1, "iraq"), ("note 105", 1, "iraq"),
    ]  # fmt: skip


async def test_a_scope_naming_an_option_no_longer_asked_stops_no_snapshot(
    reports: ReportService, storage: Storage
):
    """The survey changed after the grant: that scope is not published, everyone else's
    snapshot is."""
    await storage.reports.add_grant(Grant("old", ADMIN.user_id, AT, AT + timedelta(days=1)))
    gone = Scope.of(Filter(ReportRole.COUNTRY, "atlantis"))
    await storage.reports.use_grant("old", Coordinator(4003, "Old", ADMIN.user_id, AT, gone))
    survey = survey_service(storage, SHIPPED_SURVEY)
    for user_id in range(100, 105):
        await complete(survey, user_id, answers())
    snapshot = await reports.publish_if_due()
    assert snapshot is not None and "*" in snapshot.views
    assert not any("atlantis" in key for key in snapshot.views)
