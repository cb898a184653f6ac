"""Campaign links (bot/reports/access.py, /campaign) without Telegram: the codes, arrivals,
closing, required links, the source of a response and the sources of a snapshot; storage on
both databases."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest

from bot.core.access import Access, Actor
from bot.core.i18n import use_language
from bot.reports.access import MAX_LINK_USES, MAX_SOURCE, parse_campaign_arguments
from bot.reports.errors import (
    BadCampaignCommand,
    BadLinkUses,
    BadSource,
    SourceTaken,
    UnknownRound,
)
from bot.reports.model import Arrival, Cohort, History, Inputs
from bot.reports.service import ReportService
from bot.reports.snapshots import EVERYONE, Noise, dump_view, load_view, publish
from bot.reports.summary import Summary
from bot.reports.tables import build_tables
from bot.reports.text import plain, summary_lines
from bot.survey.errors import RoundClosed
from bot.survey.service import AskConsent, AskQuestion, ByInvitationOnly, SurveyService
from storage import Storage
from storage.backends import connect
from storage.migrations import apply_migrations, migration_files
from storage.reports import Reports
from tests.e2e import SHIPPED_SURVEY
from tests.factories import Clock
from tests.respondents import answers, complete
from tests.wiring import survey_service

THRESHOLD = 5
AT = datetime(2026, 12, 1, tzinfo=UTC)
ADMIN = Actor(900001, "Admin")
SURVEY = SHIPPED_SURVEY.id


def test_campaign_arguments_are_a_slug_and_a_number_of_people():
    assert parse_campaign_arguments([]).action == ""
    made = parse_campaign_arguments(["new", "Amman-Plenary", "60"])
    assert (made.action, made.source, made.uses) == ("new", "amman-plenary", 60)
    assert parse_campaign_arguments(["new", "city-network-newsletter"]).uses is None
    assert parse_campaign_arguments(["close", "amman-plenary"]).source == "amman-plenary"
    for source in ("-amman", "amman--x", "عمّان", "a_b", "a.b", "x" * (MAX_SOURCE + 1)):
        with pytest.raises(BadSource):
            parse_campaign_arguments(["new", source, "5"])
    for uses in ("0", "many", str(MAX_LINK_USES + 1), "-3"):
        with pytest.raises(BadLinkUses):
            parse_campaign_arguments(["new", "amman", uses])
    for wrong in (
        ["open", "amman"],
        ["new"],
        ["close", "amman", "5"],
        ["new", "a", "1", "2"],
        ["new", "a", "round=1", "round=2"],
        ["close", "a", "round=1"],
    ):
        with pytest.raises(BadCampaignCommand):
            parse_campaign_arguments(wrong)
    made = parse_campaign_arguments(["new", "amman", "round=2", "60"])
    assert (made.source, made.uses, made.round_id) == ("amman", 60, 2)
    assert parse_campaign_arguments(["new", "amman"]).round_id is None


def snapshot_view(cohorts: tuple[Cohort, ...]) -> Summary:
    """Everyone's view of a first snapshot of `cohorts`, as stored and read back."""
    inputs = Inputs(cohorts, (), (), {})
    snapshot = publish(SHIPPED_SURVEY, History(), inputs, THRESHOLD, Noise(b"k"), AT)
    stored = load_view(SHIPPED_SURVEY, dump_view(snapshot.views[EVERYONE]))
    assert stored == snapshot.views[EVERYONE]  # the sources are part of the stored snapshot
    return stored


def _sources_summary(cohorts: tuple[Cohort, ...]) -> list[str]:
    stored = snapshot_view(cohorts)
    with use_language("en"):
        text = plain(summary_lines(stored))
    return text.split("Respondents by source\n")[1].split("\n\n")[0].splitlines()


def test_sources_are_counted_with_noise_and_small_ones_are_hidden():
    """Amman 9, newsletter 6, Irbid 3, Zarqa 2, no link 7: Irbid and Zarqa together are 5,
    shown as one hidden line; the filtered views have no sources."""
    cells = [("jordan", "civil_society", "local"), ("iraq", "national_gov", "national")]
    counts = {"amman-plenary": 9, "newsletter": 6, "irbid": 3, "zarqa": 2, "": 7}
    cohorts = tuple(
        Cohort(*cells[i % 2], None, 1, source) for source, n in counts.items() for i in range(n)
    )
    lines = _sources_summary(cohorts)
    shown = {line.split(": ")[0].lstrip("• "): int(line.split(": ")[1]) for line in lines[:3]}
    assert set(shown) == {"amman-plenary", "newsletter", "without a link"}
    for source, count in shown.items():
        assert abs(count - counts["" if source == "without a link" else source]) <= 2
    assert re.fullmatch(r"• Groups of fewer than 5 each, together: \d", lines[3])
    assert "irbid" not in "\n".join(lines) and "zarqa" not in "\n".join(lines)
    with use_language("en"):
        table = build_tables([snapshot_view(cohorts)], THRESHOLD).csv.decode("utf-8-sig")
    assert re.search(
        r"^all respondents,all,Respondents by source,amman-plenary,\d+\r$", table, re.M
    )
    assert re.search(r"^all respondents,all,Respondents by source,\(hidden\),\d\r$", table, re.M)
    assert "irbid" not in table
    # only one small source: the next smallest is hidden with it (rule 2's complement)
    lines = _sources_summary(tuple(c for c in cohorts if c.source != "zarqa"))
    assert not any(line.startswith(("• irbid", "• newsletter")) for line in lines)


def test_without_any_campaign_link_there_is_no_sources_section():
    cohorts = tuple(Cohort("jordan", "civil_society", "local", None, 1) for _ in range(6))
    inputs = Inputs(cohorts, (), (), {})
    snapshot = publish(SHIPPED_SURVEY, History(), inputs, THRESHOLD, Noise(b"k"), AT)
    assert snapshot.views[EVERYONE].sources is None


# -- through the services, on both databases -----------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(AT)


@pytest.fixture
async def reports(storage: Storage, clock: Clock) -> ReportService:
    access = Access(storage.reports, storage.reports, {ADMIN.user_id})
    return await ReportService.start(
        storage.reports, SHIPPED_SURVEY, access, THRESHOLD, clock, invited_only=True
    )


@pytest.fixture
def survey(storage: Storage) -> SurveyService:
    return survey_service(storage, SHIPPED_SURVEY)


async def test_a_link_is_short_unguessable_and_only_its_hash_is_stored(reports, storage):
    code = await reports.access.create_link(ADMIN, SURVEY, "amman-plenary", 3)
    assert re.fullmatch(r"in-[A-Za-z0-9_-]{22}", code)  # 128 random bits, 25 of 64 characters
    rows = await storage.database.fetchall(
        "SELECT code_hash, survey_id, source, uses_left, round_id FROM campaign_links"
    )
    digest = hashlib.sha256(code.encode()).hexdigest()
    assert [tuple(r) for r in rows] == [(digest, SURVEY, "amman-plenary", 3, None)]
    with pytest.raises(SourceTaken):  # one open link per source
        await reports.access.create_link(ADMIN, SURVEY, "amman-plenary")
    assert await reports.access.close_link(ADMIN, SURVEY, "amman-plenary") == "amman-plenary"
    again = await reports.access.create_link(ADMIN, SURVEY, "amman-plenary")  # closed: reusable
    assert again != code
    audit = [(e.action, e.detail) for e in await storage.reports.recent(10)]
    assert audit == [  # newest first; the refused attempt is recorded too
        ("entry_link", "amman-plenary, no limit"),
        ("close_link", "amman-plenary"),
        ("entry_link", "amman-plenary, no limit"),
        ("entry_link", "amman-plenary, 3 uses"),
    ]


async def test_arrivals_use_up_links_and_closed_or_forged_ones_admit_nobody(reports, survey):
    code = await reports.access.create_link(ADMIN, SURVEY, "amman-plenary", 2)
    arrive = reports.access.arrive
    assert await arrive(100, code) == Arrival.ADMITTED
    assert await arrive(100, code) == Arrival.ADMITTED  # back again: uses nothing
    assert await arrive(101, code) == Arrival.ADMITTED
    assert await arrive(102, code) == Arrival.USED_UP
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert await arrive(103, forged) == Arrival.UNKNOWN
    assert await arrive(103, "in-made-up") == Arrival.UNKNOWN
    assert await arrive(103, "in-" + "x" * 200) == Arrival.UNKNOWN
    news = await reports.access.create_link(ADMIN, SURVEY, "newsletter")
    await complete(survey, 100, answers())
    [link] = [x for x in await reports.access.links(ADMIN, SURVEY) if x.source != "newsletter"]
    assert (link.arrivals, link.completions, link.uses_left, link.closed) == (2, 1, 0, False)
    await reports.access.close_link(ADMIN, SURVEY, link.key)  # the Close button's way
    assert await arrive(104, news) == Arrival.ADMITTED
    assert await arrive(101, code) == Arrival.CLOSED
    listed = await reports.access.links(ADMIN, SURVEY)
    assert [(x.source, x.closed) for x in listed] == [
        ("newsletter", False),
        ("amman-plenary", True),
    ]


async def test_the_response_keeps_the_source_of_the_latest_arrival(reports, survey, storage):
    """Arrived through Amman, then through the newsletter: the response says newsletter. The
    link's source is stored with the response, shown by /mydata, and erased by /delete."""
    amman = await reports.access.create_link(ADMIN, SURVEY, "amman-plenary")
    news = await reports.access.create_link(ADMIN, SURVEY, "newsletter")
    await reports.access.arrive(300, amman)
    await reports.access.arrive(300, news)
    await complete(survey, 300, answers())
    assert (await survey.my_data(300)).responses[-1].progress.source == "newsletter"
    await reports.access.close_link(ADMIN, SURVEY, "newsletter")  # closed after: still counts
    await complete(survey, 301, answers())  # no link
    assert (await survey.my_data(301)).responses[-1].progress.source is None
    assert await survey.delete_everything(300)
    rows = await storage.database.fetchall(
        "SELECT COUNT(*) FROM responses WHERE source IS NOT NULL"
        " UNION ALL SELECT COUNT(*) FROM users WHERE arrived_via IS NOT NULL"
    )
    assert [r[0] for r in rows] == [0, 0]


async def test_a_link_for_a_round_lands_in_it_and_a_closed_round_is_said(reports, survey, storage):
    """/campaign new SOURCE round=N: whoever comes through it answers round N, even when
    another round is open by then; once round N is closed they are told so."""
    at = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    first = await storage.rounds.add_round(SURVEY, "Before the Amman workshop", 1, at)
    with pytest.raises(UnknownRound):
        await reports.access.create_link(
            ADMIN, SURVEY, "amman-plenary", round_id=first.round_id + 5
        )
    plenary = await reports.access.create_link(
        ADMIN, SURVEY, "amman-plenary", round_id=first.round_id
    )
    await reports.access.arrive(300, plenary)
    await complete(survey, 300, answers())
    stored = await storage.database.fetchall("SELECT round_id, source FROM responses")
    assert [tuple(r) for r in stored] == [(first.round_id, "amman-plenary")]
    await storage.rounds.close_round(first.round_id, at)
    await storage.rounds.add_round(SURVEY, "Six months later", 1, at)
    await reports.access.arrive(301, plenary)
    await survey.choose_language(301, "en")
    with pytest.raises(RoundClosed):
        await survey.consent(301, agreed=True)
    links = await reports.access.links(ADMIN, SURVEY)
    assert [link.round_id for link in links] == [first.round_id]


async def test_only_responses_started_through_a_link_count_when_asked(reports, survey):
    """HIWAR_COUNT_ONLY_INVITED: five through links (two sources), three without."""
    amman = await reports.access.create_link(ADMIN, SURVEY, "amman-plenary", 5)
    for user_id in range(200, 205):
        assert await reports.access.arrive(user_id, amman) == Arrival.ADMITTED
    for user_id in range(200, 208):
        await complete(survey, user_id, answers())
    snapshot = await reports.publish_if_due()
    assert snapshot is not None and snapshot.population == 5
    sources = snapshot.views[EVERYONE].sources
    assert sources is not None and [s for s, _n in sources.rows] == ["amman-plenary"]


async def test_required_links_ask_only_those_who_came_through_one(reports, storage):
    """HIWAR_REQUIRE_LINK: without a link, the consent card is never shown and I agree
    starts nothing; with one, the survey starts; a link for another survey does not count."""
    required = SurveyService(
        storage.respondents, storage.inbox, storage, SHIPPED_SURVEY, require_link=True
    )
    assert isinstance(await required.choose_language(400, "en"), ByInvitationOnly)
    assert isinstance(await required.consent(400, agreed=True), ByInvitationOnly)
    assert (await required.my_data(400)).responses == ()
    other = await reports.access.create_link(ADMIN, "another_survey", "amman-plenary")
    await reports.access.arrive(400, other)
    assert isinstance(await required.begin(400, "en"), ByInvitationOnly)
    code = await reports.access.create_link(ADMIN, SURVEY, "amman-plenary")
    await reports.access.arrive(400, code)
    assert isinstance(await required.begin(400, "en"), AskConsent)
    assert isinstance(await required.consent(400, agreed=True), AskQuestion)


async def test_survey_invitation_links_become_campaign_links(database, tmp_path):
    """Migration 0016 on a database with 0014's links: such a link keeps working (source
    'entry-link', any survey) and the responses of people it admitted keep counting."""
    db = await connect(database)
    try:
        earlier = tmp_path / "migrations" / db.dialect.name
        earlier.mkdir(parents=True)
        for path in migration_files(db.dialect.name):
            if path.name < "0015":
                (earlier / path.name).write_text(path.read_text("utf-8"), "utf-8")
        await apply_migrations(db, earlier.parent)
        code = "in-" + "a" * 16
        digest, at = hashlib.sha256(code.encode()).hexdigest(), AT.isoformat()
        for sql in (
            f"INSERT INTO entry_links VALUES ('{digest}', 900001, '{at}', 3)",
            "INSERT INTO users (user_id, created_at, updated_at, admitted_at)"
            f" VALUES (500, '{at}', '{at}', '{at}')",
            "INSERT INTO responses (user_id, survey_id, survey_version, respondent_code, status,"
            f" started_at, updated_at) VALUES (500, '{SURVEY}', 1, 'R-1', 'completed', '{at}',"
            f" '{at}')",
        ):
            async with db.atomic() as tx:
                await tx.execute(sql)
        assert "0016_campaign_links" in await apply_migrations(db)
        rows = await db.fetchall("SELECT source, survey_id, uses_left FROM campaign_links")
        assert [tuple(r) for r in rows] == [("entry-link", None, 3)]
        assert [tuple(r) for r in await db.fetchall("SELECT source FROM responses")] == [
            ("entry-link",)
        ]
        assert await Reports(db).arrive(501, digest, AT) == Arrival.ADMITTED
    finally:
        await db.close()
