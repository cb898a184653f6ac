"""Coordinator reports without Telegram: roles, aggregation, privacy rules, exports, charts."""

from __future__ import annotations

import csv
import io
import re
import struct
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from openpyxl import load_workbook

from bot.core.access import Access, Actor, Role, first_broken
from bot.core.errors import NotACoordinator, NotAnAdmin
from bot.core.i18n import RLM, use_language
from bot.reports import charts, text
from bot.reports.access import AwaitingConfirmation
from bot.reports.errors import (
    AlreadyStaff,
    FilterSuppressed,
    GrantExpired,
    GrantUnknown,
    GrantUsed,
    TooFewComments,
    TooFewResponses,
    UnknownCoordinator,
    UnknownFilter,
)
from bot.reports.filters import parse_filter
from bot.reports.model import Cell, Filter, Tally
from bot.reports.privacy import Disclosure, hidden_cells
from bot.reports.scoring import Agreement
from bot.reports.service import ReportService
from bot.reports.summary import BarrierResult, ReleasePlan, build_summary
from bot.survey.model import ReportRole
from bot.survey.service import SurveyService
from storage import Storage
from tests.e2e import SHIPPED_SURVEY
from tests.factories import Clock
from tests.respondents import BARRIERS, answers, column_name, complete
from tests.wiring import survey_service

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
ADMIN = Actor(900_001, "Hiwar admin")
NOUR = Actor(2001, "Nour")  # the national P/CVE coordinator in Amman
STRANGER = Actor(3001, "Sami")  # a respondent who tries a coordinator command
THRESHOLD = 5


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def reports(storage: Storage, clock: Clock) -> ReportService:
    access = Access(storage.reports, storage.reports, {ADMIN.user_id}, clock)
    return await ReportService.start(storage.reports, SHIPPED_SURVEY, access, THRESHOLD, clock)


@pytest.fixture
def survey(storage: Storage) -> SurveyService:
    return survey_service(storage, SHIPPED_SURVEY, clock=lambda: NOW)


Respond = Callable[..., Awaitable[None]]


@pytest.fixture
def respond(survey: SurveyService) -> Respond:
    """respond(count, **answers): `count` more respondents complete the survey alike."""
    next_id = iter(range(10_000, 20_000))

    async def add(count: int, **given: object) -> None:
        for user_id in [next(next_id) for _number in range(count)]:
            await complete(survey, user_id, answers(**given))  # type: ignore[arg-type]

    return add


async def coordinator(reports: ReportService, actor: Actor = NOUR) -> None:
    issued = await reports.access.grant(ADMIN, actor.user_id)
    await reports.access.redeem(actor, issued.code)


# -- roles, grants, audit -------------------------------------------------------------------


async def test_a_grant_link_makes_a_coordinator_once(reports):
    issued = await reports.access.grant(ADMIN, NOUR.user_id)
    assert re.fullmatch(r"grant-[A-Za-z0-9_-]{24}", issued.code)
    assert issued.expires_at == NOW + timedelta(hours=24)
    with pytest.raises(GrantUnknown):  # somebody else's link
        await reports.access.redeem(STRANGER, issued.code)
    await reports.access.redeem(NOUR, issued.code)
    assert (await reports.access.roles(ADMIN)).coordinators[0].user_id == NOUR.user_id
    with pytest.raises(GrantUsed):
        await reports.access.redeem(Actor(2002, "Other"), issued.code)
    with pytest.raises(GrantUnknown):
        await reports.access.redeem(STRANGER, "grant-madeupmadeupmadeupmadeup")


async def test_a_grant_expires_after_24_hours(reports, clock):
    issued = await reports.access.grant(ADMIN)
    clock.now = NOW + timedelta(hours=24)
    with pytest.raises(GrantExpired):
        await reports.access.redeem(NOUR, issued.code)


async def test_staff_opening_a_link_leave_it_unused(reports):
    issued = await reports.access.grant(ADMIN)
    with pytest.raises(AlreadyStaff):
        await reports.access.redeem(ADMIN, issued.code)
    assert len((await reports.access.roles(ADMIN)).pending) == 1


async def test_an_unbound_link_waits_for_the_admin_and_can_be_cancelled(reports):
    """Grant links were bearer tokens: whoever opened one first became a coordinator; an
    unused link could not be cancelled and outlived its issuer's role."""
    issued = await reports.access.grant(ADMIN)
    waiting = await reports.access.redeem(STRANGER, issued.code)
    assert isinstance(waiting, AwaitingConfirmation) and waiting.opener == STRANGER
    assert not (await reports.access.roles(ADMIN)).coordinators  # nothing until confirmed
    with pytest.raises(GrantUsed):  # someone else opening it next gets nothing
        await reports.access.redeem(NOUR, issued.code)
    refused = await reports.access.confirm(ADMIN, waiting.grant.key, STRANGER.user_id, False)
    assert refused.coordinator is None
    with pytest.raises(GrantUnknown):
        await reports.access.redeem(STRANGER, issued.code)  # cancelled by the refusal

    second = await reports.access.grant(ADMIN)
    waiting = await reports.access.redeem(NOUR, second.code)
    made = await reports.access.confirm(ADMIN, waiting.grant.key, NOUR.user_id, True)
    assert made.coordinator is not None and made.coordinator.user_id == NOUR.user_id

    third = await reports.access.grant(ADMIN)
    [pending] = (await reports.access.roles(ADMIN)).pending
    await reports.access.cancel(ADMIN, pending.key)
    with pytest.raises(GrantUnknown):
        await reports.access.redeem(Actor(2003, "Late"), third.code)


async def test_a_link_dies_with_its_issuers_role(storage, clock):
    """The issuer's role is checked again when the link is opened."""
    was_admin = Access(storage.reports, storage.reports, {ADMIN.user_id}, clock)
    issuing = await ReportService.start(
        storage.reports, SHIPPED_SURVEY, was_admin, THRESHOLD, clock
    )
    issued = await issuing.access.grant(ADMIN, NOUR.user_id)
    no_longer = Access(storage.reports, storage.reports, set(), clock)  # removed from the list
    later = await ReportService.start(storage.reports, SHIPPED_SURVEY, no_longer, THRESHOLD, clock)
    with pytest.raises(GrantUnknown):
        await later.access.redeem(NOUR, issued.code)


async def test_only_admins_manage_roles(reports):
    await coordinator(reports)
    for action in (
        lambda actor: reports.access.grant(actor),
        lambda actor: reports.access.revoke(actor, NOUR.user_id),
        lambda actor: reports.access.roles(actor),
        lambda actor: reports.access.audit(actor),
        lambda actor: reports.export(actor),
    ):
        for actor in (NOUR, STRANGER):
            with pytest.raises(NotAnAdmin):
                await action(actor)


async def test_revoked_coordinator_loses_access_at_once(reports, respond):
    await respond(5)
    await coordinator(reports)
    await reports.summary(NOUR)
    assert (await reports.access.revoke(ADMIN, NOUR.user_id)).name == "Nour"
    with pytest.raises(NotACoordinator):
        await reports.summary(NOUR)
    with pytest.raises(UnknownCoordinator):
        await reports.access.revoke(ADMIN, NOUR.user_id)


async def test_refusals_touch_no_data_and_every_staff_action_is_audited(reports):
    for attempt in (
        reports.summary(STRANGER),
        reports.charts(STRANGER),
        reports.comments(STRANGER, "one_step"),
        reports.comment_questions(STRANGER),
        reports.filters(STRANGER, ReportRole.COUNTRY),
        reports.help(STRANGER),
    ):
        with pytest.raises(NotACoordinator):
            await attempt
    await coordinator(reports)
    with pytest.raises(TooFewResponses):
        await reports.summary(NOUR, "country=jordan")
    entries = (await reports.access.audit(ADMIN)).entries
    assert [(e.actor_id, e.role, e.action, e.detail) for e in entries] == [
        (ADMIN.user_id, Role.ADMIN, "audit", "page 1"),
        (NOUR.user_id, Role.COORDINATOR, "summary", "country=jordan"),
        (NOUR.user_id, Role.COORDINATOR, "joined", f"by {ADMIN.user_id}"),
        (ADMIN.user_id, Role.ADMIN, "grant", f"for {NOUR.user_id}"),
    ]
    assert STRANGER.user_id not in {e.actor_id for e in entries}


# -- the tallies ----------------------------------------------------------------------------


async def test_triggers_keep_the_tallies_equal_to_a_recount(reports, respond, survey, storage):
    await respond(3, sector="law_enforcement", level="local", scale=5, formats=["workshops"])
    await respond(2, sector="civil_society", level="national", country=None, scale=2)
    await complete(survey, 1, answers(level="community", barrier_channels=5, missing_channel="x"))
    await survey.delete_everything(10_001)
    db = storage.reports
    for only in (None, Filter(ReportRole.LEVEL, "local"), Filter(ReportRole.COUNTRY, "jordan")):
        assert sorted(await db.tallies("pcve-cooperation", only)) == sorted(
            await db.raw_aggregates("pcve-cooperation", only)
        )
    cells = {
        (c.country, c.sector, c.level): c.respondents for c in await db.cells("pcve-cooperation")
    }
    assert cells == {
        ("jordan", "law_enforcement", "local"): 2,
        ("", "civil_society", "national"): 2,
        ("jordan", "civil_society", "community"): 1,
    }


async def test_changed_report_roles_recount_from_the_answers(storage, respond, reports):
    await respond(6)
    db = storage.reports
    await db.sync_questions("pcve-cooperation", {"level": "level"})
    assert {t.question_id for t in await db.tallies("pcve-cooperation", None)} == set()
    again = await ReportService.start(db, SHIPPED_SURVEY, Access(db, db, set()), THRESHOLD)
    assert (await again.build_summary()).respondents == 6


# -- the summary ----------------------------------------------------------------------------


async def test_summary_ranks_barriers_and_puts_the_largest_gap_first(reports, respond):
    local_view = {"barrier_goals": 5, "barrier_channels": 4, "barrier_security": 3}
    national_view = {"barrier_goals": 1, "barrier_channels": 4, "barrier_security": 4}
    await respond(5, level="local", scale=local_view, priorities=("inclusion", "funding"))
    await respond(3, level="national", scale=national_view, formats=["workshops"], invitations="no")
    national_view["barrier_security"] = 2
    await respond(2, level="national", scale=national_view, formats=["workshops"], invitations="no")
    summary = await reports.build_summary()
    assert (summary.respondents, summary.sides, summary.in_progress) == (10, (5, 5), 0)
    first = summary.barriers[0]
    assert first.question.id == "barrier_channels"
    assert (first.overall.share, first.overall.mean) == (1.0, 4.0)
    gaps = [(b.question.id, b.gap) for b in summary.gaps]
    assert gaps[0] == ("barrier_goals", 1.0)
    assert gaps[1] == ("barrier_security", -0.6)
    goals = summary.gaps[0]
    assert (goals.local.mean, goals.national.mean) == (5.0, 1.0)
    priorities = [
        (c.option.id, c.respondents, c.share) for c in summary.priorities[0].choices if c.respondents
    ]
    assert priorities == [
        ("inclusion", 10, 1.0),
        ("funding", 5, 0.5),
        ("coordination", 5, 0.5),
    ]
    formats = summary.formats[0].choices
    assert [(c.option.id, c.respondents) for c in formats if c.respondents] == [("workshops", 5)]
    assert summary.invitations == 5


async def test_summary_scores_reversed_statements_and_leaves_dont_know_out(reports, respond):
    """Issue #15, with known data. "There is mutual trust" (barrier_trust) is worded the
    other way round: strongly disagreeing (1) scores 5, agreeing (4) scores 2. "Don't know"
    (0) is counted apart and is in no share, mean or threshold."""
    await respond(3, level="local", scale={"barrier_trust": 1, "barrier_goals": 4})
    await respond(2, level="community", scale={"barrier_trust": 1, "barrier_goals": 0})
    await respond(5, level="national", scale={"barrier_trust": 4, "barrier_goals": 2})
    summary = await reports.build_summary()
    by_id = {b.question.id: b for b in summary.barriers}
    trust, goals = by_id["barrier_trust"], by_id["barrier_goals"]
    assert trust.overall is not None and trust.local is not None and trust.national is not None
    assert (trust.overall.answered, trust.overall.share, trust.overall.mean) == (10, 0.5, 3.5)
    assert (trust.local.share, trust.local.mean) == (1.0, 5.0)
    assert (trust.national.share, trust.national.mean) == (0.0, 2.0)
    assert trust.gap == 1.0  # local respondents see the barrier more
    assert summary.gaps[0] is trust
    assert goals.overall is not None
    assert (goals.overall.answered, goals.overall.dont_know) == (8, 2)
    assert (goals.overall.share, goals.overall.mean) == (3 / 8, (3 * 4 + 5 * 2) / 8)
    assert goals.local is None  # 3 local views: below the threshold once "don't know" is out
    assert goals.gap is None
    lines = text.plain(text.summary_lines(summary))
    # Means to the nearest half below 4k answers (issue #12): 2.75 is shown as 3.0.
    assert "• No shared goals: 38% agree, mean 3.0; 2 don’t know" in lines
    assert "• Little national–local trust: 50% agree, mean 3.5\n" in lines
    assert (
        "Little national–local trust: local nearly all, national almost none; local "
        "respondents agree more"
    ) in lines
    with use_language("ar"):
        arabic = text.plain(text.summary_lines(summary))
    assert "ويوافق المشاركون من المستوى المحلي أكثر بفارق 100 نقطة مئوية" in arabic
    assert "وأجاب مشاركان بـ«لا أعرف»" in arabic


def test_a_gap_that_rounds_away_says_there_is_no_difference():
    """Issue #15: "local respondents agree more, by 0 points" when the shown shares are equal;
    and the difference is that of the percentages shown."""
    question = SHIPPED_SURVEY.question("barrier_goals")
    local, national = Agreement(1000, 504, 3000), Agreement(1000, 496, 3000)
    line = text.plain([text._gap_line(BarrierResult(question, local, local, national))])
    assert line.endswith("local 50%, national 50%; no difference")
    local = Agreement(1000, 506, 3000)  # 51% against 50%: one point, as shown
    line = text.plain([text._gap_line(BarrierResult(question, local, local, national))])
    assert line.endswith("local 51%, national 50%; local respondents agree more, by 1 point")
    with use_language("ar"):
        arabic = text.plain([text._gap_line(BarrierResult(question, national, local, national))])
    assert "ويوافق المشاركون من المستوى المحلي أكثر بفارق نقطة مئوية واحدة" in arabic


@pytest.mark.parametrize(("completed", "shown"), [(4, False), (5, True), (6, True)])
async def test_nothing_is_shown_below_the_threshold(reports, respond, completed, shown):
    await respond(completed)
    if shown:
        assert (await reports.build_summary()).respondents == completed
    else:
        with pytest.raises(TooFewResponses):
            await reports.build_summary()


@pytest.mark.parametrize(("national", "compared"), [(4, False), (5, True), (6, True)])
async def test_the_gap_needs_both_sides_at_the_threshold(reports, respond, national, compared):
    await respond(6, level="local")
    await respond(national, level="national")
    summary = await reports.build_summary()
    assert (summary.sides is not None) is compared
    assert all((b.gap is not None) is compared for b in summary.barriers)


@pytest.mark.parametrize(("international", "compared"), [(0, True), (2, False), (5, True)])
async def test_the_gap_is_hidden_when_the_rest_could_be_subtracted(
    reports, respond, international, compared
):
    """Everyone minus local minus national would be the regional/international respondents."""
    await respond(6, level="local")
    await respond(6, level="national")
    await respond(international, level="international")
    assert ((await reports.build_summary()).sides is not None) is compared


@pytest.mark.parametrize(
    ("jordan", "others", "offered"), [(4, 6, False), (5, 5, True), (6, 4, False)]
)
async def test_a_filter_needs_its_group_and_the_rest_at_the_threshold(
    reports, respond, jordan, others, offered
):
    await coordinator(reports)
    await respond(jordan, country="jordan")
    await respond(others, country="iraq")
    jordan_filter = Filter(ReportRole.COUNTRY, "jordan")
    if offered:
        summary = await reports.summary(NOUR, "country=jordan")
        assert summary.only == jordan_filter
        assert abs(summary.respondents - jordan) <= 2  # the snapshot's noise
    else:
        with pytest.raises(FilterSuppressed):
            await reports.summary(NOUR, "country=jordan")
    assert (jordan_filter in await reports.filters(NOUR, ReportRole.COUNTRY)) is offered


async def test_sibling_filters_cannot_add_up_to_a_small_rest(reports, respond):
    """Everyone minus Jordan minus Iraq would be the two Lebanese respondents."""
    await coordinator(reports)
    await respond(6, country="jordan")
    await respond(6, country="iraq")
    await respond(2, country="lebanon")
    offered = await reports.filters(NOUR, ReportRole.COUNTRY)
    assert offered == [Filter(ReportRole.COUNTRY, "jordan")]


async def test_filters_from_two_dimensions_cannot_isolate_their_overlap(reports, respond):
    """Everyone is Jordanian or police, so Jordan + police - everyone = the 2 Jordanian police."""
    await coordinator(reports)
    await respond(2, country="jordan", sector="law_enforcement")
    await respond(6, country="jordan", sector="civil_society")
    await respond(6, country="iraq", sector="law_enforcement")
    jordan = Filter(ReportRole.COUNTRY, "jordan")
    police = Filter(ReportRole.SECTOR, "law_enforcement")
    offered = {
        *await reports.filters(NOUR, ReportRole.COUNTRY),
        *await reports.filters(NOUR, ReportRole.SECTOR),
    }
    assert len(offered & {jordan, police}) == 1


async def test_a_filtered_summary_counts_only_its_group(reports, respond, survey):
    await respond(5, country="jordan", level="local", scale=5)
    await respond(5, country="jordan", level="national", scale=1)
    await respond(10, country="iraq", level="local", scale=3)
    await survey.choose_language(1, "en")
    await survey.consent(1, agreed=True)
    await survey.answer_button(1, "sector", "academia", None)
    await survey.answer_button(1, "level", "local", None)
    await survey.answer_button(1, "country", "jordan", None)
    jordan = await reports.build_summary(parse_filter(SHIPPED_SURVEY, "الأردن"))
    assert (jordan.respondents, jordan.sides) == (10, (5, 5))
    assert jordan.in_progress is None  # one response under way: below the threshold
    # Local respondents strongly agreed with every statement and national ones strongly
    # disagreed: local respondents see every barrier worded as present, national ones every
    # barrier worded the other way round.
    assert len(jordan.gaps) == len(BARRIERS)
    assert all(b.gap == (-1.0 if b.question.reversed else 1.0) for b in jordan.gaps)
    assert [b.question.id for b in jordan.breakdowns] == ["sector", "level"]
    everyone = await reports.build_summary()
    assert (everyone.respondents, everyone.in_progress) == (20, None)


async def test_deleted_respondents_leave_every_summary(reports, respond, survey):
    await respond(6)
    assert (await reports.build_summary()).respondents == 6
    await survey.delete_everything(10_000)
    assert (await reports.build_summary()).respondents == 5
    await survey.delete_everything(10_001)
    with pytest.raises(TooFewResponses):
        await reports.build_summary()


def test_breakdowns_hide_small_cells_and_enough_others_to_stop_subtraction():
    counts = {"a": 10, "b": 3, "c": 6, "d": 0}
    assert hidden_cells(counts, 5) == {"b", "c"}
    assert hidden_cells({"a": 10, "b": 3, "c": 4}, 5) == {"b", "c"}
    assert hidden_cells({"a": 10, "b": 5}, 5) == set()
    # A side subtotal is shown too: within it, the hidden cells must also reach 5.
    assert hidden_cells({"x": 9, "y": 2, "z": 30}, 5, [["x", "y"]]) == {"x", "y"}


def test_disclosure_refuses_any_combination_that_isolates_a_small_atom():
    # Cells: 0 = Jordanian police (2), 1 = other Jordanians (6), 2 = Iraqi police (6).
    disclosure = Disclosure([2, 6, 6], threshold=5)
    assert disclosure.release({0, 1, 2})
    assert disclosure.release({0, 1})  # Jordan: everyone minus it is 6 Iraqi police
    assert not disclosure.release({0, 2})  # police: Jordan + police - everyone = 2
    assert disclosure.release(set())


def test_filters_are_read_by_id_or_label_in_either_language():
    survey = SHIPPED_SURVEY
    jordan = Filter(ReportRole.COUNTRY, "jordan")
    for written in ("country=jordan", "jordan", " Jordan ", "الأردن", "COUNTRY = jordan"):
        assert parse_filter(survey, written) == jordan
    assert parse_filter(survey, "") is None
    for wrong in ("other", "international", "sector=jordan", "atlantis"):  # ambiguous or unknown
        with pytest.raises(UnknownFilter):
            parse_filter(survey, wrong)
    assert parse_filter(survey, "level=community") == Filter(ReportRole.LEVEL, "community")


# -- free text ------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "shown"), [(4, False), (5, True)])
async def test_comments_need_the_threshold_and_carry_nothing_identifying(
    reports, respond, written, shown
):
    await coordinator(reports)
    for index in range(written):
        await respond(1, one_step=f"{'zyxwv'[index]} step")
    await respond(1)
    if not shown:
        with pytest.raises(TooFewComments):
            await reports.comments(NOUR, "one_step")
        return
    page = await reports.comments(NOUR, "one_step")
    assert page.comments == ("v step", "w step", "x step", "y step", "z step")
    assert (page.page, page.pages, page.answers) == (1, 1, 5)


async def test_long_comments_come_in_pages(reports, respond):
    await coordinator(reports)
    for index in range(8):
        await respond(1, one_step=f"{index} " + "word " * 180)
    first = await reports.comments(NOUR, "one_step")
    assert first.pages > 1
    pages = [await reports.comments(NOUR, "one_step", n) for n in range(1, first.pages + 1)]
    assert sum(len(p.comments) for p in pages) == 8
    with use_language("en"):
        assert all(len("\n".join(text.comments_lines(p))) < 4096 for p in pages)


# -- export ---------------------------------------------------------------------------------


RARE_PROFILES = (
    ("civil_society", "national", "lebanon"),
    ("law_enforcement", "community", "iraq"),
    ("private_sector", "international", "jordan"),
    ("local_gov", "local", "lebanon"),
)
"""Four profiles of one respondent each: with the Iraqi academic, five hidden rows."""


async def test_rows_hidden_together_are_never_fewer_than_k(reports, respond):
    """Attack 4: the lone hidden row (a police officer) was one filtered summary minus the
    visible rows of that filter. Fewer than k hidden rows now take the smallest visible
    profile with them."""
    await respond(5, sector="frontline", level="local", country="jordan")
    await respond(6, sector="civil_society", level="local", country="iraq")
    await respond(1, sector="law_enforcement", level="local", country="jordan")
    with use_language("en"):
        files = await reports.export(ADMIN)
    table = list(csv.reader(io.StringIO(files.csv.decode("utf-8-sig"))))[1:]
    hidden = [row for row in table if row[1] == "(hidden)"]
    assert len(hidden) == 6  # the officer and the five front-line workers
    assert all(row[1:4] == ["(hidden)"] * 3 for row in hidden)
    assert sum(row[3] == "Iraq" for row in table) == 6


async def test_export_reads_back_cell_by_cell_in_both_formats(reports, respond, storage):
    await coordinator(reports)
    await respond(5, sector="frontline", level="local", country="jordan", scale=4)
    await respond(
        1,
        sector="academia",
        level="national",
        country="iraq",
        scale=2,
        formats=["online"],
        barrier_families=0,  # don't know
    )
    for sector, level, country in RARE_PROFILES:
        await respond(1, sector=sector, level=level, country=country, scale=3)
    with use_language("ar"):
        files = await reports.export(ADMIN)
    assert files.respondents == 10
    assert files.csv.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(files.csv.decode("utf-8-sig"))))
    workbook = load_workbook(io.BytesIO(files.xlsx))
    assert workbook.sheetnames == ["الردود", "دليل الترميز"]
    sheet = [[cell.value for cell in row] for row in workbook["الردود"].iter_rows()]
    header = table[0]

    def name(question_id: str, option_id: str = "") -> str:
        return column_name(SHIPPED_SURVEY, question_id, "ar", option_id)

    def label(question_id: str, option_id: str) -> str:
        option = SHIPPED_SURVEY.question(question_id).option(option_id)
        assert option is not None
        return option.label.ar

    assert header[:4] == ["رمز المشارك", name("sector"), name("level"), name("country")]
    assert not any(name("grievances") in h for h in header)  # free text stays out
    stored = {
        row[0] for row in await storage.database.fetchall("SELECT respondent_code FROM responses")
    }
    codes = [row[0] for row in table[1:]]
    assert codes == sorted(set(codes)) and not stored & set(codes)  # fresh, unique, sorted
    assert all(re.fullmatch(r"X-[0-9A-F]{8}", code) for code in codes)
    column = {title: index for index, title in enumerate(header)}
    goals, online = column[name("barrier_goals")], column[name("formats", "online")]
    trust, families = column[name("barrier_trust")], column[name("barrier_families")]
    hidden = "(محجوب)"
    for csv_row, xlsx_row in zip(table[1:], sheet[1:], strict=True):
        assert [str(v) if v is not None else "" for v in xlsx_row] == csv_row
        # "There is mutual trust" is reverse-coded: 6 minus the answer given.
        assert xlsx_row[trust] == 6 - xlsx_row[goals]
        if xlsx_row[goals] == 4:
            assert xlsx_row[families] == 6 - 4
            assert xlsx_row[1:4] == [
                label("sector", "frontline"),
                label("level", "local"),
                label("country", "jordan"),
            ]
            assert xlsx_row[online] is None  # formats skipped: empty, not 0
        else:  # a profile of one (the academic from Iraq, say): hidden
            if xlsx_row[goals] == 2:
                assert xlsx_row[online] == 1
                assert xlsx_row[families] == "(لا أعرف)"  # text: spreadsheet means leave it out
            assert xlsx_row[1:4] == [hidden, hidden, hidden]
    assert sheet[0] == header
    codebook = [[c.value for c in row] for row in workbook["دليل الترميز"].iter_rows()]
    assert codebook[0] == ["العمود", "السؤال", "القيم"]
    assert [row[0] for row in codebook[1 : len(header) + 1]] == header
    coding = {row[0]: row[2] for row in codebook[1 : len(header) + 1]}
    assert coding[name("barrier_trust")].startswith("ترميز معكوس: ")
    assert "6 ناقص الإجابة" in coding[name("barrier_trust")]
    assert coding[name("barrier_goals")].startswith("1 = لا أوافق بشدة")
    for barrier in (name("barrier_trust"), name("barrier_goals")):
        assert "«(لا أعرف)» = لا أعرف أو لا ينطبق" in coding[barrier]
    assert coding[name("done_funding")].startswith("1 = بشكل سيئ جدًا")
    assert workbook["الردود"].sheet_view.rightToLeft
    assert not any(str(ADMIN.user_id) in " ".join(map(str, row)) for row in table)


async def test_exports_cannot_be_matched_row_by_row_and_numbers_are_banded(reports, respond):
    """The set difference of two exports was the complete row of whoever finished in
    between, and exact years made 19 of 24 rows unique."""
    await respond(5, sector="frontline", level="local", country="jordan", years=7)
    await respond(5, sector="frontline", level="local", country="jordan", years=23)
    first, second = await reports.export(ADMIN), await reports.export(ADMIN)
    one, two = (
        list(csv.reader(io.StringIO(files.csv.decode("utf-8-sig")))) for files in (first, second)
    )
    assert not {row[0] for row in one[1:]} & {row[0] for row in two[1:]}
    years = one[0].index(column_name(SHIPPED_SURVEY, "years", "en"))
    assert sorted(row[years] for row in one[1:]) == ["20–29"] * 5 + ["5–9"] * 5


async def test_export_never_contains_telegram_ids_or_names(reports, respond, storage):
    await coordinator(reports)
    await respond(5)
    files = await reports.export(ADMIN)
    user_ids = [row[0] for row in await storage.database.fetchall("SELECT user_id FROM users")]
    content = files.csv.decode("utf-8-sig")
    assert not any(re.search(rf"\b{user_id}\b", content) for user_id in user_ids)


# -- rendering ------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_charts_are_png_images_in_both_languages(reports, respond, language):
    await coordinator(reports)
    await respond(5, level="local", scale=5)
    await respond(5, level="national", scale=2)
    with use_language(language):
        images = await reports.charts(NOUR)
    assert [image.filename for image in images] == ["barriers.png", "priorities.png"]
    for image in images:
        width, height = _png_size(image.png)
        assert width == 1200 and 300 < height < 2000


def _ink_runs(text_to_draw: str) -> list[int]:
    """Widths of the runs of ink, left to right, of one line drawn like a chart label."""
    figure = Figure(figsize=(6, 1), dpi=100)
    canvas = FigureCanvasAgg(figure)
    figure.text(0.02, 0.4, text_to_draw, fontsize=20, family=charts.FONT)
    canvas.draw()
    width, height = canvas.get_width_height()
    pixels = bytes(canvas.buffer_rgba())
    inked = [any(pixels[(y * width + x) * 4] < 128 for y in range(height)) for x in range(width)]
    runs, start = [], None
    for x, dark in enumerate([*inked, False]):
        if dark and start is None:
            start = x
        gap = not any(inked[x : x + 6])
        if start is not None and gap:
            runs.append(x - start)
            start = None
    return runs


def test_arabic_in_charts_reads_right_to_left():
    """Regression: shaping and reordering Arabic before matplotlib 3.11 (which does both
    itself) drew every Arabic label back to front. The first word must end up on the right."""
    with use_language("ar"):
        shown = charts._shown("من بببببببببببب")
    short, long = sorted(_ink_runs(shown))
    assert _ink_runs(shown) == [long, short]


def test_summary_lines_keep_arabic_right_to_left():
    """Every Arabic line must start right to left: an Arabic letter or an RLM comes first."""
    summary_lines = _rendered_summary("ar")
    for line in summary_lines:
        body = re.sub(r"</?[bi]>|[•\s\u2068\u2069]", "", line)
        if body:
            assert body.startswith(RLM) or re.match(r"[\u0600-\u06FF]", body), line


def _rendered_summary(language: str) -> list[str]:
    cells = [
        Cell("jordan", "civil_society", "local", 6),
        Cell("iraq", "national_gov", "national", 6),
    ]
    tallies = [Tally(b, "4", level, 6) for b in BARRIERS for level in ("local", "national")]
    tallies += [
        Tally("priorities", "inclusion", "local", 6),
        Tally("invitations", "yes", "local", 3),
    ]
    plan = ReleasePlan(SHIPPED_SURVEY, cells, THRESHOLD)
    summary = build_summary(SHIPPED_SURVEY, plan, tallies, 2, THRESHOLD)
    with use_language(language):
        return text.summary_lines(summary)


async def test_the_audit_log_is_a_chain_that_shows_any_change(reports, storage):
    """Entries were plain rows: one could be altered or removed unseen."""
    await coordinator(reports)
    for _ in range(3):
        await reports.help(NOUR)
    assert (await reports.access.audit(ADMIN)).broken_at is None
    chain = await storage.reports.audit_chain()
    third = chain[2][0]
    await storage.database.fetchall(
        f"UPDATE audit_log SET detail = 'nothing to see' WHERE entry_id = {third} RETURNING 1"
    )
    assert (await reports.access.audit(ADMIN)).broken_at == third
    await storage.database.fetchall(
        f"UPDATE audit_log SET detail = '' WHERE entry_id = {third} RETURNING 1"
    )
    assert first_broken(await storage.reports.audit_chain()) is None  # as it was
    await storage.database.fetchall(f"DELETE FROM audit_log WHERE entry_id = {third} RETURNING 1")
    assert first_broken(await storage.reports.audit_chain()) == third + 1


async def test_the_audit_log_is_read_a_page_at_a_time(reports):
    """Only the newest 30 entries were shown: 35 quick /reports hid the rest."""
    for _ in range(35):
        await reports.help(ADMIN)
    first = await reports.access.audit(ADMIN)
    assert (first.page, first.pages, len(first.entries)) == (1, 2, 30)
    second = await reports.access.audit(ADMIN, 2)
    assert len(second.entries) == 7  # 35 + two looks at the log
    assert first.entries[0].action == "audit" and second.entries[-1].action == "help"
