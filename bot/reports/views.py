"""The reports' screens as plain views, and their buttons (lines come from `text`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from bot.core.access import Role
from bot.core.callbacks import CallbackData
from bot.core.commands import Command, command_line, visible
from bot.core.i18n import _, _n
from bot.core.views import Button, View, pair_up
from bot.reports import text
from bot.reports.access import AuditPage, AwaitingConfirmation, Confirmed, IssuedGrant, Roles
from bot.reports.change import ChangeView
from bot.reports.filters import DIMENSION_NAMES, dimension_question, option_label, scope_name
from bot.reports.model import DIMENSIONS, Arrival, CampaignLink, Coordinator, Filter
from bot.reports.service import CommentQuestion, CommentsPage
from bot.reports.summary import Summary
from bot.survey.model import ReportRole, Survey

FLOW = "reports"


@dataclass(frozen=True)
class ChooseDimension(CallbackData):
    """Offer the groups of one dimension (country, sector, level)."""

    prefix = "Kd"
    dimension: ReportRole
    round_id: int
    """The round of the summary the button is under."""


@dataclass(frozen=True)
class ShowGroup(CallbackData):
    """One group's summary, by its filter text (`country=jordan`)."""

    prefix = "Kf"
    group: str


@dataclass(frozen=True)
class ShowComments(CallbackData):
    prefix = "Kc"
    question: str
    page: int


@dataclass(frozen=True)
class ConfirmGrant(CallbackData):
    """The issuing admin's answer about who opened their unbound link."""

    prefix = "Kg"
    key: str
    user_id: int
    approve: bool


@dataclass(frozen=True)
class CancelGrant(CallbackData):
    prefix = "Kx"
    key: str


@dataclass(frozen=True)
class CloseLink(CallbackData):
    """Close one campaign link, by its key, under /campaign."""

    prefix = "Kl"
    key: str


@dataclass(frozen=True)
class ShowAudit(CallbackData):
    prefix = "Ka"
    page: int
    who: int | None
    action: str | None


@dataclass(frozen=True)
class RevokeCoordinator(CallbackData):
    prefix = "Kr"
    user_id: int


def lines_view(lines: Sequence[str], rows: Sequence[Sequence[Button]] = ()) -> View:
    return View.of("\n".join(lines), rows)


def summary(result: Summary) -> View:
    """The summary; for everyone together, with buttons to choose a group by dimension."""
    lines = text.summary_lines(result)
    if result.only is not None:
        return lines_view(lines)
    survey = result.survey
    pinned = {d for d, ids in result.scope.options().items() if len(ids) == 1}
    by = [d for d in DIMENSIONS if dimension_question(survey, d) is not None and d not in pinned]
    lines += ["", _("To see one group, choose by what:")]
    round_id = result.round.round_id if result.round else 0
    buttons = [Button(_(DIMENSION_NAMES[d]), ChooseDimension(d, round_id)) for d in by]
    return lines_view(lines, [buttons])


def change(result: ChangeView) -> View:
    return lines_view(text.change_lines(result))


def groups(survey: Survey, found: Sequence[Filter], round_id: int) -> View:
    """The groups of a dimension the round's snapshot released, a button each."""
    if not found:
        return View(
            _(
                "No group can be shown on its own yet: each is too small, or would become too "
                "small by subtraction."
            ),
            html=False,
        )
    buttons = [
        Button(option_label(survey, only), ShowGroup(f"round={round_id} {only}"))
        for only in found
    ]
    return View.of(_("Choose a group:"), pair_up(buttons), html=False)


def comment_questions(found: Sequence[CommentQuestion], threshold: int) -> View:
    rows = [
        [Button(text.button_label(item.question), ShowComments(item.question.id, 1))]
        for item in found
        if item.answers is not None
    ]
    return lines_view(text.comment_questions_lines(found, threshold), rows)


def comments(found: CommentsPage) -> View:
    turn = []
    if found.page > 1:
        turn.append(Button(_("Previous page"), ShowComments(found.question.id, found.page - 1)))
    if found.page < found.pages:
        turn.append(Button(_("Next page"), ShowComments(found.question.id, found.page + 1)))
    return lines_view(text.comments_lines(found), [turn])


def export_caption(respondents: int) -> str:
    return _(
        "Completed responses: {count}. The CSV file opens in Excel with Arabic intact; the Excel "
        "file also has a codebook sheet.",
        count=respondents,
    )


def commands(role: Role, all_commands: Sequence[Command]) -> View:
    """/reports: the commands this coordinator or admin may use."""
    lines = [text.bold(_("Commands for coordinators")), ""]
    lines += [command_line(c) for c in visible(all_commands, role) if c.role is not None]
    return lines_view(lines)


def grant_link(survey: Survey, issued: IssuedGrant, link: str) -> list[View]:
    """The link in a message of its own, so that it can be forwarded as it is."""
    said = _(
        "Send this link to the person who should become a coordinator. It works once, "
        "until {time} UTC:",
        time=issued.expires_at.strftime("%Y-%m-%d %H:%M"),
    )
    if not issued.scope.everyone:
        said = (
            _("Their reports will cover {scope} only.", scope=scope_name(survey, issued.scope))
            + "\n"
            + said
        )
    if issued.survey_id is not None:
        said = (
            _("Their reports will cover the survey {id} only.", id=issued.survey_id) + "\n" + said
        )
    return [View(said, html=False), View(link, html=False)]


def awaiting_confirmation() -> View:
    return View(
        _(
            "Thank you. The administrator who sent you this link will confirm it; you will "
            "get a message here."
        ),
        html=False,
    )


def confirm_grant(waiting: AwaitingConfirmation) -> View:
    opener = waiting.opener
    return View.of(
        _(
            "{name} (Telegram id {id}) opened your invitation link. Make them a coordinator?",
            name=escape(opener.name),
            id=str(opener.user_id),
        ),
        [
            [
                Button(
                    _("Yes, make them a coordinator"),
                    ConfirmGrant(waiting.grant.key, opener.user_id, True),
                ),
                Button(_("No"), ConfirmGrant(waiting.grant.key, opener.user_id, False)),
            ]
        ],
    )


def confirmed(result: Confirmed) -> View:
    name = escape(result.opener.name)
    if result.coordinator is None:
        return View(_("The link was cancelled; {name} was not made a coordinator.", name=name))
    return View(_("{name} is now a coordinator.", name=name))


def refused_opener() -> View:
    return View(
        _("The administrator did not confirm this link. Nothing about you was changed."),
        html=False,
    )


def roles(found: Roles, survey: Survey) -> View:
    rows = [
        [
            Button(
                _(
                    "Cancel the link of {time} UTC",
                    time=grant.created_at.strftime("%Y-%m-%d %H:%M"),
                ),
                CancelGrant(grant.key),
            )
        ]
        for grant in found.pending
    ]
    return lines_view(text.roles_lines(found, survey), rows)


def grant_cancelled() -> View:
    return View(_("The invitation link was cancelled: it no longer works."), html=False)


def campaign_link(link: str, source: str, uses: int | None) -> View:
    made = (
        _n(
            "Campaign link for {source}, for {count} person: {link}",
            "Campaign link for {source}, for {count} people: {link}",
            uses,
            source=source,
            link=link,
        )
        if uses is not None
        else _("Campaign link for {source}, without a limit: {link}", source=source, link=link)
    )
    return View(
        made
        + "\n"
        + _(
            "Whoever starts the survey through it is counted under {source} in the summaries. "
            "Only a fingerprint of the link is stored, so keep this message. Close it with "
            "/campaign close {source}.",
            source=source,
        ),
        html=False,
    )


def campaigns(survey_id: str, links: Sequence[CampaignLink]) -> View:
    rows = [
        [Button(_("Close {source}", source=link.source), CloseLink(link.key))]
        for link in links
        if not link.closed
    ]
    return lines_view(text.campaign_lines(survey_id, links), rows)


def link_closed(source: str) -> View:
    return View(
        _(
            "The link for {source} is closed: whoever opens it now is told so. Those who "
            "came through it keep their place.",
            source=source,
        ),
        html=False,
    )


def arrival_refused(arrival: Arrival) -> View:
    """Opening a campaign link that let nobody in (the survey's /start then runs as usual)."""
    match arrival:
        case Arrival.CLOSED:
            said = _("This invitation link has been closed.")
        case Arrival.USED_UP:
            said = _("Everyone this invitation link was for has used it.")
        case _:
            said = _("This invitation link is not valid: it may have been copied incompletely.")
    return View(said + " " + _("Please ask whoever sent it for a new one."), html=False)


def welcome_coordinator(survey: Survey, made: Coordinator) -> View:
    said = _(
        "Welcome! You are now a coordinator of this consultation. Send /summary to "
        "see the results, or /reports for all your commands."
    )
    if not made.scope.everyone:
        said += "\n" + _("Your reports cover {scope} only.", scope=scope_name(survey, made.scope))
    return View(said, html=False)


def revoke_choice(found: Sequence[Coordinator]) -> View:
    if not found:
        return View(_("There are no coordinators."), html=False)
    rows = [[Button(c.name, RevokeCoordinator(c.user_id))] for c in found]
    return View.of(_("Whom should I remove as a coordinator?"), rows, html=False)


def revoked(removed: Coordinator) -> View:
    return View(_("{name} is no longer a coordinator.", name=removed.name), html=False)


def audit(found: AuditPage) -> View:
    turn = []
    who, action = found.only.actor_id, found.only.action
    if found.page > 1:
        turn.append(Button(_("Newer entries"), ShowAudit(found.page - 1, who, action)))
    if found.page < found.pages:
        turn.append(Button(_("Older entries"), ShowAudit(found.page + 1, who, action)))
    return lines_view(text.audit_lines(found), [turn])
