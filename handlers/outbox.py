"""The invitations' delivery engine on a PTB bot (its `Outbox`), and the background work's
start and stop: invitations, their reminders, and the reminders to finish the survey."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import Bot, InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes
from telegram.warnings import PTBDeprecationWarning

from bot.core.i18n import use_language
from bot.invitations import views
from bot.invitations.delivery import (
    Broadcaster,
    PermanentFailure,
    RateLimited,
    RecipientBlocked,
    SendFailure,
    TemporaryFailure,
    Tuning,
)
from bot.invitations.model import Delivery, DeliveryFigures, Invitation
from bot.invitations.ports import BroadcastStore
from bot.reminders import views as reminder_views
from bot.reminders.model import Reminder
from bot.reminders.service import ReminderService
from handlers.base.present import markup, not_modified

log = logging.getLogger(__name__)

TUNING = Tuning()
"""The engine's timings in production (tests replace it to run faster)."""


def failure(error: TelegramError) -> SendFailure:
    """What a Bot API error means for a delivery.

    BadRequest is a subclass of NetworkError in PTB, so it is matched first; TimedOut and
    the other NetworkErrors (including Telegram's 5xx answers) are worth retrying.
    """
    match error:
        case RetryAfter():
            return RateLimited(retry_after_seconds(error))
        case Forbidden():
            return RecipientBlocked(error.message)
        case BadRequest():
            return PermanentFailure(error.message)
    return TemporaryFailure(error.message)


def retry_after_seconds(error: RetryAfter) -> float:
    """Exactly what Telegram asked for, whichever type PTB hands it out as (int is deprecated)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


async def _call(request: Awaitable[Message]) -> int:
    try:
        return (await request).message_id
    except TelegramError as error:
        raise failure(error) from error


async def send_card(
    bot: Bot, chat_id: int, card: views.Card, uploaded: str | None = None
) -> Message:
    """The invitation in one message: the .ics document, captioned, with the RSVP buttons
    (ordered for the card's reader).

    `uploaded`: the file id Telegram gave the same document before, sent instead of the bytes.
    """
    with use_language(card.language):
        keyboard = markup(card.rows)
    return await bot.send_document(
        chat_id,
        uploaded or InputFile(card.ics, filename=card.filename, attach=True),
        caption=card.caption,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )


class TelegramOutbox:
    """Everyone of one language gets the same card: it is rendered once, and its .ics is
    uploaded once; later sends reuse Telegram's file id (much less work on both sides)."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self._cards: dict[tuple[int, str], views.Card] = {}
        self._file_ids: dict[tuple[int, str], str] = {}

    async def invitation(self, invitation: Invitation, to: Delivery) -> int:
        key = (invitation.id, to.language)
        if key not in self._cards:
            with use_language(to.language):
                self._cards[key] = views.invitation_card(
                    invitation.id, invitation.event, invitation.created_at
                )
        uploaded = self._file_ids.get(key)
        try:
            message = await send_card(self._bot, to.user_id, self._cards[key], uploaded)
        except BadRequest as error:
            if uploaded is None:
                raise failure(error) from error
            self._file_ids.pop(key, None)  # a file id Telegram no longer knows: upload again
            raise TemporaryFailure(error.message) from error
        except TelegramError as error:
            raise failure(error) from error
        if message.document is not None:
            self._file_ids.setdefault(key, message.document.file_id)
        return message.message_id

    async def reminder(self, invitation: Invitation, to: Delivery) -> int:
        with use_language(to.language):
            rendered = views.reminder(invitation)
            keyboard = markup(rendered.rows)
        return await _call(
            self._bot.send_message(
                to.user_id, rendered.text, parse_mode=ParseMode.HTML, reply_markup=keyboard
            )
        )

    async def survey_reminder(self, row: Reminder) -> int:
        """A reminder to finish the survey, with the survey's own Continue button."""
        with use_language(row.language):
            rendered = reminder_views.reminder(row)
            keyboard = markup(rendered.rows)
        return await _call(
            self._bot.send_message(
                row.user_id, rendered.text, parse_mode=ParseMode.HTML, reply_markup=keyboard
            )
        )

    async def progress(self, invitation: Invitation, figures: DeliveryFigures, final: bool) -> int:
        """Edit the admin's progress message; send one if there is none (or it is gone)."""
        with use_language(invitation.admin_language):
            text = views.progress(invitation, figures, final)
        if invitation.progress_message_id is not None:
            try:
                await self._bot.edit_message_text(
                    text,
                    chat_id=invitation.created_by,
                    message_id=invitation.progress_message_id,
                    parse_mode=ParseMode.HTML,
                )
                return invitation.progress_message_id
            except BadRequest as error:
                if not_modified(error):
                    return invitation.progress_message_id
            except TelegramError as error:
                raise failure(error) from error
        return await _call(
            self._bot.send_message(invitation.created_by, text, parse_mode=ParseMode.HTML)
        )


async def start_delivery(
    application: Application,
    store: BroadcastStore,
    rate: int,
    on_failure: Callable[[BaseException], None],
    survey_reminders: ReminderService | None = None,
) -> Broadcaster:
    """Resume and run broadcasts in the background; scan reminders now and periodically
    (with `survey_reminders`, also queue and send the reminders to finish the survey).

    Stop with `Broadcaster.stop()` before the Application stops (the bot is still needed to
    finish the calls in flight).
    """
    outbox = TelegramOutbox(application.bot)
    broadcaster = Broadcaster(store, outbox, rate, TUNING, on_failure)
    await broadcaster.start()

    async def send_reminders(_context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue: reminders due now, straight from the database (so restarts lose none)."""
        await broadcaster.send_due_reminders()

    assert application.job_queue is not None
    application.job_queue.run_repeating(
        send_reminders,
        interval=TUNING.reminder_scan_every,
        first=TUNING.reminder_first_scan,
        name="invitation-reminders",
    )
    if survey_reminders is None or not survey_reminders.schedule.enabled:
        return broadcaster
    queue = survey_reminders.store
    next_look = 0.0

    async def remind(_context: ContextTypes.DEFAULT_TYPE) -> None:
        """JobQueue: now and then queue the reminders to finish the survey that are due;
        every time, send those queued (by any instance) and not sent yet."""
        nonlocal next_look
        try:
            if time.monotonic() >= next_look:
                next_look = time.monotonic() + TUNING.survey_reminders_every
                await survey_reminders.queue_due()
            await broadcaster.send_due(queue.claim, outbox.survey_reminder, queue.settle)
        except Exception as error:
            on_failure(error)
            log.exception("survey_reminders_failed")

    application.job_queue.run_repeating(
        remind,
        interval=TUNING.reminder_scan_every,
        first=TUNING.reminder_first_scan,
        name="survey-reminders",
    )
    return broadcaster
