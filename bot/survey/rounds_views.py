"""What an admin sees of the survey's rounds (bot/survey/rounds.py): /rounds and its answers."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from bot.core.callbacks import CallbackData
from bot.core.i18n import _
from bot.core.views import Button, View
from bot.survey.ports import Round
from bot.survey.rounds import RoundsOverview, StillOpen


@dataclass(frozen=True)
class CloseRound(CallbackData):
    """Close the open round (stale once it is closed)."""

    prefix = "RC"
    round: int


def _counts(started: int, completed: int) -> str:
    return _("{started} started, {completed} completed", started=started, completed=completed)


def overview(result: RoundsOverview) -> View:
    lines = ["<b>" + _("Rounds of the survey {id}", id=result.survey_id) + "</b>"]
    if result.outside is not None:
        counts = _counts(result.outside.started, result.outside.completed)
        lines.append("• " + escape(_("Outside any round: {counts}", counts=counts)))
    for line in result.rounds:
        counts = _counts(line.started, line.completed)
        opened = line.round.opened_at.date().isoformat()
        if line.round.closed_at is None:
            when = _("open since {date}", date=opened)
        else:
            closed = line.round.closed_at.date().isoformat()
            when = _("{opened} to {closed}", opened=opened, closed=closed)
        title = escape(line.round.title)
        lines.append(f"• {line.round.round_id}. <b>{title}</b> ({escape(when)}): {counts}")
    if not result.rounds:
        lines.append(_("No round has been opened yet."))
    current = result.open
    if current is None:
        lines += ["", _("To open a round: /rounds open followed by its title.")]
        return View.of("\n".join(lines))
    lines += ["", _("New responses go into the open round. To close it: /rounds close.")]
    return View.of("\n".join(lines), [[_close_button(current)]])


def _close_button(round_: Round) -> Button:
    return Button(_("Close “{title}”", title=round_.title), CloseRound(round_.round_id))


def opened(result: Round | StillOpen) -> View:
    if isinstance(result, StillOpen):
        text = _(
            "The round “{title}” is still open, so no new round was opened. Close it first, "
            "then open the new one.",
            title=result.round.title,
        )
        return View.of(escape(text), [[_close_button(result.round)]])
    round_ = result
    return View(
        _(
            "Round “{title}” is open: everyone who starts the survey from now on answers it, "
            "and people who answered an earlier round are invited to answer again.",
            title=round_.title,
        ),
        html=False,
    )


def closed(round_: Round) -> View:
    return View(
        _(
            "Round “{title}” is closed. People answering it now can finish; new responses "
            "belong to no round until you open the next one.",
            title=round_.title,
        ),
        html=False,
    )
