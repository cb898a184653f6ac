"""Rounds of the survey, for admins (/rounds): open one ("Before the Amman workshop"), close
it, open the next ("Six months later"). Each respondent answers each round once; a response
belongs to the round open when it was started (bot/survey/service.py), so closing a round
lets people mid-survey finish in it. Opening a round while another is open is refused, with
a button to close that one first: nothing is closed by surprise. Every opening and closing
goes to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.access import Access, Action, Actor, Role
from bot.core.clock import Clock, utc_now
from bot.core.i18n import N_
from bot.core.ports import Transactions
from bot.survey.errors import NoOpenRound, RoundTitleMissing, RoundTitleTooLong
from bot.survey.ports import Round, RoundCount, RoundStore
from bot.survey.service import SurveyService

OPEN = Action("round_opened", N_("Opened a round of the survey"))
CLOSE = Action("round_closed", N_("Closed a round of the survey"))

MAX_TITLE = 100
"""Characters in a round's title (it is shown on buttons and in every /rounds list)."""


@dataclass(frozen=True, slots=True)
class RoundLine:
    round: Round
    started: int
    completed: int


@dataclass(frozen=True, slots=True)
class RoundsOverview:
    survey_id: str
    rounds: tuple[RoundLine, ...]
    """The first opened first."""
    outside: RoundCount | None
    """Responses started while no round was open, if there are any."""

    @property
    def open(self) -> Round | None:
        return next((line.round for line in self.rounds if line.round.closed_at is None), None)


@dataclass(frozen=True, slots=True)
class StillOpen:
    """/rounds open refused: this round is open, and must be closed first."""

    round: Round


class Rounds:
    def __init__(
        self,
        store: RoundStore,
        access: Access,
        service: SurveyService,
        transactions: Transactions,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._access = access
        self._service = service
        self._transactions = transactions
        self._clock = clock

    async def overview(self, actor: Actor) -> RoundsOverview:
        """/rounds: the active survey's rounds, with responses started and completed."""
        await self._access.check(actor.user_id, Role.ADMIN)
        survey_id = self._service.survey.id
        counts = {count.round_id: count for count in await self._store.round_counts(survey_id)}
        lines = tuple(
            RoundLine(
                found,
                counts[found.round_id].started if found.round_id in counts else 0,
                counts[found.round_id].completed if found.round_id in counts else 0,
            )
            for found in await self._store.rounds(survey_id)
        )
        return RoundsOverview(survey_id, lines, counts.get(0))

    async def open(self, actor: Actor, title: str) -> Round | StillOpen:
        """/rounds open <title>: the round opened, or, while another round is open, that one
        (nothing is opened; it must be closed first)."""
        await self._access.check(actor.user_id, Role.ADMIN)
        title = " ".join(title.split())
        if not title:
            raise RoundTitleMissing
        if len(title) > MAX_TITLE:
            raise RoundTitleTooLong(MAX_TITLE)
        survey_id = self._service.survey.id
        async with self._transactions.atomic():
            if (current := await self._store.open_round(survey_id)) is not None:
                return StillOpen(current)
            opened = await self._store.add_round(survey_id, title, actor.user_id, self._clock())
            detail = f"{survey_id} round {opened.round_id}: {title}"
            await self._access.record(actor, Role.ADMIN, OPEN, detail)
        return opened

    async def close(self, actor: Actor, round_id: int | None = None) -> Round:
        """/rounds close (None: the open round), or its Close button (a stale one: refused)."""
        await self._access.check(actor.user_id, Role.ADMIN)
        survey_id = self._service.survey.id
        async with self._transactions.atomic():
            current = await self._store.open_round(survey_id)
            if current is None or round_id not in (None, current.round_id):
                raise NoOpenRound
            await self._store.close_round(current.round_id, self._clock())
            detail = f"{survey_id} round {current.round_id}: {current.title}"
            await self._access.record(actor, Role.ADMIN, CLOSE, detail)
        return current
