"""Workshop invitations' handlers: parse the update, call the service, present the views.

Admins: /invite (a wizard whose state is in the database, see
bot/invitations/invite_flow.mmd), /invitations. Everyone: the RSVP buttons, /unsubscribe (or
STOP, إيقاف: read in group -6, before any flow could take it as an answer), /subscribe.
The wizard's typed steps are read in group -5, before the survey's text handler, and only
when the admin has a draft; every other message goes on to the survey.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from html import escape

from telegram.ext import Application, ApplicationHandlerStop, filters

from bot.core.errors import HiwarError
from bot.core.i18n import LANGUAGES, current_language, use_language
from bot.core.views import File, View
from bot.invitations import clock, views
from bot.invitations.commands import COMMANDS
from bot.invitations.messages import ERRORS
from bot.invitations.service import WizardScreen
from bot.invitations.views import FLOW
from bot.invitations.wizard import Step
from handlers.base.context import Services
from handlers.base.errors import explanation_for
from handlers.base.feature import Feature
from handlers.base.present import Ui
from handlers.base.routing import button, command, message

# -- the admins' wizard ---------------------------------------------------------------------


async def show_step(ui: Ui, screen: WizardScreen) -> None:
    """The step as a new message; on the preview step, first the invitation in each language."""
    if screen.draft.step == Step.PREVIEW:
        for language in LANGUAGES:
            with use_language(language):  # the card's buttons in its reader's order too
                card = views.preview_card(screen, clock.now())
                await ui.send_file(
                    File(card.ics, card.filename, caption=card.caption, rows=card.rows)
                )
    await ui.show(views.wizard_step(screen, clock.now()), flow=FLOW)


async def invite(ui: Ui, services: Services) -> None:
    """/invite: start preparing an invitation, or show the one in progress where it stopped."""
    await show_step(ui, await services.invitations.open_wizard(ui.actor))


async def wizard_text(ui: Ui, services: Services) -> None:
    """Group -5: a typed step's answer (or /cancel) from an admin with a draft; stops there."""
    invitations = services.invitations
    if not await invitations.has_draft(ui.user_id):
        return
    if ui.text.startswith("/"):
        if ui.text.split()[0].split("@")[0] != "/cancel":
            return
        await invitations.cancel(ui.actor)
        await ui.show(View(views.cancelled()))
        raise ApplicationHandlerStop
    try:
        screen = await invitations.type_text(ui.actor, ui.text)
    except HiwarError as error:
        # The reason and the step asked again, in one message.
        asked_again = views.wizard_step(await invitations.current_step(ui.actor), clock.now())
        reason = escape(explanation_for(services.errors, error).text(error) or "")
        await ui.show(View(f"{reason}\n\n{asked_again.text}", asked_again.rows), flow=FLOW)
        raise ApplicationHandlerStop from None
    await show_step(ui, screen)
    raise ApplicationHandlerStop


WizardCall = Callable[[Ui, Services], Awaitable[WizardScreen]]


def _in_place(call: WizardCall) -> Callable[[Ui, Services], Awaitable[None]]:
    """A wizard button whose step stays on its own card (the audience's filters)."""

    async def handler(ui: Ui, services: Services) -> None:
        await ui.show(views.wizard_step(await call(ui, services), clock.now()), edit=True, flow=FLOW)

    handler.__doc__ = call.__doc__
    return handler


def _next_step(call: WizardCall) -> Callable[[Ui, Services], Awaitable[None]]:
    """A wizard button that moves to another step: shown as new messages."""

    async def handler(ui: Ui, services: Services) -> None:
        screen = await call(ui, services)
        await ui.edit_buttons(())
        await show_step(ui, screen)

    handler.__doc__ = call.__doc__
    return handler


async def edit_audience(ui: Ui, services: Services) -> WizardScreen:
    """A dimension to narrow the audience by (or Done: back to the audience's summary)."""
    dimension = ui.data(views.EditAudience).dimension
    return await services.invitations.show_filter(ui.actor, dimension)


async def tick_audience(ui: Ui, services: Services) -> WizardScreen:
    """A value of the dimension being narrowed, ticked or unticked."""
    data = ui.data(views.TickAudience)
    return await services.invitations.toggle_filter(ui.actor, data.dimension, data.value)


async def invite_everyone(ui: Ui, services: Services) -> WizardScreen:
    """Everyone who asked for invitations: the filters are cleared."""
    return await services.invitations.everyone(ui.actor)


async def wizard_back(ui: Ui, services: Services) -> WizardScreen:
    """Back to the step before."""
    return await services.invitations.back(ui.actor, ui.data(views.WizardBack).step)


async def show_preview(ui: Ui, services: Services) -> WizardScreen:
    """The invitation as recipients will see it, in each language."""
    return await services.invitations.preview(ui.actor)


async def send_invitation(ui: Ui, services: Services) -> None:
    """Send: the delivery engine takes it from here; the wizard's card says so."""
    launched = await services.invitations.launch(ui.actor, current_language())
    await ui.show(View(views.launched(launched)), edit=True)


async def discard_invitation(ui: Ui, services: Services) -> None:
    """Cancel: the draft is discarded and nothing is sent."""
    await services.invitations.cancel(ui.actor)
    await ui.show(View(views.cancelled()), edit=True)


async def list_invitations(ui: Ui, services: Services) -> None:
    """/invitations: the latest invitations with delivery figures and RSVP counts."""
    summaries = await services.invitations.overview(ui.actor)
    await ui.show(View("\n".join(views.overview(summaries))))


# -- recipients -----------------------------------------------------------------------------


async def rsvp(ui: Ui, services: Services) -> None:
    """An RSVP button: record (or change) the answer and tick it on the buttons."""
    data = ui.data(views.Answer)
    saved = await services.invitations.answer(ui.user_id, data.invitation, data.answer)
    ui.toast(views.rsvp_saved(saved))
    await ui.edit_buttons(views.rsvp_rows(saved.invitation.id, saved.answer))


async def unsubscribe(ui: Ui, services: Services) -> None:
    """/unsubscribe or STOP: no more invitations or reminders, including any still queued."""
    await services.invitations.unsubscribe(ui.user_id)
    await ui.show(views.unsubscribed())


async def subscribe(ui: Ui, services: Services) -> None:
    """/subscribe, or the button under the opt-out's confirmation: messages again."""
    changed = await services.invitations.subscribe(ui.user_id)
    if ui.tapped:
        await ui.edit_buttons(())
    await ui.show(views.subscribed(changed))


STOP_WORDS = re.compile(r"^\s*(stop|إيقاف|ايقاف)\s*$", re.IGNORECASE)
"""What a person types to stop every invitation and reminder (also without the hamza)."""


def register(application: Application) -> None:
    application.add_handler(
        message(
            filters.UpdateType.MESSAGE & filters.TEXT & filters.ChatType.PRIVATE, wizard_text
        ),
        group=-5,
    )
    application.add_handler(command("invite", invite))
    application.add_handler(command("invitations", list_invitations))
    application.add_handler(command("unsubscribe", unsubscribe))
    application.add_handler(command("subscribe", subscribe))
    application.add_handler(button(views.Subscribe, subscribe))
    # Before every flow that reads typed text, so that STOP is never taken as an answer.
    stop_word = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.Regex(STOP_WORDS)
    application.add_handler(message(stop_word, unsubscribe, stop=True), group=-6)
    for kind, call in (
        (views.EditAudience, edit_audience),
        (views.TickAudience, tick_audience),
        (views.InviteEveryone, invite_everyone),
    ):
        application.add_handler(button(kind, _in_place(call)))
    for kind, call in ((views.WizardBack, wizard_back), (views.ShowPreview, show_preview)):
        application.add_handler(button(kind, _next_step(call)))
    application.add_handler(button(views.SendInvitation, send_invitation))
    application.add_handler(button(views.DiscardInvitation, discard_invitation))
    application.add_handler(button(views.Answer, rsvp))


FEATURE = Feature("invitations", COMMANDS, ERRORS, register)
