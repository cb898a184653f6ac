"""Coordinator use cases: each checks the role, writes the audit log, then reports.

Handlers pass plain values (who, what they typed) and render what comes back; charts and
exports are rendered here in a worker thread, in the current language.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core.access import Access, Action, Actor, Role
from bot.core.clock import Clock, utc_now
from bot.core.text import one_line
from bot.reports import charts, export
from bot.reports.access import AccessControl
from bot.reports.actions import (
    CHANGE,
    CHART,
    COMMENTS,
    EXPORT,
    FILTERS,
    HELP,
    SUMMARY,
    TABLES,
)
from bot.reports.change import ChangeView, compare
from bot.reports.errors import (
    FilterSuppressed,
    NothingToCompare,
    OtherSurvey,
    OutsideScope,
    TooFewComments,
    TooFewResponses,
    UnknownQuestion,
    UnknownRound,
)
from bot.reports.filters import all_filters, filter_option, parse_filter, split_rounds
from bot.reports.model import EVERYWHERE, Counted, Filter, ReportRound, Scope
from bot.reports.ports import ReportStore
from bot.reports.scopes import scoped_comments
from bot.reports.snapshots import EVERYONE, Noise, Snapshot, dump_view, load_view, publish
from bot.reports.summary import ReleasePlan, Summary, build_summary
from bot.reports.tables import build_tables
from bot.survey.model import Question, ReportRole, Survey

logger = logging.getLogger(__name__)

PUBLISH_WAIT = 3.0
"""Seconds a look waits for a snapshot being published before showing the previous one (a
large history can take longer to check; publishing then carries on in the background)."""

COMMENTS_PAGE_CHARACTERS = 3000
"""Free-text answers per page, in characters (a page then fits in one Telegram message)."""


@dataclass(frozen=True, slots=True)
class CommentQuestion:
    question: Question
    answers: int | None
    """None: fewer than the threshold, so the answers cannot be shown."""


@dataclass(frozen=True, slots=True)
class CommentsPage:
    question: Question
    comments: tuple[str, ...]
    page: int
    """1-based."""
    pages: int
    answers: int
    threshold: int
    published_at: datetime | None


def tally_roles(survey: Survey) -> dict[str, str]:
    """What each question is to the report tallies (storage/migrations/0002)."""
    roles = {
        ReportRole.COUNTRY: "country",
        ReportRole.SECTOR: "sector",
        ReportRole.LEVEL: "level",
        ReportRole.BARRIER: "tally",
        ReportRole.PRIORITY: "tally",
        ReportRole.FORMATS: "tally",
        ReportRole.INVITATIONS: "tally",
    }
    return {q.id: roles[q.report] for q in survey.questions if q.report in roles}


class ReportService:
    def __init__(
        self,
        store: ReportStore,
        survey: Survey,
        access: Access,
        threshold: int,
        clock: Clock = utc_now,
        snapshot_interval: timedelta = timedelta(0),
        invited_only: bool = False,
    ) -> None:
        """`invited_only`: only responses started through a campaign link count
        (HIWAR_COUNT_ONLY_INVITED, HIWAR_REQUIRE_LINK)."""
        self._store = store
        self.survey = survey
        self.threshold = threshold
        self._access = access
        self._authorize = access.authorize
        self.access = AccessControl(store, access, clock, survey)
        self._clock = clock
        self._interval = snapshot_interval
        self._counted = Counted(tuple(sorted(access.admins)), invited_only)
        """At least this long between two snapshots (0: as soon as k responses changed)."""
        self._plan: ReleasePlan | None = None
        self._views: dict[int, tuple[int, dict[str, Summary]]] = {}
        """Per round, the latest snapshot read back: its number and its views."""
        self._publishing: asyncio.Task[Snapshot | None] | None = None
        """This instance's publication under way, if any (the database decides the rest)."""

    @classmethod
    async def start(
        cls,
        store: ReportStore,
        survey: Survey,
        access: Access,
        threshold: int,
        clock: Clock = utc_now,
        snapshot_interval: timedelta = timedelta(0),
        invited_only: bool = False,
    ) -> ReportService:
        """The service, with the tallies set up for this survey (recounted if it changed)."""
        await store.sync_questions(survey.id, tally_roles(survey))
        return cls(store, survey, access, threshold, clock, snapshot_interval, invited_only)

    async def follow(self, survey: Survey) -> None:
        """Report on `survey` from now on: the one new respondents get (published from the
        chat, or by another instance). A new version of the same survey keeps its
        snapshots; another survey has its own."""
        if (survey.id, survey.version) == (self.survey.id, self.survey.version):
            return
        await self._store.sync_questions(survey.id, tally_roles(survey))
        self.survey = survey
        self.access.survey = survey
        self._plan = None
        self._views = {}

    # -- snapshots ---------------------------------------------------------------------

    async def publish_if_due(self) -> Snapshot | None:
        """Publish the next snapshot of each round where at least k responses were completed
        or deleted since its last one (and the interval is up); the last one published, or
        None if none was due (or another instance published them).

        Each round is a population of its own: a person who answered two rounds is two
        responses, never counted twice in one view, and views of different rounds cover
        different responses, so no combination of them can isolate fewer than k."""
        published = None
        for round_ in await self._store.report_rounds(self.survey.id):
            published = await self._publish_round(round_.round_id) or published
        return published

    async def _publish_round(self, round_id: int) -> Snapshot | None:
        survey_id = self.survey.id
        history = await self._store.snapshot_history(survey_id, round_id)
        now = self._clock()
        if history.published_at is not None and now - history.published_at < self._interval:
            return None
        fresh, stayed = await self._store.snapshot_changes(survey_id, round_id, self._counted)
        if fresh + max(history.population - stayed, 0) < self.threshold:
            return None
        comment_questions = [q.id for q in self.survey.with_role(ReportRole.COMMENT)]
        inputs = await self._store.snapshot_inputs(
            survey_id, round_id, self._counted, comment_questions
        )
        if inputs.changes(history) < self.threshold:
            return None
        key = await self._store.noise_key(self.survey.id, secrets.token_hex(32))
        known = set(all_filters(self.survey))  # a scope naming an option since removed: none
        scopes = [
            c.scope
            for c in await self._store.coordinators()
            if c.scope.filters <= known and c.survey_id in (None, survey_id)
        ]
        snapshot = await asyncio.to_thread(
            publish,
            self.survey,
            history,
            inputs,
            self.threshold,
            Noise(bytes.fromhex(key)),
            now,
            scopes,
        )
        saved = await self._store.save_snapshot(
            survey_id,
            round_id,
            snapshot.number,
            snapshot.published_at,
            snapshot.population,
            snapshot.released,
            snapshot.atoms,
            {key: dump_view(view) for key, view in snapshot.views.items()},
            inputs.arrivals,
            snapshot.comments,
            self._counted,
        )
        return snapshot if saved else None

    async def _publish_briefly(self) -> None:
        """Publish if due, waiting at most PUBLISH_WAIT for it."""
        if self._publishing is None or self._publishing.done():
            self._publishing = asyncio.create_task(self.publish_if_due())
            self._publishing.add_done_callback(_log_failure)
        publishing = self._publishing
        await asyncio.wait({publishing}, timeout=PUBLISH_WAIT)
        if publishing.done():
            publishing.result()  # a fault while publishing is this look's fault too

    async def _snapshot(self, round_: ReportRound) -> tuple[int, dict[str, Summary]]:
        """A round's latest snapshot and its views, naming the round; (0, {}) before any.
        Call `_publish_briefly` first."""
        stored = await self._store.snapshot_views(self.survey.id, round_.round_id)
        if stored is None:
            return 0, {}
        number, views = stored
        cached = self._views.get(round_.round_id)
        if cached is None or cached[0] != number:
            loaded = {
                key: replace(load_view(self.survey, view), round=round_)
                for key, view in views.items()
            }
            cached = self._views[round_.round_id] = (number, loaded)
        return cached

    async def _looked_at(
        self, wanted: int | None = None
    ) -> tuple[ReportRound, int, dict[str, Summary]]:
        """The round looked at (`wanted`, by its number; else the current one: the open
        round, else the last one opened) and its latest snapshot, published first if due."""
        await self._publish_briefly()
        rounds = await self._store.report_rounds(self.survey.id)
        if wanted is not None:
            found = next((r for r in rounds if r.round_id == wanted), None)
            if found is None:
                raise UnknownRound(wanted)
            return (found, *await self._snapshot(found))
        current = next((r for r in rounds if r.is_open), rounds[-1] if rounds else ReportRound(0))
        return (current, *await self._snapshot(current))

    def _pick(self, views: dict[str, Summary], filter_text: str, scope: Scope) -> Summary:
        """One released group's view within `scope`, or why there is none."""
        only = parse_filter(self.survey, filter_text)
        if not views:
            raise TooFewResponses(self.threshold)
        if only is not None:
            filter_option(self.survey, only)
        group = scope.narrowed(only)
        if group is None:
            raise OutsideScope(self.survey, scope)
        view = views.get(str(group))
        if view is None:
            raise FilterSuppressed(self.threshold)
        return replace(view, only=None if group == scope else only, scope=scope)

    def _in_scope(self, views: dict[str, Summary], scope: Scope) -> list[Summary]:
        """The released views a coordinator of `scope` may read: their scope's group first,
        then it narrowed by each filter (an unscoped coordinator: everyone and each filter)."""
        if str(scope) not in views:
            raise FilterSuppressed(self.threshold)
        narrowed = {str(scope): None}
        for only in all_filters(self.survey):
            if (group := scope.narrowed(only)) not in (None, scope):
                narrowed[str(group)] = only
        ordered = sorted(views.items(), key=lambda item: item[0] != str(scope))
        return [
            replace(view, only=narrowed[key], scope=scope)
            for key, view in ordered
            if key in narrowed
        ]

    async def _looking(self, actor: Actor) -> tuple[Role, Scope]:
        """Who looks: their role (checked) and their scope (admins: everyone). A coordinator
        limited to another survey than the one run now sees nothing."""
        role = await self._access.check(actor.user_id, Role.COORDINATOR)
        coordinator = await self._store.coordinator(actor.user_id)
        if coordinator is None or role != Role.COORDINATOR:
            return role, EVERYWHERE
        if coordinator.survey_id not in (None, self.survey.id):
            raise OtherSurvey(coordinator.survey_id)
        return role, coordinator.scope

    async def _seen(
        self, actor: Actor, action: Action, number: int, detail: str = "", round_id: int = 0
    ) -> Scope:
        """The audit entry of a look at snapshot `number` of a round (0: none published
        yet), with the looker's scope, written whether or not the look then finds something
        to show."""
        role, scope = await self._looking(actor)
        seen = f"snapshot {number}" if number else ""
        if round_id:
            seen = f"round {round_id} {seen}".strip()
        within = "" if scope.everyone else f"scope {scope}"
        parts = (detail, within, seen)
        await self._access.record(actor, role, action, "; ".join(filter(None, parts)))
        return scope

    async def coordinator_ids(self) -> list[int]:
        """Whose chats get the coordinators' command menu (a trusted local caller: start-up)."""
        return [coordinator.user_id for coordinator in await self._store.coordinators()]

    async def help(self, actor: Actor) -> Role:
        """/reports: only checks the role (coordinators and admins see different commands)."""
        return await self._authorize(actor, Role.COORDINATOR, HELP)

    # -- summaries ---------------------------------------------------------------------

    async def summary(self, actor: Actor, filter_text: str = "") -> Summary:
        """/summary [filter]: the latest snapshot's view of everyone or of one group."""
        return await self.summary_for(actor, SUMMARY, filter_text)

    async def filters(
        self, actor: Actor, dimension: ReportRole, round_id: int | None = None
    ) -> list[Filter]:
        """The filters of one dimension a round's latest snapshot released (None: the
        current round's)."""
        await self._access.check(actor.user_id, Role.COORDINATOR)
        round_, number, views = await self._looked_at(round_id)
        scope = await self._seen(actor, FILTERS, number, dimension.value, round_.round_id)
        return [
            f
            for f in all_filters(self.survey)
            if f.dimension == dimension
            and (group := scope.narrowed(f)) not in (None, scope)
            and str(group) in views
        ]

    async def charts(self, actor: Actor, filter_text: str = "") -> list[charts.Chart]:
        """/chart [filter]: the summary as images, labelled in the current language."""
        summary = await self.summary_for(actor, CHART, filter_text)
        return await asyncio.to_thread(charts.render, summary)

    async def summary_for(self, actor: Actor, action: Action, text: str) -> Summary:
        """A snapshot's view, looked at for `action` (recorded with the snapshot's number):
        of the current round, or of the one `round=N` in `text` names."""
        await self._access.check(actor.user_id, Role.COORDINATOR)
        wanted, filter_text = parse_round(text)
        round_, number, views = await self._looked_at(wanted)
        scope = await self._seen(actor, action, number, filter_text, round_.round_id)
        return self._pick(views, filter_text, scope)

    async def change(self, actor: Actor, text: str = "") -> ChangeView:
        """/change [A B] [filter]: every barrier's share who agree in round A and in round B
        (by default the two latest rounds with a snapshot), for everyone or one group."""
        await self._access.check(actor.user_id, Role.COORDINATOR)
        numbers, filter_text = parse_rounds(text)
        await self._publish_briefly()
        rounds = await self._store.report_rounds(self.survey.id)
        looked = [(r, *await self._snapshot(r)) for r in rounds]
        if numbers:
            by_id = {r.round_id: (r, n, v) for r, n, v in looked}
            if missing := [n for n in numbers if n not in by_id]:
                raise UnknownRound(missing[0])
            chosen = [by_id[n] for n in numbers]
        else:
            chosen = [entry for entry in looked if entry[1]][-2:]
        seen = [f"round {r.round_id} snapshot {n}" for r, n, _v in chosen]
        scope = await self._seen(actor, CHANGE, 0, "; ".join(filter(None, (filter_text, *seen))))
        if len(chosen) < 2:
            raise NothingToCompare(self.threshold)
        before, after = (views for _round, _number, views in chosen)
        earlier = self._pick(before, filter_text, scope)
        later = self._pick(after, filter_text, scope)
        return compare(self.survey, earlier, later)

    async def build_summary(self, only: Filter | None = None) -> Summary:
        """The live, exact summary, without a role check or snapshot: for trusted local
        callers only (the benchmark, tests of the single-moment rules)."""
        plan = await self._current_plan()
        tallies = await self._store.tallies(self.survey.id, only)
        in_progress = await self._store.in_progress(self.survey.id, only)
        return await asyncio.to_thread(
            build_summary, self.survey, plan, tallies, in_progress, self.threshold, only
        )

    async def _current_plan(self) -> ReleasePlan:
        """The release decisions for the data as it is now; kept until a count changes."""
        cells = await self._store.cells(self.survey.id)
        if self._plan is None or self._plan.cells != tuple(cells):
            self._plan = ReleasePlan(self.survey, cells, self.threshold)
        return self._plan

    # -- free text ---------------------------------------------------------------------

    async def comment_questions(self, actor: Actor) -> list[CommentQuestion]:
        """/comments without a question: which questions have answers to read."""
        await self._access.check(actor.user_id, Role.COORDINATOR)
        round_, number, _views = await self._looked_at()
        scope = await self._seen(actor, COMMENTS, number, round_id=round_.round_id)
        found = []
        for question in self.survey.with_role(ReportRole.COMMENT):
            answers = len(await self._released_comments(round_.round_id, question.id, scope))
            found.append(CommentQuestion(question, answers if answers >= self.threshold else None))
        return found

    async def _released_comments(self, round_id: int, question_id: str, scope: Scope) -> list[str]:
        """The free-text answers of a round released so far that a coordinator of `scope`
        may read (bot/reports/scopes.py)."""
        if scope.everyone:
            return await self._store.released_comments(self.survey.id, round_id, question_id)
        released = await self._store.released_comments_by_cell(
            self.survey.id, round_id, question_id
        )
        granted = await self._store.granted_scopes()
        return scoped_comments(released, scope, granted, self.threshold)

    async def comments(self, actor: Actor, question_id: str, page: int = 1) -> CommentsPage:
        """/comments QUESTION [page]: the answers released so far (in batches of at least k
        new ones, at snapshots), sorted, without anything about who wrote them."""
        await self._access.check(actor.user_id, Role.COORDINATOR)
        round_, number, views = await self._looked_at()
        scope = await self._seen(actor, COMMENTS, number, f"{question_id} {page}", round_.round_id)
        question = next(
            (q for q in self.survey.with_role(ReportRole.COMMENT) if q.id == question_id.strip()),
            None,
        )
        if question is None:
            raise UnknownQuestion
        released = await self._released_comments(round_.round_id, question.id, scope)
        answers = sorted(released, key=str.casefold)
        if len(answers) < self.threshold:
            raise TooFewComments(self.threshold)
        pages = _paginate(answers)
        chosen = min(max(page, 1), len(pages))
        everyone = views.get(EVERYONE)
        return CommentsPage(
            question,
            pages[chosen - 1],
            chosen,
            len(pages),
            len(answers),
            self.threshold,
            everyone.published_at if everyone else None,
        )

    # -- export ------------------------------------------------------------------------

    async def tables(self, actor: Actor) -> export.ExportFiles:
        """/tables: the latest snapshot's figures, every released group, as spreadsheets."""
        await self._access.check(actor.user_id, Role.COORDINATOR)
        round_, number, views = await self._looked_at()
        scope = await self._seen(actor, TABLES, number, round_id=round_.round_id)
        if not views:
            raise TooFewResponses(self.threshold)
        ordered = self._in_scope(views, scope)
        return await asyncio.to_thread(build_tables, ordered, self.threshold)

    async def export(self, actor: Actor) -> export.ExportFiles:
        """/export: completed responses as CSV and XLSX, in the current language. One row a
        person, so administrators only (coordinators see aggregates), and audited."""
        await self._authorize(actor, Role.ADMIN, EXPORT)
        respondents = await self._store.completed_answers(self.survey.id)
        if len(respondents) < self.threshold:
            raise TooFewResponses(self.threshold)
        return await asyncio.to_thread(export.build, self.survey, respondents, self.threshold)


def parse_round(text: str) -> tuple[int | None, str]:
    """`round=N` out of a coordinator's words, and the rest (a filter)."""
    rounds, rest = split_rounds(text.split())
    return (rounds[0] if rounds else None), " ".join(rest)


def parse_rounds(text: str) -> tuple[list[int], str]:
    """/change's words: two round numbers (or none), and the rest (a filter)."""
    words = text.split()
    numbers = [int(w) for w in words[:2] if w.isdigit()]
    if len(numbers) == 1:
        raise UnknownRound(None)
    return numbers, " ".join(words[len(numbers) :])


def _log_failure(task: asyncio.Task[Snapshot | None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.warning("publishing a snapshot failed: %s", type(error).__name__)


def _paginate(answers: list[str]) -> list[tuple[str, ...]]:
    """Pages measured as Telegram counts them (each answer one line), so that a page always
    fits one message."""
    pages: list[list[str]] = [[]]
    used = 0
    for answer in answers:
        size = len(one_line(answer)) + 1
        if pages[-1] and used + size > COMMENTS_PAGE_CHARACTERS:
            pages.append([])
            used = 0
        pages[-1].append(answer)
        used += size
    return [tuple(page) for page in pages]
