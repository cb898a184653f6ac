"""Thin Telegram handlers for respondents: parse the update, call the service, render.

Flow (see survey_flow.mmd beside this file): language → consent → questions (back, skip,
pause, resume) → summary. All state is in storage; nothing is kept between updates.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, CallbackQuery, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.i18n import N_, _, current_language, pick_language, set_language
from bot.survey.errors import (
    AlreadyAnswered,
    ButtonExpected,
    DuplicateUpdate,
    HiwarError,
    NoActiveSurvey,
    StaleButton,
    SurveyAlreadyCompleted,
)
from bot.survey.service import (
    AlreadyCompleted,
    AskConsent,
    AskQuestion,
    ChooseLanguage,
    Completed,
    Declined,
    OfferResume,
    Paused,
    Recorded,
    Screen,
)
from handlers import views
from handlers.context import services
from handlers.errors import message_for

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Callback = Callable[[Update, Context], Awaitable[None]]

COMMANDS: dict[str, str] = {
    "start": N_("Start or continue the survey"),
    "language": N_("Change the language"),
    "back": N_("Change your previous answer"),
    "skip": N_("Skip an optional question"),
    "cancel": N_("Pause; your answers are kept"),
    "mydata": N_("See what is stored about you"),
    "delete": N_("Erase all your data"),
    "help": N_("What this bot does and its commands"),
}
"""Respondents' commands with their help text (shown by /help and in Telegram's menu)."""


# -- rendering ------------------------------------------------------------------------------


async def send(bot: Bot, chat_id: int, rendered: views.Rendered) -> None:
    await bot.send_message(
        chat_id, rendered.text, parse_mode=ParseMode.HTML, reply_markup=rendered.keyboard
    )


def _note(text: str) -> views.Rendered:
    return views.Rendered(text)


async def show(update: Update, context: Context, screen: Screen) -> None:
    """Render any screen the survey service returns."""
    chat_id = update.effective_chat.id
    bot = context.bot
    match screen:
        case ChooseLanguage(suggested=suggested):
            await send(bot, chat_id, views.language_choice(suggested))
        case AskConsent(survey=survey):
            await send(bot, chat_id, views.consent(survey.title.get(current_language())))
        case Declined():
            await send(
                bot,
                chat_id,
                _note(
                    _(
                        "No problem: none of your answers have been stored. If you change your mind, "
                        "send /start."
                    )
                ),
            )
        case AskQuestion():
            await send(bot, chat_id, views.ask(screen))
        case Recorded(question=question, value=value, then=AskQuestion() as then) if (
            _tapped_message(update) is not None
        ):
            # A tap turns the question's card into the next question: one call instead of
            # two, no stale keyboards left behind; the toast confirms what was saved.
            await _edit(_tapped_message(update), views.ask(then))
        case Recorded(question=question, value=value, then=then):
            tapped = _tapped_message(update)
            if tapped is not None:
                await _edit(tapped, views.Rendered(views.recorded(question, value)))
            await show(update, context, then)
        case Completed():
            for text in views.completed(screen):
                await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        case OfferResume(answered=answered, total=total):
            await send(
                bot,
                chat_id,
                views.Rendered(
                    _(
                        "Welcome back! You have answered {answered} of {total} questions. "
                        "Shall we continue where you stopped?",
                        answered=answered,
                        total=total,
                    ),
                    views.keyboard([[(_("Continue"), "R:c"), (_("Start over"), "R:s")]]),
                ),
            )
        case Paused():
            await send(
                bot,
                chat_id,
                _note(
                    _(
                        "Paused. Your answers are saved. Send /start or any message whenever you want "
                        "to continue."
                    )
                ),
            )
        case AlreadyCompleted():
            await send(bot, chat_id, _note(message_for(SurveyAlreadyCompleted())))


def _tapped_message(update: Update) -> Message | None:
    query = update.callback_query
    return query.message if query is not None and isinstance(query.message, Message) else None


async def _edit(message: Message | None, rendered: views.Rendered) -> None:
    """Edit a card; an edit that changes nothing (a replayed update) is not an error."""
    assert message is not None
    try:
        await message.edit_text(
            rendered.text, parse_mode=ParseMode.HTML, reply_markup=rendered.keyboard
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def acknowledge(
    query: CallbackQuery, text: str | None = None, *, alert: bool = False
) -> None:
    """Stop the button's spinner, optionally with a short toast or an alert to dismiss.

    Best effort: Telegram refuses to answer a query twice or once it is old, which happens
    to updates replayed after a crash; the user has had (or is getting) a reply anyway.
    """
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as error:
        log.info("callback_answer_refused", extra={"reason": str(error)})


async def explain(update: Update, context: Context, error: HiwarError) -> None:
    """Tell the user why their input was not taken; never changes any answer."""
    query = update.callback_query
    if isinstance(error, DuplicateUpdate):
        # Telegram re-delivers updates that a crashed instance applied but had not confirmed;
        # the reply may never have gone out, so show where the respondent is now.
        await _show_current(update, context)
        if query is not None:
            await acknowledge(query)
        return
    if query is not None:
        if isinstance(error, StaleButton | AlreadyAnswered):
            # The person is looking at an outdated view: bring the tapped card up to date.
            await _show_current(update, context)
        await acknowledge(query, message_for(error), alert=True)
        return
    await send(context.bot, update.effective_chat.id, _note(message_for(error)))
    if isinstance(error, ButtonExpected):
        await _show_current(update, context)


async def _show_current(update: Update, context: Context) -> None:
    """Show the question the user is on, if they are answering at all: on the tapped card
    when there is one (so that no second card appears), else as a new message."""
    try:
        screen = await services(context).survey.current(_user_id(update))
    except HiwarError:
        return
    tapped = _tapped_message(update)
    if tapped is not None:
        await _edit(tapped, views.ask(screen))
    else:
        await show(update, context, screen)


def _user_id(update: Update) -> int:
    return update.effective_user.id


# -- middleware -----------------------------------------------------------------------------


async def choose_locale(update: Update, context: Context) -> None:
    """Group -20: pick the language once per update; the user's stored choice wins."""
    user = update.effective_user
    if user is None:
        return
    respondent = await services(context).store.get_respondent(user.id)
    set_language(pick_language(respondent.language if respondent else None, user.language_code))


async def private_only(update: Update, context: Context) -> None:
    """Group -10: in a group, answer commands with a pointer to the private chat; stop there."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    message = update.effective_message
    if message is not None and message.text and message.text.startswith("/"):
        await message.reply_text(
            _(
                "To keep your answers private, please talk to me in a private chat: {link}",
                link=f"https://t.me/{context.bot.username}",
            ),
        )
    elif update.callback_query is not None:
        await acknowledge(update.callback_query)
    raise ApplicationHandlerStop


# -- commands -------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    """/start: language choice, consent, or an offer to continue where the user stopped."""
    user = update.effective_user
    screen = await services(context).survey.begin(user.id, current_language())
    await show(update, context, screen)


async def language(update: Update, context: Context) -> None:
    """/language: switch at any moment; the current question is shown again in the new one."""
    await send(context.bot, update.effective_chat.id, views.language_choice(current_language()))


async def back(update: Update, context: Context) -> None:
    """/back: ask the previous question again so its answer can be changed."""
    await _run(update, context, lambda: services(context).survey.back(_user_id(update)))


async def skip(update: Update, context: Context) -> None:
    """/skip: pass an optional question."""
    await _run(
        update,
        context,
        lambda: services(context).survey.skip(_user_id(update), None, update.update_id),
    )


async def cancel(update: Update, context: Context) -> None:
    """/cancel: pause; the answers stay and the user can continue later."""
    await _run(update, context, lambda: services(context).survey.pause(_user_id(update)))


async def my_data(update: Update, context: Context) -> None:
    """/mydata: everything stored about the user."""
    data = await services(context).survey.my_data(_user_id(update))
    for text in views.my_data(data):
        await context.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML)


async def delete(update: Update, context: Context) -> None:
    """/delete: ask for confirmation before erasing everything."""
    await send(
        context.bot,
        update.effective_chat.id,
        views.Rendered(
            _(
                "This erases your answers and everything else we store about you. It cannot be "
                "undone. Erase everything?"
            ),
            views.keyboard([[(_("Yes, erase everything"), "X:y"), (_("No, keep it"), "X:n")]]),
        ),
    )


async def help_command(update: Update, context: Context) -> None:
    """/help: what the bot is for and its commands."""
    lines = [
        _(
            "Hiwar asks people working on preventing violent extremism how national and local "
            "actors can cooperate better. Your answers are only ever shown as totals."
        ),
        "",
    ]
    lines += [f"/{name} — {_(description)}" for name, description in COMMANDS.items()]
    await context.bot.send_message(update.effective_chat.id, "\n".join(lines))


async def unknown_command(update: Update, context: Context) -> None:
    """Any other command."""
    await send(
        context.bot,
        update.effective_chat.id,
        _note(_("I do not know that command. Send /help to see what I can do.")),
    )


# -- messages -------------------------------------------------------------------------------


async def text(update: Update, context: Context) -> None:
    """Typed text: the answer to a free-text or number question, or a way back in."""
    survey = services(context).survey
    user_id = _user_id(update)
    try:
        screen: Screen = await survey.answer_text(
            user_id, update.effective_message.text or "", update.update_id
        )
    except NoActiveSurvey:
        screen = await survey.begin(user_id, current_language())
    except HiwarError as error:
        await explain(update, context, error)
        return
    await show(update, context, screen)


async def unsupported(update: Update, context: Context) -> None:
    """Stickers, photos, voice, files…: say what works and show the current question again."""
    await send(
        context.bot,
        update.effective_chat.id,
        _note(_("I can only read typed text and taps on the buttons. Nothing was changed.")),
    )
    await _show_current(update, context)


# -- buttons --------------------------------------------------------------------------------


async def button(update: Update, context: Context) -> None:
    """Every inline button: `<kind>:<question>:<value>`; any of them may be stale."""
    query = update.callback_query
    kind, _sep, rest = (query.data or "").partition(":")
    question_id, _sep, value = rest.partition(":")
    try:
        screen = await _dispatch_button(update, context, kind, question_id, value)
    except HiwarError as error:
        await explain(update, context, error)
        return
    if screen is not None:
        await show(update, context, screen)
    # Answered last: the spinner stops once the result is on screen, and all the work that
    # can take time (storage) is done before the first reply, so replies arrive together.
    saved = (
        views.saved_toast(screen.question, screen.value) if isinstance(screen, Recorded) else None
    )
    await acknowledge(query, saved)


async def _dispatch_button(
    update: Update, context: Context, kind: str, first: str, second: str
) -> Screen | None:
    survey = services(context).survey
    user_id = _user_id(update)
    update_id = update.update_id
    match kind:
        case "L" if first:
            set_language(first)
            return await survey.choose_language(user_id, current_language())
        case "C":
            return await survey.consent(user_id, agreed=first == "y")
        case "A":
            return await survey.answer_button(user_id, first, second, update_id)
        case "T":
            screen = await survey.toggle_choice(user_id, first, second, update_id)
            if _tapped_message(update) is not None:
                await _edit(_tapped_message(update), views.ask(screen))
            return None
        case "D":
            return await survey.finish_choices(user_id, first, update_id)
        case "S":
            return await survey.skip(user_id, first, update_id)
        case "B":
            if first != (await survey.current(user_id)).question.id:
                raise StaleButton
            return await survey.back(user_id)
        case "R":
            return await survey.resume(user_id, start_over=first == "s")
        case "X":
            return await _confirm_delete(update, context, first == "y")
    raise StaleButton


async def _confirm_delete(update: Update, context: Context, confirmed: bool) -> None:
    query = update.callback_query
    if confirmed:
        await services(context).survey.delete_everything(_user_id(update))
        set_language(pick_language(None, update.effective_user.language_code))
        text_ = _(
            "Done: everything we stored about you has been erased. Thank you for your "
            "time. Send /start if you ever want to take part again."
        )
    else:
        text_ = _("Nothing was erased.")
    if isinstance(query.message, Message):
        await query.message.edit_text(text_)


async def _run(update: Update, context: Context, action: Callable[[], Awaitable[Screen]]) -> None:
    try:
        screen = await action()
    except HiwarError as error:
        await explain(update, context, error)
        return
    await show(update, context, screen)


def register(application: Application) -> None:
    application.add_handler(TypeHandler(Update, choose_locale), group=-20)
    application.add_handler(TypeHandler(Update, private_only), group=-10)
    for name, callback in {
        "start": start,
        "language": language,
        "back": back,
        "skip": skip,
        "cancel": cancel,
        "mydata": my_data,
        "delete": delete,
        "help": help_command,
    }.items():
        application.add_handler(CommandHandler(name, callback))
    application.add_handler(CallbackQueryHandler(button))
    application.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(filters.TEXT, text))
    application.add_handler(MessageHandler(filters.ALL, unsupported))
