"""Coordinator use cases: each checks the role, writes the audit log, then reports.

Handlers pass plain values (who, what they typed) and render what comes back; charts and
exports are rendered here in a worker thread, in the current language.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.core.access import Access, Actor, Role
from bot.core.clock import Clock, utc_now
from bot.core.text import one_line
from bot.reports import charts, export
from bot.reports.access import AccessControl
from bot.reports.actions import CHART, COMMENTS, EXPORT, FILTERS, HELP, SUMMARY
from bot.reports.errors import TooFewComments, TooFewResponses, UnknownQuestion
from bot.reports.filters import all_filters, parse_filter
from bot.reports.model import Filter
from bot.reports.ports import ReportStore
from bot.reports.summary import ReleasePlan, Summary, build_summary
from bot.survey.model import Question, ReportRole, Survey

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
    ) -> None:
        self._store = store
        self.survey = survey
        self.threshold = threshold
        self._authorize = access.authorize
        self.access = AccessControl(store, access, clock)
        self._plan: ReleasePlan | None = None

    @classmethod
    async def start(
        cls,
        store: ReportStore,
        survey: Survey,
        access: Access,
        threshold: int,
        clock: Clock = utc_now,
    ) -> ReportService:
        """The service, with the tallies set up for this survey (recounted if it changed)."""
        await store.sync_questions(survey.id, tally_roles(survey))
        return cls(store, survey, access, threshold, clock)

    async def coordinator_ids(self) -> list[int]:
        """Whose chats get the coordinators' command menu (a trusted local caller: start-up)."""
        return [coordinator.user_id for coordinator in await self._store.coordinators()]

    async def help(self, actor: Actor) -> Role:
        """/reports: only checks the role (coordinators and admins see different commands)."""
        return await self._authorize(actor, Role.COORDINATOR, HELP)

    # -- summaries ---------------------------------------------------------------------

    async def summary(self, actor: Actor, filter_text: str = "") -> Summary:
        """/summary [filter]."""
        await self._authorize(actor, Role.COORDINATOR, SUMMARY, filter_text.strip())
        return await self.build_summary(parse_filter(self.survey, filter_text))

    async def filters(self, actor: Actor, dimension: ReportRole) -> list[Filter]:
        """The filters of one dimension that can be used now."""
        await self._authorize(actor, Role.COORDINATOR, FILTERS, dimension.value)
        plan = await self._current_plan()
        offered = await asyncio.to_thread(plan.offered)
        return [f for f in all_filters(self.survey) if f.dimension == dimension and f in offered]

    async def charts(self, actor: Actor, filter_text: str = "") -> list[charts.Chart]:
        """/chart [filter]: the summary as images, labelled in the current language."""
        await self._authorize(actor, Role.COORDINATOR, CHART, filter_text.strip())
        summary = await self.build_summary(parse_filter(self.survey, filter_text))
        return await asyncio.to_thread(charts.render, summary)

    async def build_summary(self, only: Filter | None = None) -> Summary:
        """The summary, without a role check: for trusted local callers (demo, benchmark)."""
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
        await self._authorize(actor, Role.COORDINATOR, COMMENTS)
        found = []
        for question in self.survey.with_role(ReportRole.COMMENT):
            answers = len(await self._store.comments(self.survey.id, question.id))
            found.append(CommentQuestion(question, answers if answers >= self.threshold else None))
        return found

    async def comments(self, actor: Actor, question_id: str, page: int = 1) -> CommentsPage:
        """/comments QUESTION [page]: the answers, sorted, without anything about who wrote them."""
        await self._authorize(actor, Role.COORDINATOR, COMMENTS, f"{question_id} {page}"
        )
        question = next(
            (q for q in self.survey.with_role(ReportRole.COMMENT) if q.id == question_id.strip()),
            None,
        )
        if question is None:
            raise UnknownQuestion
        answers = sorted(await self._store.comments(self.survey.id, question.id), key=str.casefold)
        if len(answers) < self.threshold:
            raise TooFewComments(self.threshold)
        pages = _paginate(answers)
        number = min(max(page, 1), len(pages))
        return CommentsPage(question, pages[number - 1], number, len(pages), len(answers))

    # -- export ------------------------------------------------------------------------

    async def export(self, actor: Actor) -> export.ExportFiles:
        """/export: completed responses as CSV and XLSX, in the current language. One row a
        person, so administrators only (coordinators see aggregates), and audited."""
        await self._authorize(actor, Role.ADMIN, EXPORT)
        respondents = await self._store.completed_answers(self.survey.id)
        if len(respondents) < self.threshold:
            raise TooFewResponses(self.threshold)
        return await asyncio.to_thread(export.build, self.survey, respondents, self.threshold)


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
