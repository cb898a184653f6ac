"""The respondents' handlers: parse the update, call the survey service, present the screen.

Flow (see bot/survey/survey_flow.mmd): language → consent → questions (back, skip, pause,
resume) → summary. All state is in storage; nothing is kept between updates.
"""

from __future__ import annotations

from telegram.ext import Application, filters

from bot.core.errors import HiwarError
from bot.core.i18n import current_language, pick_language, set_language
from bot.survey import views
from bot.survey.commands import COMMANDS
from bot.survey.errors import NoActiveSurvey
from bot.survey.messages import ERRORS
from bot.survey.service import AskQuestion, Completed, Recorded, Screen
from bot.survey.views import FLOW
from handlers.base.context import Services
from handlers.base.feature import Feature
from handlers.base.menus import help_command
from handlers.base.present import Ui
from handlers.base.routing import button, command, message


async def present(ui: Ui, screen: Screen) -> None:
    """Show any screen the survey service returns; a tap turns its own card into it."""
    match screen:
        case Recorded(question=question, value=value, then=AskQuestion() as then) if ui.tapped:
            # The card becomes the next question: one call, no stale keyboard left behind;
            # the toast says what was saved.
            await ui.show(views.ask(then), edit=True, flow=FLOW)
            ui.toast(views.saved_toast(question, value))
        case Recorded(question=question, value=value, then=AskQuestion() as then):
            await ui.show(views.after_typed_answer(question, value, then), flow=FLOW)
        case Recorded(question=question, value=value, then=then):
            if ui.tapped:
                await ui.show(views.View(views.recorded(question, value)), edit=True)
                ui.toast(views.saved_toast(question, value))
            await present(ui, then)
        case Completed():
            await ui.show(views.completed(screen))
        case _:
            await ui.show(views.screen(screen), flow=FLOW)


async def show_current(ui: Ui, services: Services) -> None:
    """The question the person is on, if they are answering: on the tapped card when there
    is one (so that no second card appears), else as a new message."""
    try:
        current = await services.survey.current(ui.user_id)
    except HiwarError:
        return
    await ui.show(views.ask(current), edit=True, flow=FLOW)


# -- commands -------------------------------------------------------------------------------


async def start(ui: Ui, services: Services) -> None:
    """/start: language choice, consent, or an offer to continue where the person stopped."""
    await present(ui, await services.survey.begin(ui.user_id, current_language()))


async def language(ui: Ui, services: Services) -> None:
    """/language: switch at any moment; the current question is shown again in the new one."""
    languages = services.survey.survey.languages
    await ui.show(views.language_choice(current_language(), languages), flow=FLOW)


async def back(ui: Ui, services: Services) -> None:
    """/back: ask the previous question again so its answer can be changed."""
    await present(ui, await services.survey.back(ui.user_id))


async def skip(ui: Ui, services: Services) -> None:
    """/skip: pass an optional question."""
    await present(ui, await services.survey.skip(ui.user_id, None, ui.update.update_id))


async def cancel(ui: Ui, services: Services) -> None:
    """/cancel: pause; the answers stay and the person can continue later."""
    await present(ui, await services.survey.pause(ui.user_id))


async def my_data(ui: Ui, services: Services) -> None:
    """/mydata: everything stored about the person."""
    await ui.show(views.my_data(await services.survey.my_data(ui.user_id)))


async def delete(ui: Ui, services: Services) -> None:
    """/delete: ask for confirmation before erasing everything."""
    await ui.show(views.confirm_erase())


# -- messages -------------------------------------------------------------------------------


async def text(ui: Ui, services: Services) -> None:
    """Typed text: the answer to a free-text or number question, or a way back in."""
    survey = services.survey
    try:
        screen = await survey.answer_text(ui.user_id, ui.text, ui.update.update_id, ui.sent)
    except NoActiveSurvey:
        screen = await survey.begin(ui.user_id, current_language())
    await present(ui, screen)


async def edited(ui: Ui, services: Services) -> None:
    """An edited message: only the answer that message gave changes, and the person is told."""
    sent = ui.sent
    assert sent is not None
    updated = await services.survey.edit_answer(
        ui.user_id, sent.message_id, ui.text, ui.update.update_id
    )
    await ui.show(views.answer_updated(updated))


async def unsupported(ui: Ui, services: Services) -> None:
    """Stickers, photos, voice, files…: say what works and show the current question again."""
    await ui.show(views.unsupported())
    await show_current(ui, services)


# -- buttons --------------------------------------------------------------------------------


async def language_button(ui: Ui, services: Services) -> None:
    """A language button: the choice is stored and the flow goes on in that language."""
    set_language(ui.data(views.PickLanguage).language)
    await present(ui, await services.survey.choose_language(ui.user_id, current_language()))


async def consent(ui: Ui, services: Services) -> None:
    """The consent card: I agree starts (or carries on with) the survey; No stores nothing."""
    agreed = ui.data(views.Consent).agreed
    await present(ui, await services.survey.consent(ui.user_id, agreed=agreed))


async def answer(ui: Ui, services: Services) -> None:
    """A single-choice option or an agreement-scale value."""
    data = ui.data(views.Answer)
    recorded = await services.survey.answer_button(
        ui.user_id, data.question, data.value, ui.update.update_id
    )
    await present(ui, recorded)


async def toggle(ui: Ui, services: Services) -> None:
    """A multiple-choice option ticked or unticked: the card shows the new draft."""
    data = ui.data(views.Toggle)
    asked = await services.survey.toggle_choice(
        ui.user_id, data.question, data.option, ui.update.update_id
    )
    await ui.show(views.ask(asked), edit=True, flow=FLOW)


async def done_choosing(ui: Ui, services: Services) -> None:
    """Done on a multiple-choice question: the ticked options are the answer."""
    question = ui.data(views.DoneChoosing).question
    await present(
        ui, await services.survey.finish_choices(ui.user_id, question, ui.update.update_id)
    )


async def skip_button(ui: Ui, services: Services) -> None:
    """Skip under an optional question."""
    question = ui.data(views.Skip).question
    await present(ui, await services.survey.skip(ui.user_id, question, ui.update.update_id))


async def back_button(ui: Ui, services: Services) -> None:
    """Back under a question: the one before it, with the answer given."""
    question = ui.data(views.Back).question
    await present(ui, await services.survey.back(ui.user_id, question))


async def page(ui: Ui, services: Services) -> None:
    """Another page of a long list of options: the same card shows it."""
    data = ui.data(views.Page)
    shown = await services.survey.show_page(ui.user_id, data.question, data.page)
    await ui.show(views.ask(shown), edit=True, flow=FLOW)


async def use_default(ui: Ui, services: Services) -> None:
    """The suggested answer of a typed question, accepted with its button."""
    question = ui.data(views.UseDefault).question
    await present(
        ui, await services.survey.use_default(ui.user_id, question, ui.update.update_id)
    )


async def keep(ui: Ui, services: Services) -> None:
    """Keep under a question answered before: that answer again."""
    question = ui.data(views.Keep).question
    await present(
        ui, await services.survey.keep_answer(ui.user_id, question, ui.update.update_id)
    )


async def join_round(ui: Ui, services: Services) -> None:
    """The new-round card: start from the previous answers, or afresh."""
    data = ui.data(views.JoinRound)
    screen = await services.survey.join_round(ui.user_id, data.reuse, data.round)
    await ui.show(views.screen(screen), edit=True, flow=FLOW)


async def resume(ui: Ui, services: Services) -> None:
    """The welcome-back card: Continue, or Start over, which asks first."""
    if ui.data(views.Resume).start_over:
        await services.survey.current(ui.user_id)  # only for someone answering
        await ui.show(views.confirm_start_over(), flow=FLOW)
        return
    await present(ui, await services.survey.resume(ui.user_id, start_over=False))


async def confirm_start_over(ui: Ui, services: Services) -> None:
    """The answer to "Start over?": erase the answers and begin again, or carry on."""
    start_over = ui.data(views.ConfirmStartOver).confirmed
    await present(ui, await services.survey.resume(ui.user_id, start_over=start_over))


async def erase(ui: Ui, services: Services) -> None:
    """The answer to /delete's question."""
    confirmed = ui.data(views.Erase).confirmed
    if confirmed:
        await services.survey.delete_everything(ui.user_id)
        user = ui.update.effective_user
        set_language(pick_language(None, user.language_code if user else None))
    await ui.show(views.erased(confirmed), edit=True)


def register(application: Application) -> None:
    for name, handler in {
        "start": start,
        "language": language,
        "back": back,
        "skip": skip,
        "cancel": cancel,
        "mydata": my_data,
        "delete": delete,
        "help": help_command,
    }.items():
        application.add_handler(command(name, handler))
    application.add_handler(button(views.PickLanguage, language_button))
    application.add_handler(button(views.Consent, consent))
    for kind, handler in (
        (views.Answer, answer),
        (views.Toggle, toggle),
        (views.DoneChoosing, done_choosing),
        (views.Skip, skip_button),
        (views.Back, back_button),
        (views.Page, page),
        (views.UseDefault, use_default),
        (views.Keep, keep),
        (views.Resume, resume),
        (views.ConfirmStartOver, confirm_start_over),
    ):
        application.add_handler(button(kind, handler, refresh=show_current))
    application.add_handler(button(views.JoinRound, join_round))
    application.add_handler(button(views.Erase, erase))
    typed = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    application.add_handler(message(typed, text, refresh=show_current))
    application.add_handler(message(filters.UpdateType.MESSAGE & ~filters.TEXT, unsupported))
    edits = filters.UpdateType.EDITED_MESSAGE & filters.TEXT & ~filters.COMMAND
    application.add_handler(message(edits, edited))


FEATURE = Feature("survey", COMMANDS, ERRORS, register)
