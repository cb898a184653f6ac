"""The one way to answer an update: `Ui`, the update as a feature handler sees it.

- `show(view)` sends a screen, or with `edit=True` turns the tapped card into it; an edit
  that changes nothing is not an error; long texts are split only at safe points.
- `flow`: at most one live keyboard per person and flow. When a card of a flow gets
  buttons, the previous card of that flow loses its own (the registry is in the database,
  so this holds across restarts and instances).
- Taps are answered last (`toast` sets what the answer says): the spinner stops once the
  result is on screen. Telegram refuses to answer a query twice or late, which happens to
  updates replayed after a crash; that is tolerated.
"""

from __future__ import annotations

import logging
from typing import Protocol, TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.core.access import Actor
from bot.core.callbacks import CallbackData
from bot.core.i18n import is_rtl
from bot.core.sent import SentMessage
from bot.core.text import MESSAGE_LIMIT, split_message, visible_length
from bot.core.views import File, Rows, View

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Data = TypeVar("Data", bound=CallbackData)


class LiveCards(Protocol):
    async def replace_live_card(self, chat_id: int, flow: str, message_id: int) -> int | None:
        """Record the chat's live card of `flow`; returns the one it replaces, if another."""
        ...


def markup(rows: Rows) -> InlineKeyboardMarkup | None:
    """Rows as a keyboard, each mirrored for right-to-left readers (Telegram does not)."""
    if not rows:
        return None
    ordered = [list(reversed(row)) if is_rtl() else list(row) for row in rows]
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data.pack()) for b in row]
            for row in ordered
        ]
    )


def _parse_mode(view: View) -> str | None:
    return ParseMode.HTML if view.html else None


def not_modified(error: BadRequest) -> bool:
    return "not modified" in error.message.lower()


class Ui:
    """One update, as feature handlers read it and answer it."""

    def __init__(self, update: Update, context: Context, cards: LiveCards) -> None:
        self.update = update
        self.bot: Bot = context.bot
        self.args: list[str] = list(context.args or [])
        self._cards = cards
        self._toast: str | None = None
        self._alert = False

    # -- reading the update -------------------------------------------------------------

    @property
    def user_id(self) -> int:
        user = self.update.effective_user
        assert user is not None
        return user.id

    @property
    def actor(self) -> Actor:
        user = self.update.effective_user
        assert user is not None
        return Actor(user.id, user.full_name)

    @property
    def chat_id(self) -> int:
        chat = self.update.effective_chat
        assert chat is not None
        return chat.id

    @property
    def text(self) -> str:
        message = self.update.effective_message
        return (message.text or "") if message is not None else ""

    @property
    def sent(self) -> SentMessage | None:
        """The message this update brings (or edits): its number and when it was sent."""
        message = self.update.effective_message
        return SentMessage(message.message_id, message.date) if message is not None else None

    @property
    def argument(self) -> str:
        """Everything after the command, as typed."""
        return " ".join(self.args)

    @property
    def is_tap(self) -> bool:
        return self.update.callback_query is not None

    @property
    def tapped(self) -> Message | None:
        query = self.update.callback_query
        return query.message if query is not None and isinstance(query.message, Message) else None

    def data(self, kind: type[Data]) -> Data:
        """The tapped button's data as `kind`; StaleButton when it is not (old or forged)."""
        query = self.update.callback_query
        return kind.unpack(query.data if query is not None else None)

    # -- answering ----------------------------------------------------------------------

    async def show(self, view: View, *, edit: bool = False, flow: str | None = None) -> None:
        """Send `view`, or turn the tapped card into it (`edit`) when it fits one message."""
        tapped = self.tapped if edit else None
        if tapped is not None and visible_length(view.text) <= MESSAGE_LIMIT:
            await self._edit(tapped, view)
            shown = tapped.message_id
        else:
            shown = await self._send(view)
        if flow is not None and view.rows:
            await self._make_live(flow, shown)

    async def send_to(self, chat_id: int, view: View) -> None:
        """A message to someone else's private chat (an admin asked to confirm, a person
        told the outcome); render `view` in their language before calling this."""
        await self.bot.send_message(
            chat_id, view.text, parse_mode=_parse_mode(view), reply_markup=markup(view.rows)
        )

    async def send_file(self, file: File) -> None:
        keyboard = markup(file.rows)
        content = InputFile(file.content, filename=file.filename, attach=not file.photo)
        if file.photo:
            await self.bot.send_photo(
                self.chat_id,
                content,
                caption=file.caption,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
            )
        else:
            await self.bot.send_document(
                self.chat_id,
                content,
                caption=file.caption,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
            )

    async def edit_buttons(self, rows: Rows) -> None:
        """Give the tapped card these buttons (none: its step is over), unless it has them."""
        tapped = self.tapped
        keyboard = markup(rows)
        if tapped is None or tapped.reply_markup == keyboard:
            return
        try:
            await tapped.edit_reply_markup(keyboard)
        except BadRequest as error:
            if not not_modified(error):
                raise

    def toast(self, text: str | None, *, alert: bool = False) -> None:
        """What the answer to the tap shows (plain text); the last call wins."""
        self._toast, self._alert = text, alert

    async def finish(self) -> None:
        """Answer the tap, if this update is one (called once, after everything else)."""
        query = self.update.callback_query
        if query is None:
            return
        try:
            await query.answer(self._toast, show_alert=self._alert)
        except BadRequest as error:
            log.info("callback_answer_refused", extra={"reason": error.message})

    # -- internals ----------------------------------------------------------------------

    async def _send(self, view: View) -> int:
        texts = split_message(view.text.split("\n")) or [view.text]
        message: Message | None = None
        for index, text in enumerate(texts):
            last = index == len(texts) - 1
            message = await self.bot.send_message(
                self.chat_id,
                text,
                parse_mode=_parse_mode(view),
                reply_markup=markup(view.rows) if last else None,
            )
        assert message is not None
        return message.message_id

    async def _edit(self, message: Message, view: View) -> None:
        try:
            await message.edit_text(
                view.text, parse_mode=_parse_mode(view), reply_markup=markup(view.rows)
            )
        except BadRequest as error:
            if not not_modified(error):
                raise

    async def _make_live(self, flow: str, message_id: int) -> None:
        previous = await self._cards.replace_live_card(self.chat_id, flow, message_id)
        if previous is not None:
            await self._edit_markup(self.chat_id, previous)

    async def _edit_markup(self, chat_id: int, message_id: int) -> None:
        """Best effort: the old card may be gone, or too old to edit."""
        try:
            await self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
        except (BadRequest, Forbidden) as error:
            log.info("old_card_kept", extra={"reason": error.message})
        except TelegramError as error:
            log.warning("old_card_kept", extra={"reason": error.message})
