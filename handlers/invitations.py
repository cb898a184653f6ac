"""Thin Telegram handlers for workshop invitations: parse the update, call the service, render.

Admins: /invite (a wizard whose state is in the database, see
bot/invitations/invite_flow.mmd), /invitations. Everyone: the RSVP buttons, /unsubscribe.
The wizard's typed steps are read in group -5, before the survey's text handler, and only
when the admin has a draft; every other message goes on to the survey.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.i18n import LANGUAGES, N_, _, _n, current_language, use_language
from bot.invitations import clock, views
from bot.invitations.errors import (
    BadDateTime,
    BadDuration,
    DateInPast,
    EventStarted,
    NobodyToInvite,
    NoInvitationDraft,
    NotAnAdmin,
    NotArabic,
    PreviewOnly,
    TimeSkipped,
    UnknownInvitation,
    UnknownTimeZone,
)
from bot.invitations.model import Dimension, Rsvp
from bot.invitations.service import InvitationService, WizardScreen
from bot.invitations.telegram import send_card
from bot.invitations.wizard import Step
from bot.survey.errors import HiwarError
from handlers import errors
from handlers.context import services
from handlers.views import Rendered, split_message

Context = ContextTypes.DEFAULT_TYPE

COMMANDS: dict[str, str] = {"unsubscribe": N_("Stop receiving workshop invitations")}
"""Commands for everyone, with their help text (admins' commands are not in the menu)."""


def message_for(error: HiwarError) -> str:
    """This feature's errors in the current language; the survey's own through its mapping."""
    match error:
        case NotAnAdmin():
            return _("This command is only for coordinators.")
        case NoInvitationDraft():
            return _(
                "That button belongs to an earlier step, so nothing was changed. Send /invite "
                "to see where the invitation stands."
            )
        case NotArabic():
            return _(
                "This should be in Arabic, but it has no Arabic letters. Please send it again."
            )
        case BadDateTime():
            return _(
                "I could not read that date. Please send it as {pattern}, for example {example}.",
                pattern=views.DATE_PATTERN,
                example=views.example_start("UTC", clock.now()),
            )
        case UnknownTimeZone(name=name):
            return _(
                "I do not know the time zone “{name}”. Please send an IANA name such as "
                "{examples}.",
                name=name,
                examples=views.ZONE_EXAMPLES,
            )
        case TimeSkipped():
            return _(
                "That time does not exist in this time zone, because the clocks change then. "
                "Please send another time."
            )
        case DateInPast():
            return _("That moment has already passed. Please send a date and time in the future.")
        case BadDuration(longest_hours=hours):
            return _n(
                "Please send the duration in minutes (for example 90) or as hours:minutes (for "
                "example 2:30), at most {count} hour.",
                "Please send the duration in minutes (for example 90) or as hours:minutes (for "
                "example 2:30), at most {count} hours.",
                hours,
            )
        case NobodyToInvite():
            return _("Nobody matches this audience, so there is no one to send it to.")
        case UnknownInvitation():
            return _("This invitation is no longer available.")
        case PreviewOnly():
            return _("This is only a preview; these buttons work in the invitation people get.")
        case EventStarted():
            return _("This event has already started, so answers are closed.")
    return errors.message_for(error)


def _invitations(context: Context) -> InvitationService:
    return services(context).invitations


async def _explain(update: Update, context: Context, error: HiwarError) -> None:
    query = update.callback_query
    if query is not None:
        await query.answer(message_for(error), show_alert=True)
    else:
        await context.bot.send_message(update.effective_chat.id, message_for(error))


# -- the admins' wizard ---------------------------------------------------------------------


async def _send(context: Context, chat_id: int, rendered: Rendered) -> None:
    await context.bot.send_message(
        chat_id, rendered.text, parse_mode=ParseMode.HTML, reply_markup=rendered.keyboard
    )


async def show_wizard(update: Update, context: Context, screen: WizardScreen) -> None:
    """The step as a new message; on the preview step, first the invitation in each language."""
    chat_id = update.effective_chat.id
    if screen.draft.step == Step.PREVIEW:
        await _preview_cards(context, chat_id, screen)
    await _send(context, chat_id, views.wizard_step(screen, clock.now()))


async def _preview_cards(context: Context, chat_id: int, screen: WizardScreen) -> None:
    for language in LANGUAGES:
        with use_language(language):
            card = views.preview_card(screen, clock.now())
        await send_card(context.bot, chat_id, card)


async def invite(update: Update, context: Context) -> None:
    """/invite: start preparing an invitation, or show the one in progress where it stopped."""
    try:
        screen = await _invitations(context).open_wizard(update.effective_user.id)
    except HiwarError as error:
        await _explain(update, context, error)
        return
    await show_wizard(update, context, screen)


async def wizard_text(update: Update, context: Context) -> None:
    """Group -5: a typed step's answer (or /cancel) from an admin with a draft; stops there."""
    user, message = update.effective_user, update.effective_message
    invitations = _invitations(context)
    if user is None or message is None or not await invitations.has_draft(user.id):
        return
    text = message.text or ""
    if text.startswith("/"):
        if text.split()[0].split("@")[0] != "/cancel":
            return
        await invitations.cancel(user.id)
        await context.bot.send_message(update.effective_chat.id, views.cancelled())
        raise ApplicationHandlerStop
    try:
        screen = await invitations.type_text(user.id, text)
    except HiwarError as error:
        current = await invitations.open_wizard(user.id)
        asked_again = views.wizard_step(current, clock.now())
        await _send(
            context,
            update.effective_chat.id,
            Rendered(f"{escape(message_for(error))}\n\n{asked_again.text}", asked_again.keyboard),
        )
        raise ApplicationHandlerStop from None
    await show_wizard(update, context, screen)
    raise ApplicationHandlerStop


WizardCall = Callable[[InvitationService, int], Awaitable[WizardScreen]]
_DIMENSIONS, _STEPS = frozenset(Dimension), frozenset(Step)


def _wizard_call(data: str) -> tuple[bool, WizardCall]:
    """A wizard button as (whether it changes its own message, the service call)."""
    match data.split(":")[1:]:
        case ["dim", "-"]:
            return True, lambda s, admin: s.show_filter(admin, None)
        case ["dim", dimension] if dimension in _DIMENSIONS:
            return True, lambda s, admin: s.show_filter(admin, Dimension(dimension))
        case ["tick", dimension, value] if dimension in _DIMENSIONS:
            return True, lambda s, admin: s.toggle_filter(admin, Dimension(dimension), value)
        case ["all"]:
            return True, lambda s, admin: s.everyone(admin)
        case ["back", step] if step in _STEPS:
            return False, lambda s, admin: s.back(admin, Step(step))
        case ["preview"]:
            return False, lambda s, admin: s.preview(admin)
    raise NoInvitationDraft


async def _conclude(invitations: InvitationService, admin_id: int, send: bool) -> str:
    """Send or Cancel: the wizard ends and its last message says how."""
    if send:
        return views.launched(await invitations.launch(admin_id, current_language()))
    await invitations.cancel(admin_id)
    return views.cancelled()


async def wizard_button(update: Update, context: Context) -> None:
    """`iv:<action>[:…]`, any of which may be stale (checked against the stored draft)."""
    query = update.callback_query
    data = query.data or ""
    invitations, admin_id = _invitations(context), update.effective_user.id
    message = query.message if isinstance(query.message, Message) else None
    try:
        if data in ("iv:send", "iv:cancel"):
            text = await _conclude(invitations, admin_id, send=data == "iv:send")
            await query.answer()
            if message is not None:
                await message.edit_text(text, parse_mode=ParseMode.HTML)
            return
        in_place, call = _wizard_call(data)
        screen = await call(invitations, admin_id)
    except HiwarError as error:
        await _explain(update, context, error)
        return
    await query.answer()
    if in_place:
        rendered = views.wizard_step(screen, clock.now())
        if message is not None:
            await message.edit_text(
                rendered.text, parse_mode=ParseMode.HTML, reply_markup=rendered.keyboard
            )
        return
    if message is not None:
        await message.edit_reply_markup(None)
    await show_wizard(update, context, screen)


async def list_invitations(update: Update, context: Context) -> None:
    """/invitations: the latest invitations with delivery figures and RSVP counts."""
    try:
        summaries = await _invitations(context).overview(update.effective_user.id)
    except HiwarError as error:
        await _explain(update, context, error)
        return
    for text in split_message(views.overview(summaries)):
        await context.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML)


# -- recipients -----------------------------------------------------------------------------


async def rsvp(update: Update, context: Context) -> None:
    """`rsvp:<invitation>:<answer>`: record (or change) the answer and tick it on the buttons."""
    query = update.callback_query
    _prefix, invitation, answer = [*(query.data or "").split(":"), "", ""][:3]
    try:
        if not invitation.isdecimal() or answer not in set(Rsvp):
            raise UnknownInvitation
        saved = await _invitations(context).answer(
            update.effective_user.id, int(invitation), Rsvp(answer)
        )
    except HiwarError as error:
        await _explain(update, context, error)
        return
    await query.answer(views.rsvp_saved(saved))
    ticked = views.rsvp_keyboard(saved.invitation.id, saved.answer)
    if isinstance(query.message, Message) and query.message.reply_markup != ticked:
        await query.message.edit_reply_markup(ticked)


async def unsubscribe(update: Update, context: Context) -> None:
    """/unsubscribe: no more invitations or reminders, including any still queued."""
    await _invitations(context).unsubscribe(update.effective_user.id)
    await context.bot.send_message(
        update.effective_chat.id,
        _(
            "Done: you will not receive any more invitations or reminders. Your survey answers "
            "are not affected."
        ),
    )


def register(application: Application) -> None:
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.TEXT & filters.ChatType.PRIVATE, wizard_text
        ),
        group=-5,
    )
    application.add_handler(CommandHandler("invite", invite))
    application.add_handler(CommandHandler("invitations", list_invitations))
    application.add_handler(CommandHandler("unsubscribe", unsubscribe))
    application.add_handler(CallbackQueryHandler(wizard_button, pattern=r"^iv:"))
    application.add_handler(CallbackQueryHandler(rsvp, pattern=r"^rsvp:"))
