"""Reports as text lines in the current language (Telegram HTML: only <b> and <i>).

Pure functions from domain values to lines; the handler splits them into messages under
Telegram's limit, the demo prints them with `plain`. Messages never start with a tag or a
number inside a translation, so an Arabic message starts with an Arabic word.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime

from babel.numbers import format_decimal

from bot.core.access import ACTIONS, Role
from bot.core.i18n import N_, RLM, _, _n, current_language, is_rtl, isolate, number, percent
from bot.core.text import one_line
from bot.reports.access import AuditPage, Roles
from bot.reports.change import ChangeView, Shift
from bot.reports.filters import group_name, scope_name
from bot.reports.model import CampaignLink, Coordinator, ReportRound
from bot.reports.service import CommentQuestion, CommentsPage
from bot.reports.summary import (
    Agreement,
    BarrierResult,
    Breakdown,
    Extreme,
    Ranking,
    Sources,
    Summary,
    coarse_mean,
    in_words,
    shown_share,
)
from bot.survey.model import Question, ReportRole, Survey

BREAKDOWN_TITLES: dict[ReportRole, str] = {
    ReportRole.SECTOR: N_("Respondents by sector"),
    ReportRole.LEVEL: N_("Respondents by level"),
}
ROLE_NAMES: dict[Role, str] = {Role.ADMIN: N_("admin"), Role.COORDINATOR: N_("coordinator")}
BULLET = "• "
_TAG = re.compile(r"</?[bi]>")
_INVISIBLE = re.compile("[\u200e\u200f\u2066-\u2069]")


def bold(text: str) -> str:
    return f"<b>{text}</b>"


def italic(text: str) -> str:
    return f"<i>{text}</i>"


def item(label: str, value: str) -> str:
    """A bullet line "label: value". In Arabic an RLM comes first: the label and the value
    are isolated, and a line must still start right to left."""
    start = RLM if is_rtl() else ""
    return f"{start}{BULLET}{isolate(html.escape(label))}: {isolate(value)}"


def plain(lines: Sequence[str]) -> str:
    """The lines as plain text (for a terminal): tags, isolates and marks removed."""
    return _INVISIBLE.sub("", html.unescape(_TAG.sub("", "\n".join(lines))))


def button_label(question: Question, limit: int = 40) -> str:
    """A question's text, shortened to fit on a button."""
    words = question.text.get(current_language())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


# -- summary ----------------------------------------------------------------------------


def summary_lines(summary: Summary) -> list[str]:
    threshold = summary.threshold
    group = html.escape(group_name(summary.survey, summary.only, summary.scope))
    lines = [
        bold(_("Summary: {group}", group=group)),
        *round_lines(summary.round),
        *snapshot_lines(summary.published_at, threshold),
        _("Completed responses: {count}", count=summary.respondents),
        _("Responses under way: {count}", count=summary.in_progress)
        if summary.in_progress is not None
        else _("Responses under way: fewer than {threshold}", threshold=threshold),
    ]
    if summary.after_reminder is not None:
        lines.append(_("Finished after a reminder: {count}", count=summary.after_reminder))
    if summary.sides is not None:
        local, national = summary.sides
        lines.append(
            _(
                "Local respondents: {local}; national respondents: {national}",
                local=local,
                national=national,
            )
        )
    for breakdown in summary.breakdowns:
        lines += ["", *_breakdown_lines(breakdown, threshold)]
    if summary.sources is not None:
        lines += ["", *_sources_lines(summary.sources, threshold)]
    lines += [
        "",
        bold(_("Barriers: how many agree")),
        italic(
            _(
                "Agree means agree or strongly agree. The mean goes from 1 (strongly disagree) to "
                "5 (strongly agree). Statements worded the other way round are reverse-coded, so "
                "agreeing always means that the barrier is there. “Don’t know” answers are "
                "counted apart and left out of shares and means."
            )
        ),
        *(_barrier_line(barrier, threshold) for barrier in summary.barriers),
        "",
        bold(_("Where local and national respondents differ most")),
    ]
    lines += [_gap_line(barrier) for barrier in summary.gaps] or [
        _(
            "Not shown: there are too few local or national respondents here to compare them "
            "without risking that someone is recognised."
        )
    ]
    for heading, rankings in (
        (_("What should come first"), summary.priorities),
        (_("Ways of working people would join"), summary.formats),
    ):
        for ranking in rankings:
            lines += ["", *_ranking_lines(heading, ranking, len(rankings) > 1)]
    if summary.invitations is not None:
        lines += [
            "",
            bold(_("Workshop invitations")),
            _("Would like to be invited: {count}", count=in_words(summary.invitations_extreme))
            if summary.invitations_extreme
            else _(
                "Would like to be invited: {count} ({share})",
                count=summary.invitations,
                share=percent(min(summary.invitations / summary.respondents, 1.0)),
            ),
        ]
    lines += [
        "",
        italic(
            _(
                "Groups of fewer than {threshold} respondents are never shown, so that nobody "
                "can be recognised. Counts carry a small random change (at most 2 either way), "
                "and a share that all or all but one give is shown in words.",
                threshold=threshold,
            )
        ),
    ]
    return lines


def round_lines(round_: ReportRound | None) -> list[str]:
    """Which round a view is of, and how to see the others (none before rounds are used)."""
    if round_ is None or (not round_.round_id and not round_.title):
        return []
    return [
        _("Round {number}: “{title}”", number=round_.round_id, title=html.escape(round_.title)),
        italic(_("Another round: /summary round=2. The change between rounds: /change.")),
    ]


def round_title(round_: ReportRound | None) -> str:
    """A round's title, or what round 0 is (responses started while no round was open)."""
    return round_.title if round_ and round_.title else _("outside any round")


def snapshot_lines(published_at: datetime | None, threshold: int) -> list[str]:
    """Which snapshot a view comes from (none for the live numbers of trusted callers)."""
    if published_at is None:
        return []
    return [
        italic(
            _n(
                "Snapshot of {time} UTC. The next one comes once at least {count} more "
                "response has been completed or deleted.",
                "Snapshot of {time} UTC. The next one comes once at least {count} more "
                "responses have been completed or deleted.",
                threshold,
                time=_when(published_at),
            )
        )
    ]


def _share(agreement: Agreement) -> str:
    return shown_share(agreement.share, agreement.extreme)


def _mean(agreement: Agreement, threshold: int) -> str:
    return _one_decimal(coarse_mean(agreement, threshold))


def _breakdown_lines(breakdown: Breakdown, threshold: int) -> list[str]:
    language = current_language()
    assert breakdown.question.report is not None
    lines = [bold(_(BREAKDOWN_TITLES[breakdown.question.report]))]
    for row in breakdown.rows:
        label = row.option.label.get(language) if row.option else _("no answer")
        lines.append(item(label, number(row.respondents)))
    return lines + _hidden_lines(breakdown.hidden, threshold)


def _sources_lines(sources: Sources, threshold: int) -> list[str]:
    """Completed responses per campaign link (/campaign): the source names as admins gave."""
    lines = [bold(_("Respondents by source"))]
    for source, count in sources.rows:
        lines.append(item(source or _("without a link"), number(count)))
    return lines + _hidden_lines(sources.hidden, threshold)


def _hidden_lines(hidden: int, threshold: int) -> list[str]:
    if not hidden:
        return []
    return [
        BULLET
        + _(
            "Groups of fewer than {threshold} each, together: {count}",
            threshold=threshold,
            count=hidden,
        )
    ]


def _label(question: Question) -> str:
    return (question.short_label or question.text).get(current_language())


def _one_decimal(value: float) -> str:
    return format_decimal(value, format="0.0", locale=current_language())


def _barrier_line(barrier: BarrierResult, threshold: int) -> str:
    if barrier.overall is None:
        return item(
            _label(barrier.question),
            _("hidden, fewer than {threshold} answers", threshold=threshold),
        )
    overall = barrier.overall
    mean = _mean(overall, threshold)
    match overall.extreme, overall.uniform:
        case Extreme.NEARLY_ALL, True:
            words = _("nearly all agree")
        case Extreme.NEARLY_ALL, False:
            words = _("nearly all agree, mean {mean}", mean=mean)
        case Extreme.ALMOST_NONE, True:
            words = _("almost nobody agrees")
        case Extreme.ALMOST_NONE, False:
            words = _("almost nobody agrees, mean {mean}", mean=mean)
        case _:
            words = _("{share} agree, mean {mean}", share=percent(overall.share), mean=mean)
    if overall.dont_know:
        words += _n("; {count} don’t know", "; {count} don’t know", overall.dont_know)
    return item(_label(barrier.question), words)


def _gap_line(barrier: BarrierResult) -> str:
    assert barrier.local is not None and barrier.national is not None
    # The difference of the percentages as shown, so that "local 50%, national 50%" never
    # comes with a difference of a point.
    difference = round(barrier.local.share * 100) - round(barrier.national.share * 100)
    points = abs(difference)
    shares = {"local": _share(barrier.local), "national": _share(barrier.national)}
    if points == 0:
        comparison = _("local {local}, national {national}; no difference", **shares)
    elif difference > 0:
        comparison = _n(
            "local {local}, national {national}; local respondents agree more, by {count} point",
            "local {local}, national {national}; local respondents agree more, by {count} points",
            points,
            **shares,
        )
    else:
        comparison = _n(
            "local {local}, national {national}; national respondents agree more, by {count} point",
            "local {local}, national {national}; national respondents agree more, by {count} "
            "points",
            points,
            **shares,
        )
    return item(_label(barrier.question), comparison)


def _ranking_lines(heading: str, ranking: Ranking, name_question: bool) -> list[str]:
    lines = [bold(heading)]
    if name_question:
        lines.append(italic(html.escape(_label(ranking.question))))
    lines.append(italic(_("How many respondents chose each, and their share of all respondents.")))
    lines += [
        item(
            choice.option.label.get(current_language()),
            in_words(choice.extreme)
            if choice.extreme
            else f"{number(choice.respondents)} ({percent(choice.share)})",
        )
        for choice in ranking.choices
    ] or [_("Nobody has chosen any yet.")]
    return lines


# -- free text ---------------------------------------------------------------------------


def comment_questions_lines(found: Sequence[CommentQuestion], threshold: int) -> list[str]:
    lines = [bold(_("Free-text answers")), _("Choose a question with the buttons below.")]
    for entry in found:
        lines += [
            "",
            BULLET + html.escape(entry.question.text.get(current_language())),
            _("Answers: {count}", count=entry.answers)
            if entry.answers is not None
            else _("Fewer than {threshold} answers, so they are not shown.", threshold=threshold),
        ]
    return lines


def comments_lines(page: CommentsPage) -> list[str]:
    return [
        bold(html.escape(page.question.text.get(current_language()))),
        *snapshot_lines(page.published_at, page.threshold),
        italic(
            _(
                "Page {page} of {pages}. Answers in all: {count}, in alphabetical order, with "
                "nothing about who wrote them.",
                page=page.page,
                pages=page.pages,
                count=page.answers,
            )
        ),
        "",
        # One line each, isolated: an answer cannot fake bullets or read backwards.
        *(BULLET + isolate(html.escape(one_line(comment))) for comment in page.comments),
    ]


# -- roles and audit ---------------------------------------------------------------------


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def roles_lines(roles: Roles, survey: Survey) -> list[str]:
    lines = [bold(_("Admins"))]
    lines += [BULLET + _("Telegram id {id}", id=str(admin)) for admin in roles.admins]
    lines += ["", bold(_("Coordinators"))]
    lines += [_coordinator_line(c, survey) for c in roles.coordinators] or [
        _("No coordinators yet. Create an invitation link with /grant.")
    ]
    lines += ["", _("Unused invitation links: {count}", count=len(roles.pending))]
    if roles.pending:
        lines.append(
            _("The next one expires at {time} UTC.", time=_when(roles.pending[0].expires_at))
        )
    return lines


def campaign_lines(survey_id: str, links: Sequence[CampaignLink]) -> list[str]:
    """/campaign: each link of the survey with its counts (exact: admins only see them)."""
    lines = [bold(_("Campaign links of the survey {survey}", survey=html.escape(survey_id)))]
    for link in links:
        figures = _(
            "arrived: {arrivals}, completed: {completed}, uses left: {left}, {state}",
            arrivals=link.arrivals,
            completed=link.completions,
            left=number(link.uses_left) if link.uses_left is not None else _("no limit"),
            state=_("closed") if link.closed else _("open"),
        )
        if link.survey_id is None:
            figures += " " + _("(any survey)")
        if link.round_id is not None:
            figures += " " + _("(round {number})", number=link.round_id)
        lines.append(item(link.source, figures))
    if not links:
        lines.append(_("No campaign links yet. Make one with /campaign new amman-plenary."))
    return lines


def _coordinator_line(coordinator: Coordinator, survey: Survey) -> str:
    line = BULLET + _(
        "{name} (Telegram id {id}), coordinator since {date}",
        name=html.escape(coordinator.name),
        id=str(coordinator.user_id),
        date=coordinator.granted_at.date().isoformat(),
    )
    words = html.escape(scope_name(survey, coordinator.scope))
    line += "\n  " + _("Sees: {scope}", scope=words)
    if coordinator.survey_id is not None:
        line += "; " + _("survey {id} only", id=coordinator.survey_id)
    return line


def audit_lines(found: AuditPage) -> list[str]:
    lines = [
        bold(_("Audit log")),
        italic(
            _(
                "Page {page} of {pages}, newest first. Times are UTC.",
                page=found.page,
                pages=found.pages,
            )
        ),
    ]
    if found.broken_at is not None:
        lines.append(
            bold(
                _(
                    "Warning: the log has been altered at entry {entry} or just before it "
                    "(an entry changed, removed or inserted).",
                    entry=found.broken_at,
                )
            )
        )
    for entry in found.entries:
        action = _(ACTIONS[entry.action].label) if entry.action in ACTIONS else entry.action
        if entry.detail:
            action = f"{action} ({html.escape(entry.detail)})"
        lines.append(
            BULLET
            + _(
                "{time}: {name} (Telegram id {id}, {role}): {action}",
                time=_when(entry.at),
                name=html.escape(entry.actor_name),
                id=str(entry.actor_id),
                role=_(ROLE_NAMES[entry.role]),
                action=action,
            )
        )
    return lines


def change_lines(view: ChangeView) -> list[str]:
    """The change view: each barrier's share who agree in both rounds, overall and by side."""
    before, after = view.before, view.after
    lines = [
        bold(
            _(
                "Change from “{before}” to “{after}”: {group}",
                before=html.escape(round_title(before.round)),
                after=html.escape(round_title(after.round)),
                group=html.escape(group_name(view.survey, view.only)),
            )
        ),
        _(
            "Completed responses: {before} in the first round, {after} in the second.",
            before=before.respondents,
            after=after.respondents,
        ),
        italic(
            _(
                "The share who agree with each barrier in each round. A change is larger than "
                "chance when its 95% interval, in points, does not include zero. The rounds are "
                "compared as separate groups of people; where a round has too few answers, or "
                "nearly everyone answered alike, there is no change to show."
            )
        ),
        "",
    ]
    for barrier in view.barriers:
        lines.append(item(_label(barrier.question), _shift_words(barrier.overall)))
        sides = [
            (_("local"), barrier.local),
            (_("national"), barrier.national),
        ]
        for side, shift in sides:
            if shift.before is not None or shift.after is not None:
                lines.append(f"    {side}: {_shift_words(shift)}")
    return lines


def _shift_words(shift: Shift) -> str:
    if shift.before is None or shift.after is None:
        return _("too few answers in one of the rounds")
    shares = {"before": _share(shift.before), "after": _share(shift.after)}
    interval = shift.interval
    if interval is None:
        return _("from {before} to {after}", **shares)
    points = round(shift.after.share * 100) - round(shift.before.share * 100)
    if points == 0:
        movement = _("from {before} to {after}, no change", **shares)
    elif points > 0:
        movement = _n(
            "from {before} to {after}, up {count} point",
            "from {before} to {after}, up {count} points",
            points,
            **shares,
        )
    else:
        movement = _n(
            "from {before} to {after}, down {count} point",
            "from {before} to {after}, down {count} points",
            -points,
            **shares,
        )
    bounds = {"low": _points(interval[0]), "high": _points(interval[1])}
    if shift.beyond_chance:
        return movement + _("; larger than chance (95% interval {low} to {high})", **bounds)
    return movement + _("; could be chance (95% interval {low} to {high})", **bounds)


def _points(share: float) -> str:
    """A difference of shares in signed points: "+12", "−3"."""
    return format_decimal(round(share * 100), format="+0;−0", locale=current_language())
