"""Snapshots over time (bot/reports/snapshots.py), without Telegram: the release history
checked by brute force, the noise, and publishing through the service on both databases."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import combinations

import numpy as np
import pytest

from bot.core.access import Access
from bot.reports.model import Cohort, History, Inputs
from bot.reports.service import ReportService
from bot.reports.snapshots import EVERYONE, NOISE, Noise, in_group, publish
from bot.reports.summary import level_sides
from bot.survey.service import SurveyService
from storage import Storage
from tests.e2e import SHIPPED_SURVEY
from tests.factories import Clock
from tests.respondents import answers, complete
from tests.wiring import survey_service

THRESHOLD = 5
AT = datetime(2026, 12, 1, tzinfo=UTC)
COUNTRIES = ("jordan", "iraq", "lebanon")
SECTORS = ("civil_society", "law_enforcement")
LEVELS = ("local", "national")


def _next(history: History, present: list[tuple[tuple[str, str, str], int]]) -> History:
    """Publish one snapshot of `present` (cell, arrival or 0 for new) onto `history`."""
    counted = Counter(present)
    cohorts = tuple(
        Cohort(*cell, arrived or None, n) for (cell, arrived), n in sorted(counted.items())
    )
    inputs = Inputs(cohorts, (), (), {})
    snapshot = publish(SHIPPED_SURVEY, history, inputs, THRESHOLD, Noise(b"k"), AT)
    return History(
        (*history.released, snapshot.released), snapshot.atoms, snapshot.population, AT
    )


def _isolated(people: list[tuple[tuple[str, str, str], int, int | None]], history: History):
    """Brute force: a set of fewer than k respondents that some combination of the released
    totals (of every snapshot) depends on alone, or None. `people` are (cell, arrived,
    left) with snapshots numbered from 1 (left None: still there).

    People with the same row (cell and times) are alike to every combination, so only sets
    made of whole kinds of people need trying; a set isolates when adding it to everyone
    else raises the rank."""
    sides = level_sides(SHIPPED_SURVEY)
    columns = [(n, key) for n, keys in enumerate(history.released, 1) for key in keys]
    kinds = Counter(people)
    rows = {
        kind: [
            1.0
            if kind[1] <= n and (kind[2] is None or n < kind[2]) and in_group(key, kind[0], sides)
            else 0.0
            for n, key in columns
        ]
        for kind in kinds
    }
    small = [kind for kind, n in kinds.items() if n < THRESHOLD]
    for size in range(1, min(len(small), THRESHOLD - 1) + 1):
        for chosen in combinations(small, size):
            if sum(kinds[kind] for kind in chosen) >= THRESHOLD:
                continue
            rest = [rows[kind] for kind in kinds if kind not in chosen]
            outside = np.linalg.matrix_rank(np.array(rest)) if rest else 0
            both = np.array(rest + [rows[kind] for kind in chosen])
            if np.linalg.matrix_rank(both) > outside:
                return chosen
    return None


@pytest.mark.parametrize("seed", range(12))
def test_no_sequence_of_snapshots_isolates_fewer_than_k(seed: int):
    """Random small populations that grow and shrink over three snapshots: whatever the
    releases, no combination of every released total of every snapshot rests on fewer than
    k respondents (checked by rank over every small set of people, not by atoms)."""
    rng = random.Random(seed)
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
        history = _next(history, [(p[0], p[1] if p[1] < number else 0) for p in present])
        found = _isolated([(p[0], p[1], p[2]) for p in people], history)
        assert found is None, (number, found, history.released)


def test_a_group_once_released_is_tried_first_and_the_flip_is_refused():
    """Attack 1: Jordan 6, Iraq 6, Lebanon 1 shows Jordan only; five more Iraqis later, a
    fresh count would show Iraq and refuse Jordan: everyone now - Iraq now - Jordan before
    is the Lebanese respondent."""
    jordan, iraq, lebanon = (
        ("jordan", "civil_society", "local"),
        ("iraq", "civil_society", "local"),
        ("lebanon", "civil_society", "local"),
    )
    first = _next(History(), [(jordan, 0)] * 6 + [(iraq, 0)] * 6 + [(lebanon, 0)])
    assert "country=jordan" in first.released[0]
    assert "country=iraq" not in first.released[0]
    old = [(jordan, 1)] * 6 + [(iraq, 1)] * 6 + [(lebanon, 1)]
    second = _next(first, old + [(iraq, 0)] * 5)
    assert "country=jordan" in second.released[1]
    assert "country=iraq" not in second.released[1]
    fresh = _next(History(), [(jordan, 0)] * 6 + [(iraq, 0)] * 11 + [(lebanon, 0)])
    assert "country=iraq" in fresh.released[0] and "country=jordan" not in fresh.released[0]


def test_the_newcomers_of_a_group_are_never_its_difference_between_snapshots():
    """Jordan grows by one between two snapshots: Jordan now - Jordan before would be that
    one person's answers, so Jordan waits until it has grown by k."""
    jordan, iraq = ("jordan", "civil_society", "local"), ("iraq", "civil_society", "local")
    first = _next(History(), [(jordan, 0)] * 6 + [(iraq, 0)] * 6)
    assert {"country=jordan", "country=iraq"} <= set(first.released[0])
    old = [(jordan, 1)] * 6 + [(iraq, 1)] * 6
    second = _next(first, old + [(jordan, 0)] + [(iraq, 0)] * 4)
    assert EVERYONE in second.released[1]  # everyone now - before: five newcomers
    assert "country=jordan" not in second.released[1]
    assert "country=iraq" not in second.released[1]
    newer = [(jordan, 2)] + [(iraq, 2)] * 4
    # Four more Jordanians would not do: (Jordan now - before) - (everyone now - at the
    # second) would be the Jordanian of the second snapshot minus the new Iraqi.
    third = _next(second, old + newer + [(jordan, 0)] * 5 + [(iraq, 0)] * 5)
    assert {"country=jordan", "country=iraq"} <= set(third.released[2])


def test_someone_who_left_is_protected_like_everyone_else():
    """A Jordanian deletes their data and five Iraqis arrive: Jordan now - Jordan before
    would be minus the one who left."""
    jordan, iraq = ("jordan", "civil_society", "local"), ("iraq", "civil_society", "local")
    first = _next(History(), [(jordan, 0)] * 6 + [(iraq, 0)] * 6)
    second = _next(first, [(jordan, 1)] * 5 + [(iraq, 1)] * 6 + [(iraq, 0)] * 5)
    assert EVERYONE in second.released[1]
    assert "country=jordan" not in second.released[1]


def test_noise_is_the_same_for_the_same_cell_and_count_and_small():
    perturb = Noise(b"secret").for_group(EVERYONE)
    again = Noise(b"secret").for_group(EVERYONE)
    values = [perturb("barrier_trust/all/4", n) for n in range(200)]
    assert values == [again("barrier_trust/all/4", n) for n in range(200)]
    assert all(v >= 0 and abs(v - n) <= 2 for n, v in enumerate(values))
    other = Noise(b"another").for_group(EVERYONE)
    assert values != [other("barrier_trust/all/4", n) for n in range(200)]
    changes = Counter(perturb(f"cell {i}", 50) - 50 for i in range(20_000))
    for change, probability in NOISE:  # the table's shape, within sampling error
        assert abs(changes[change] / 20_000 - probability) < 0.02


# -- through the service, on both databases ------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(AT)


@pytest.fixture
async def reports(storage: Storage, clock: Clock) -> ReportService:
    access = Access(storage.reports, storage.reports, {900001})
    return await ReportService.start(
        storage.reports, SHIPPED_SURVEY, access, THRESHOLD, clock, timedelta(hours=24)
    )


@pytest.fixture
def survey(storage: Storage) -> SurveyService:
    return survey_service(storage, SHIPPED_SURVEY)


async def test_snapshots_wait_for_k_changes_and_the_interval(reports, survey, storage, clock):
    for user_id in range(100, 105):
        await complete(survey, user_id, answers())
    first = await reports.publish_if_due()
    assert first is not None and first.number == 1 and first.population == 5
    for user_id in range(105, 110):
        await complete(survey, user_id, answers())
    assert await reports.publish_if_due() is None  # k changes, but within the 24 hours
    clock.now += timedelta(hours=25)
    second = await reports.publish_if_due()
    assert second is not None and (second.number, second.population) == (2, 10)
    assert await reports.publish_if_due() is None  # nothing changed since
    rows = await storage.database.fetchall(
        "SELECT first_snapshot, COUNT(*) FROM responses GROUP BY first_snapshot ORDER BY 1"
    )
    assert [tuple(r) for r in rows] == [(1, 5), (2, 5)]


async def test_staff_answers_never_count(reports, survey, storage):
    """A coordinator (or admin) who answers cannot pad a group: they are left out."""
    await storage.database.fetchall(
        "INSERT INTO coordinators (user_id, display_name, granted_by, granted_at)"
        " VALUES (2001, 'Nour', 900001, '2026-12-01T00:00:00+00:00') RETURNING 1"
    )
    for user_id in (2001, 900001, 100, 101, 102):
        await complete(survey, user_id, answers())
    assert await reports.publish_if_due() is None  # three respondents, not five
    for user_id in (103, 104):
        await complete(survey, user_id, answers())
    snapshot = await reports.publish_if_due()
    assert snapshot is not None and snapshot.population == 5
