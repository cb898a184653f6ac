"""Simulated Telegram users: the human side of a conversation with the bot under test.

A `SimulatedUser` (made with `FakeBotApi.make_user`) writes in its private chat with the bot
(chat id == user id), or in a group via `in_group`.  Every action pushes a real Telegram update
into the fake server and returns the bot's reactions (`BotAction`s) - see `FakeBotApi.exchange`
for the waiting rules (consumed, at least one reaction, then a quiet period).
"""

from __future__ import annotations

import re
import struct
import time
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.simulator.server import BotAction, ChatState, FakeBotApi

    Until = Callable[[list[BotAction]], bool]

# "/cmd" or "/cmd@bot_name" at the start of the text or after a non-word character.
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


def _png() -> bytes:
    """A valid, fully transparent 1x1 RGBA PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"\x00" + bytes(4)  # one row: filter byte, one RGBA pixel
    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# Tiny files for the media a user can send.
_PNG_1X1 = _png()
_OGG_STUB = b"OggS\x00\x02" + bytes(22)
_WEBP_STUB = b"RIFF\x1a\x00\x00\x00WEBPVP8L" + bytes(18)
_PDF_STUB = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _utf16_len(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-16-le")) // 2


def keyboard_rows(markup: dict[str, Any] | None) -> list[list[tuple[str, str]]]:
    """Rows of (label, callback_data) of an inline keyboard markup ([] if there is none)."""
    if not markup or not isinstance(markup.get("inline_keyboard"), list):
        return []
    return [
        [(str(button.get("text", "")), str(button.get("callback_data", ""))) for button in row]
        for row in markup["inline_keyboard"]
    ]


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entities Telegram attaches to a text message."""
    entities = []
    for match in _COMMAND_RE.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": _utf16_len(text[: match.start()]),
                "length": _utf16_len(match.group(0)),
            }
        )
    return entities


class SimulatedUser:
    """One human talking to the bot; see the module docstring.

    All `send_*` methods and `tap` accept `expect_reply` (False: only wait for the update to be
    consumed plus the quiet period; the result may be []), `timeout` and `quiet` (defaults from
    the server's `reply_timeout` and `quiet`) and `until` (a predicate over the reactions so
    far that must hold before the quiet period starts, e.g. `lambda a: len(a) >= 2`).
    """

    def __init__(
        self,
        api: FakeBotApi,
        user_id: int,
        first_name: str = "Test",
        *,
        language_code: str | None = "en",
        chat_id: int | None = None,
    ) -> None:
        self.api = api
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.chat_id = user_id if chat_id is None else chat_id

    def __repr__(self) -> str:
        where = "" if self.chat_id == self.id else f" in chat {self.chat_id}"
        return f"<SimulatedUser {self.id} {self.first_name!r} [{self.language_code}]{where}>"

    # ------------------------------------------------------------------------ identity

    @property
    def user_json(self) -> dict[str, Any]:
        """The Telegram `User` object sent as `from` (re-read each time: language may change)."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def chat(self) -> ChatState:
        return self.api.chat(self.chat_id)

    def in_group(self, group_chat_id: int, title: str = "Test group") -> SimulatedUser:
        """The same person, writing in a group chat (negative id) that the bot is in."""
        if not self.api.has_chat(group_chat_id):
            self.api.make_group(group_chat_id, title)
        return SimulatedUser(
            self.api,
            self.id,
            self.first_name,
            language_code=self.language_code,
            chat_id=group_chat_id,
        )

    # ------------------------------------------------------------------------- actions

    async def send_update(
        self,
        kind: str,
        body: dict[str, Any],
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
        quiet: float | None = None,
        until: Until | None = None,
        what: str | None = None,
    ) -> list[BotAction]:
        """Push any update (`{kind: body}`) for this chat and wait for the reaction."""
        return await self.api.exchange(
            {kind: body},
            expect_reply=expect_reply,
            timeout=timeout,
            quiet=quiet,
            until=until,
            what=what or f"{self!r}'s {kind}",
        )

    async def edit_text(
        self, message_id: int, text: str, *, expect_reply: bool = True
    ) -> list[BotAction]:
        """Edit one of this user's earlier messages (Telegram sends `edited_message`)."""
        original = self.chat.messages[message_id]
        assert original.get("from", {}).get("id") == self.id, "not this user's message"
        edited = {**original, "text": text, "edit_date": int(time.time())}
        self.chat.messages[message_id] = edited
        return await self.send_update(
            "edited_message", edited, expect_reply=expect_reply, what=f"{self!r} editing"
        )

    async def paste(self, text: str, *, limit: int = 4096) -> list[list[BotAction]]:
        """Send a long text the way Telegram's apps do: split into messages of at most
        `limit` characters, sent at once (consecutive ids, the same date). Returns the bot's
        reactions to each part."""
        parts = [text[i : i + limit] for i in range(0, len(text), limit)]
        messages = [
            self.api.new_user_message(self.chat, self.user_json, {"text": p}) for p in parts
        ]
        for message in messages[1:]:
            message["date"] = messages[0]["date"]
        return [
            await self.send_update("message", message, expect_reply=False, what="a pasted part")
            for message in messages
        ]

    async def _send_message(
        self,
        content: dict[str, Any],
        what: str,
        *,
        expect_reply: bool,
        timeout: float | None,
        quiet: float | None,
        until: Until | None,
    ) -> list[BotAction]:
        message = self.api.new_user_message(self.chat, self.user_json, content)
        return await self.send_update(
            "message",
            message,
            expect_reply=expect_reply,
            timeout=timeout,
            quiet=quiet,
            until=until,
            what=f"{self!r} sending {what}",
        )

    async def send_text(
        self,
        text: str,
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
        quiet: float | None = None,
        until: Until | None = None,
    ) -> list[BotAction]:
        """Type `text` (commands in it get bot_command entities, as Telegram adds them)."""
        content: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        return await self._send_message(
            content,
            repr(text),
            expect_reply=expect_reply,
            timeout=timeout,
            quiet=quiet,
            until=until,
        )

    async def send_command(
        self,
        cmd: str,
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
        quiet: float | None = None,
        until: Until | None = None,
    ) -> list[BotAction]:
        """Send a command, e.g. "/start payload" ("start payload" gets the slash added)."""
        text = cmd if cmd.startswith("/") else "/" + cmd
        if not _COMMAND_RE.match(text):
            raise ValueError(f"not a bot command: {cmd!r}")
        return await self.send_text(
            text, expect_reply=expect_reply, timeout=timeout, quiet=quiet, until=until
        )

    async def send_sticker(
        self,
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
        quiet: float | None = None,
        until: Until | None = None,
    ) -> list[BotAction]:
        stored = self.api.store_file(_WEBP_STUB, None, "image/webp", "sticker")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
            "file_size": stored.file_size,
        }
        return await self._send_message(
            {"sticker": sticker},
            "a sticker",
            expect_reply=expect_reply,
            timeout=timeout,
            quiet=quiet,
            until=until,
        )

    async def send_photo(
        self,
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
        quiet: float | None = None,
        until: Until | None = None,
    ) -> list[BotAction]:
        stored = self.api.store_file(_PNG_1X1, None, "image/png", "photo")
        return await self._send_message(
            {"photo": self.api.file_object(stored)},
            "a photo",
            expect_reply=expect_reply,
            timeout=timeout,
            quiet=quiet,
            until=until,
        )

    async def send_voice(
        self,
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
        quiet: float | None = None,
        until: Until | None = None,
    ) -> list[BotAction]:
        stored = self.api.store_file(_OGG_STUB, None, "audio/ogg", "voice")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": stored.file_size,
        }
        return await self._send_message(
            {"voice": voice},
            "a voice message",
            expect_reply=expect_reply,
            timeout=timeout,
            quiet=quiet,
            until=until,
        )

    async def send_document(
        self,
        data: bytes = _PDF_STUB,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
        quiet: float | None = None,
        until: Until | None = None,
    ) -> list[BotAction]:
        stored = self.api.store_file(data, file_name, mime_type, "document")
        return await self._send_message(
            {"document": self.api.file_object(stored)},
            f"the document {file_name!r}",
            expect_reply=expect_reply,
            timeout=timeout,
            quiet=quiet,
            until=until,
        )

    async def tap(
        self,
        label_or_data: str,
        *,
        message_id: int | None = None,
        expect_reply: bool = True,
        timeout: float | None = None,
        quiet: float | None = None,
        until: Until | None = None,
        answerable: bool = True,
    ) -> list[BotAction]:
        """Tap an inline button, found by exact label or else by callback_data, on the newest
        bot message with an inline keyboard (or on `message_id`). `answerable=False`: the
        bot cannot answer the query any more (a tap replayed after a crash)."""
        message = self._keyboard_message(message_id)
        rows = message["reply_markup"]["inline_keyboard"]
        buttons = [button for row in rows for button in row]
        button = next((b for b in buttons if b.get("text") == label_or_data), None)
        if button is None:
            button = next((b for b in buttons if b.get("callback_data") == label_or_data), None)
        if button is None:
            raise AssertionError(
                f"{self!r}: no button {label_or_data!r} on bot message "
                f"{message['message_id']} ({_preview(message)}); available buttons "
                f"(label, data): {_describe(message['reply_markup'])}"
            )
        if "callback_data" not in button:
            raise AssertionError(
                f"{self!r}: button {button.get('text')!r} is not a callback button: {button}"
            )
        query = {
            "id": (
                self.api.new_callback_query_id()
                if answerable
                else self.api.expired_callback_query_id()
            ),
            "from": self.user_json,
            "message": dict(message),
            "chat_instance": str(abs(self.chat_id) * 7919 + 17),
            "data": button["callback_data"],
        }
        return await self.send_update(
            "callback_query",
            query,
            expect_reply=expect_reply,
            timeout=timeout,
            quiet=quiet,
            until=until,
            what=f"{self!r} tapping {button.get('text')!r} on message {message['message_id']}",
        )

    # -------------------------------------------------------------------------- reading

    def _keyboard_message(self, message_id: int | None) -> dict[str, Any]:
        chat = self.chat
        if message_id is None:
            message = chat.latest_keyboard_message()
            if message is None:
                raise AssertionError(
                    f"{self!r}: no bot message with an inline keyboard in chat {self.chat_id}; "
                    f"last bot text: {self.last_text!r}"
                )
            return message
        message = chat.messages.get(message_id)
        if message is None:
            raise AssertionError(f"{self!r}: there is no message {message_id} in the chat")
        if not (message.get("reply_markup") or {}).get("inline_keyboard"):
            raise AssertionError(
                f"{self!r}: message {message_id} ({_preview(message)}) has no inline keyboard"
            )
        return message

    def buttons(self, message_id: int | None = None) -> list[list[tuple[str, str]]]:
        """Rows of (label, callback_data) of the newest inline keyboard ([] if none)."""
        if message_id is None and self.chat.latest_keyboard_message() is None:
            return []
        return keyboard_rows(self._keyboard_message(message_id)["reply_markup"])

    def button_labels(self, message_id: int | None = None) -> list[str]:
        return [label for row in self.buttons(message_id) for label, _ in row]

    @property
    def messages(self) -> list[BotAction]:
        """Every successful bot call recorded for this chat, oldest first."""
        return list(self.chat.actions)

    @property
    def last_text(self) -> str | None:
        """Text (or caption) of the bot's latest message or edit in this chat, as sent."""
        for action in reversed(self.chat.actions):
            if action.text is not None:
                return action.text
        return None

    @property
    def last_message(self) -> dict[str, Any] | None:
        """The bot's newest message in this chat, as it is now (after edits)."""
        return self.chat.latest_bot_message()


def _describe(markup: dict[str, Any]) -> str:
    return "; ".join(
        ", ".join(f"({label!r}, {data!r})" for label, data in row) for row in keyboard_rows(markup)
    )


def _preview(message: dict[str, Any]) -> str:
    text = message.get("text", message.get("caption", ""))
    return repr(text[:60] + ("…" if len(text) > 60 else ""))
