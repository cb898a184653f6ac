"""Thin Telegram handlers for coordinators and admins: parse, call ReportService, render.

Commands: /summary [group], /chart [group], /comments [question [page]], /export, /reports
for coordinators and admins; /grant, /revoke [id], /roles, /audit for admins. Buttons carry
`K:<kind>:<value>`. An invitation link's `/start grant-…` is taken in group -5, before the
respondents' /start. The text of every report comes from bot/reports/text.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.i18n import N_, _
from bot.reports import text
from bot.reports.access import GRANT_PREFIX
from bot.reports.errors import (
    AlreadyStaff,
    FilterSuppressed,
    GrantExpired,
    GrantUnknown,
    GrantUsed,
    NotACoordinator,
    NotAnAdmin,
    ReportError,
    TooFewComments,
    TooFewResponses,
    UnknownCoordinator,
    UnknownFilter,
    UnknownQuestion,
)
from bot.reports.filters import dimension_question
from bot.reports.model import DIMENSIONS, Actor, Role
from bot.reports.service import ReportService
from bot.survey.model import ReportRole
from handlers import views
from handlers.context import services

Context = ContextTypes.DEFAULT_TYPE
Result = TypeVar("Result")

COMMANDS: dict[str, str] = {
    "summary": N_("The results so far; for one group: /summary country=jordan"),
    "chart": N_("The results as charts"),
    "comments": N_("Read the free-text answers"),
    "export": N_("Download the answers as CSV and Excel files"),
    "reports": N_("The commands for coordinators"),
}
"""Coordinators' commands with their help text (admins may use them too)."""

ADMIN_COMMANDS: dict[str, str] = {
    "grant": N_("Create a one-time link that makes someone a coordinator"),
    "revoke": N_("Remove a coordinator"),
    "roles": N_("See the admins, the coordinators and unused links"),
    "audit": N_("See what coordinators and admins have done"),
}


def message_for(error: ReportError) -> str:
    """The coordinator-facing explanation of a reports error, in the current language."""
    match error:
        case NotACoordinator():
            return _(
                "This command is for the coordinators of this consultation. If you coordinate "
                "it, ask an administrator for an invitation link."
            )
        case NotAnAdmin():
            return _("This command is for administrators.")
        case GrantUnknown():
            return _(
                "This invitation link is not valid. Please ask an administrator for a new one."
            )
        case GrantUsed():
            return _(
                "This invitation link has already been used. Please ask an administrator for a "
                "new one."
            )
        case GrantExpired():
            return _(
                "This invitation link has expired: links work for 24 hours. Please ask an "
                "administrator for a new one."
            )
        case AlreadyStaff():
            return _(
                "You already have access to the reports. The link was not used, so it can still "
                "be given to someone else."
            )
        case UnknownCoordinator():
            return _("That person is not a coordinator. See who is with /roles.")
        case UnknownFilter(text=wanted):
            return _(
                "I do not know the group “{group}”. Send /summary and choose a group with the "
                "buttons, or write for example /summary country=jordan.",
                group=wanted,
            )
        case FilterSuppressed(threshold=threshold):
            return _(
                "This group cannot be shown: it, or what sets it apart from the other groups, "
                "has fewer than {threshold} respondents, so someone could be recognised.",
                threshold=threshold,
            )
        case TooFewResponses(threshold=threshold):
            return _(
                "There are fewer than {threshold} completed responses so far. Results are shown "
                "from {threshold} on, so that nobody can be recognised.",
                threshold=threshold,
            )
        case UnknownQuestion():
            return _("That question has no free-text answers. Send /comments to choose one.")
        case TooFewComments(threshold=threshold):
            return _(
                "This question has fewer than {threshold} answers, so they are not shown: with "
                "so few, someone could be recognised.",
                threshold=threshold,
            )
    return _("Sorry, something went wrong.")


# -- plumbing -------------------------------------------------------------------------------


def _actor(update: Update) -> Actor:
    user = update.effective_user
    return Actor(user.id, user.full_name)


def _reports(context: Context) -> ReportService:
    return services(context).reports


async def _attempt(
    update: Update, context: Context, action: Callable[[ReportService], Awaitable[Result]]
) -> Result | None:
    """Run one use case; on a reports error, tell the user why and return None."""
    try:
        return await action(_reports(context))
    except ReportError as error:
        await context.bot.send_message(update.effective_chat.id, message_for(error))
        return None


async def _send(
    context: Context,
    chat_id: int,
    lines: Sequence[str],
    keyboard: InlineKeyboardMarkup | None = None,
) -> None:
    """Lines split under Telegram's limit; the keyboard goes under the last message."""
    messages = views.split_message(lines)
    for index, message in enumerate(messages):
        await context.bot.send_message(
            chat_id,
            message,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard if index == len(messages) - 1 else None,
        )


def _argument(context: Context) -> str:
    return " ".join(context.args or [])


# -- coordinators ---------------------------------------------------------------------------


async def summary(update: Update, context: Context) -> None:
    """/summary [group]: completed responses, barriers, the local–national gap, priorities."""
    await _summary(update, context, _argument(context))


async def _summary(update: Update, context: Context, wanted: str) -> None:
    actor = _actor(update)
    result = await _attempt(update, context, lambda reports: reports.summary(actor, wanted))
    if result is None:
        return
    lines = text.summary_lines(result)
    keyboard = None
    if result.only is None:
        lines += ["", _("To see one group, choose by what:")]
        survey = _reports(context).survey
        by = [d for d in DIMENSIONS if dimension_question(survey, d) is not None]
        keyboard = views.keyboard([[(_(text.DIMENSION_NAMES[d]), f"K:d:{d.value}") for d in by]])
    await _send(context, update.effective_chat.id, lines, keyboard)


async def chart(update: Update, context: Context) -> None:
    """/chart [group]: barrier agreement local vs national, and the priorities, as images."""
    actor, wanted = _actor(update), _argument(context)
    found = await _attempt(update, context, lambda reports: reports.charts(actor, wanted))
    for image in found or ():
        await context.bot.send_photo(
            update.effective_chat.id, InputFile(image.png, filename=image.filename)
        )


async def comments(update: Update, context: Context) -> None:
    """/comments [question [page]]: the free-text answers, a page at a time."""
    actor = _actor(update)
    args = context.args or []
    if not args:
        found = await _attempt(update, context, lambda reports: reports.comment_questions(actor))
        if found is None:
            return
        rows = [
            [(text.button_label(item.question), f"K:c:{item.question.id}:1")]
            for item in found
            if item.answers is not None
        ]
        lines = text.comment_questions_lines(found, _reports(context).threshold)
        await _send(context, update.effective_chat.id, lines, views.keyboard(rows))
        return
    page = int(args[1]) if len(args) > 1 and args[1].isdigit() else 1
    await _comments_page(update, context, args[0], page)


async def _comments_page(update: Update, context: Context, question_id: str, page: int) -> None:
    actor = _actor(update)
    found = await _attempt(
        update, context, lambda reports: reports.comments(actor, question_id, page)
    )
    if found is None:
        return
    turn = []
    if found.page > 1:
        turn.append((_("Previous page"), f"K:c:{found.question.id}:{found.page - 1}"))
    if found.page < found.pages:
        turn.append((_("Next page"), f"K:c:{found.question.id}:{found.page + 1}"))
    await _send(
        context, update.effective_chat.id, text.comments_lines(found), views.keyboard([turn])
    )


async def export(update: Update, context: Context) -> None:
    """/export: the answers as CSV and XLSX, one row per respondent under a pseudonymous code."""
    actor = _actor(update)
    files = await _attempt(update, context, lambda reports: reports.export(actor))
    if files is None:
        return
    caption = _(
        "Completed responses: {count}. The CSV file opens in Excel with Arabic intact; the Excel "
        "file also has a codebook sheet.",
        count=files.respondents,
    )
    chat_id = update.effective_chat.id
    await context.bot.send_document(chat_id, InputFile(files.csv, filename="hiwar-answers.csv"))
    await context.bot.send_document(
        chat_id, InputFile(files.xlsx, filename="hiwar-answers.xlsx"), caption=caption
    )


async def reports_help(update: Update, context: Context) -> None:
    """/reports: the coordinators' commands (and the admins' ones, for admins)."""
    actor = _actor(update)
    role = await _attempt(update, context, lambda reports: reports.help(actor))
    if role is None:
        return
    commands = {**COMMANDS, **(ADMIN_COMMANDS if role == Role.ADMIN else {})}
    lines = [text.bold(_("Commands for coordinators")), ""]
    lines += [f"/{name} — {_(description)}" for name, description in commands.items()]
    await _send(context, update.effective_chat.id, lines)


# -- admins ---------------------------------------------------------------------------------


async def grant(update: Update, context: Context) -> None:
    """/grant: a one-time link, valid for 24 hours, that makes its first user a coordinator."""
    actor = _actor(update)
    issued = await _attempt(update, context, lambda reports: reports.access.grant(actor))
    if issued is None:
        return
    await context.bot.send_message(
        update.effective_chat.id,
        _(
            "Send this link to the person who should become a coordinator. It works once, until "
            "{time} UTC:",
            time=issued.expires_at.strftime("%Y-%m-%d %H:%M"),
        ),
    )
    await context.bot.send_message(
        update.effective_chat.id, f"https://t.me/{context.bot.username}?start={issued.code}"
    )


async def redeem(update: Update, context: Context) -> None:
    """Group -5: `/start grant-…` from an invitation link; the respondents' /start never sees it."""
    actor, code = _actor(update), _argument(context)
    joined = await _attempt(update, context, lambda reports: reports.access.redeem(actor, code))
    if joined is not None:
        await context.bot.send_message(
            update.effective_chat.id,
            _(
                "Welcome! You are now a coordinator of this consultation. Send /summary to "
                "see the results, or /reports for all your commands."
            ),
        )
    raise ApplicationHandlerStop


async def revoke(update: Update, context: Context) -> None:
    """/revoke [id]: remove a coordinator; without an id, choose one with a button."""
    wanted = _argument(context)
    if wanted:
        await _revoke(update, context, int(wanted) if wanted.isdigit() else 0)
        return
    actor = _actor(update)
    found = await _attempt(update, context, lambda reports: reports.access.coordinators(actor))
    if found is None:
        return
    if not found:
        await context.bot.send_message(update.effective_chat.id, _("There are no coordinators."))
        return
    rows = [[(c.name, f"K:r:{c.user_id}")] for c in found]
    await context.bot.send_message(
        update.effective_chat.id,
        _("Whom should I remove as a coordinator?"),
        reply_markup=views.keyboard(rows),
    )


async def _revoke(update: Update, context: Context, user_id: int) -> None:
    actor = _actor(update)
    removed = await _attempt(update, context, lambda reports: reports.access.revoke(actor, user_id))
    if removed is not None:
        await context.bot.send_message(
            update.effective_chat.id,
            _("{name} is no longer a coordinator.", name=removed.name),
        )


async def roles(update: Update, context: Context) -> None:
    """/roles: the admins, the coordinators and how many invitation links are unused."""
    actor = _actor(update)
    found = await _attempt(update, context, lambda reports: reports.access.roles(actor))
    if found is not None:
        await _send(context, update.effective_chat.id, text.roles_lines(found))


async def audit(update: Update, context: Context) -> None:
    """/audit: the latest coordinator and admin actions, newest first."""
    actor = _actor(update)
    found = await _attempt(update, context, lambda reports: reports.access.audit(actor))
    if found is not None:
        await _send(context, update.effective_chat.id, text.audit_lines(found))


# -- buttons --------------------------------------------------------------------------------


async def button(update: Update, context: Context) -> None:
    """`K:d:<dimension>` groups to choose from, `K:f:<group>` a group's summary,
    `K:c:<question>:<page>` a page of answers, `K:r:<id>` remove a coordinator."""
    query = update.callback_query
    await query.answer()
    _prefix, kind, value = (query.data or "K::").split(":", 2)
    match kind:
        case "d":
            await _choose_group(update, context, ReportRole(value))
        case "f":
            await _summary(update, context, value)
        case "c":
            question_id, _sep, page = value.rpartition(":")
            await _comments_page(update, context, question_id, int(page))
        case "r":
            await _revoke(update, context, int(value))


async def _choose_group(update: Update, context: Context, dimension: ReportRole) -> None:
    actor = _actor(update)
    found = await _attempt(update, context, lambda reports: reports.filters(actor, dimension))
    if found is None:
        return
    survey = _reports(context).survey
    if not found:
        await context.bot.send_message(
            update.effective_chat.id,
            _(
                "No group can be shown on its own yet: each is too small, or would become too small by subtraction."
            ),
        )
        return
    buttons = [(text.option_label(survey, only), f"K:f:{only}") for only in found]
    await context.bot.send_message(
        update.effective_chat.id,
        _("Choose a group:"),
        reply_markup=views.keyboard(views.pair_up(buttons)),
    )


def register(application: Application) -> None:
    application.add_handler(
        CommandHandler("start", redeem, filters.Regex(rf"^/start(@\w+)?\s+{GRANT_PREFIX}")),
        group=-5,
    )
    for name, callback in {
        "summary": summary,
        "chart": chart,
        "comments": comments,
        "export": export,
        "reports": reports_help,
        "grant": grant,
        "revoke": revoke,
        "roles": roles,
        "audit": audit,
    }.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(button, pattern=r"^K:"))
