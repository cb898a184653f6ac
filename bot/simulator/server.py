"""A local fake of the Telegram Bot API ("the simulator") for end-to-end tests and `hiwar demo`.

`FakeBotApi` is an aiohttp server on 127.0.0.1 that speaks the part of the Bot API Hiwar uses, so
that an unmodified python-telegram-bot `Application` (pointed at it with `ApplicationBuilder()
.base_url(api.base_url)`) runs over real HTTP: long polling with Telegram's offset/confirmation
rules, webhooks (with the secret-token header and retries), sending and editing messages with
inline keyboards, callback answers, documents and photos, commands.

It validates what the bot sends the way Telegram does (empty or over-long text, bad HTML,
callback_data over 64 bytes, too many buttons, editing without changes, ...) and answers with
Telegram's error descriptions, so PTB raises the same exceptions it would in production.  Text is
plain or HTML: Hiwar sends nothing else, and any other parse_mode is refused with a 400.  Faults
can be injected (`fail_next`, `block`, `rate_limit`).

Everything the bot does is recorded as `BotAction`s, globally (`api.actions`) and per chat
(`api.chat(chat_id).actions`), and the humans are `SimulatedUser`s (`api.make_user(...)`) whose
`send_*`/`tap` methods push an update and wait for the bot's reaction.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import json
import logging
import math
import re
import struct
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from bot.simulator.users import SimulatedUser, keyboard_rows

_LOGGER = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_CALLBACK_ANSWER_LENGTH = 200


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, Telegram's description, optional parameters."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters


# ===================================================================== text formatting rules
#
# `parse_text` turns the text a bot sends (with `parse_mode`) into what the user sees plus the
# message entities, raising ApiError with Telegram's "can't parse entities" descriptions when the
# markup is malformed.  The HTML check is deliberately a little *stricter* than Telegram: a bare
# `&` that does not start `&lt;`, `&gt;`, `&amp;`, `&quot;` or a numeric entity is rejected
# (Telegram silently keeps it), because it almost always means a value was not escaped.  Of
# Telegram's tags it knows those without attributes (Hiwar uses <b> and <i>).

_ENTITY_PREFIX = "Bad Request: can't parse entities: "


def _fail(message: str) -> ApiError:
    return ApiError(400, _ENTITY_PREFIX + message)


def utf16_len(s: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    if s.isascii():
        return len(s)
    return len(s.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_HTML_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6}));")
_HTML_SPECIAL_RE = re.compile(r"[<&]")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML; returns (plain text, entities)."""
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, int]] = []  # open tags: (name, start offset)
    entities: list[dict[str, Any]] = []
    i, n = 0, len(text)
    while i < n:
        m = _HTML_SPECIAL_RE.search(text, i)
        j = m.start() if m else n
        if j > i:
            chunk = text[i:j]
            out.append(chunk)
            pos16 += utf16_len(chunk)
            i = j
        if i >= n:
            break
        if text[i] == "&":
            em = _HTML_ENTITY_RE.match(text, i)
            char = None
            if em is not None:
                if em.group(1):
                    char = _NAMED_ENTITIES[em.group(1)]
                else:
                    code = int(em.group(2), 10) if em.group(2) else int(em.group(3), 16)
                    if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                        char = chr(code)
            if char is None or em is None:
                raise _fail(
                    f"Unsupported HTML entity at byte offset {_byte_offset(text, i)}: "
                    "a bare '&' must be escaped as &amp;"
                )
            out.append(char)
            pos16 += utf16_len(char)
            i = em.end()
            continue
        # text[i] == "<"
        if text.startswith("</", i):
            end = text.find(">", i)
            if end == -1:
                raise _fail(f"Unclosed end tag at byte offset {_byte_offset(text, i)}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise _fail(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            tag, start16 = stack.pop()
            if name != tag:
                raise _fail(
                    f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                    f'expected "</{tag}>", found "</{name}>"'
                )
            if pos16 > start16:
                entities.append(
                    {"type": _HTML_TAGS[tag], "offset": start16, "length": pos16 - start16}
                )
            i = end + 1
            continue
        nm = _TAG_NAME_RE.match(text, i + 1)
        name = nm.group(0).lower() if nm else ""
        if nm is None or name not in _HTML_TAGS:
            raise _fail(f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}')
        k = nm.end()
        while k < n and text[k].isspace():
            k += 1
        if k >= n or text[k] != ">":
            raise _fail(
                f"Unclosed start tag at byte offset {_byte_offset(text, i)} (the simulator "
                "knows no tag attributes)"
            )
        stack.append((name, pos16))
        i = k + 1
    if stack:
        raise _fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), entities


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading and trailing whitespace of a message, shifting the entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """(what the user sees, entities) of a text or caption; raises ApiError on bad markup."""
    if not parse_mode:
        return _strip(text, [])
    if parse_mode.lower() != "html":
        raise ApiError(
            400,
            f"Bad Request: unsupported parse_mode {parse_mode!r}: the simulator parses HTML "
            "only (Hiwar sends HTML or plain text)",
        )
    plain, entities = parse_html(text)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return _strip(plain, entities)


# ================================================================================ records


@dataclass(slots=True)
class UploadedFile:
    """A file part of a multipart request, as the bot uploaded it."""

    data: bytes
    filename: str
    content_type: str


@dataclass(slots=True)
class StoredFile:
    """A file known to the fake server (uploaded by the bot or sent by a simulated user)."""

    file_id: str
    file_unique_id: str
    kind: str  # "document", "photo", "sticker" or "voice"
    data: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str

    @property
    def file_size(self) -> int:
        return len(self.data)


@dataclass(slots=True)
class BotAction:
    """One call the bot made (successful ones in `actions`, failed ones in `errors`).

    `text` is the text or caption exactly as the bot sent it (with its HTML markup);
    `rendered_text` is what the user sees (markup parsed away, leading/trailing spaces trimmed).
    `timestamp` is `time.monotonic()`.
    """

    method: str
    chat_id: int | None = None
    message_id: int | None = None
    text: str | None = None
    rendered_text: str | None = None
    reply_markup: dict[str, Any] | None = None
    parse_mode: str | None = None
    document: bytes | None = None
    document_name: str | None = None
    photo: bytes | None = None
    callback_text: str | None = None
    show_alert: bool = False
    chat_action: str | None = None
    timestamp: float = field(default_factory=time.monotonic)
    error_code: int | None = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Rows of (label, callback_data) of the inline keyboard sent with this call."""
        return keyboard_rows(self.reply_markup)


@dataclass(eq=False)
class ChatState:
    """What the fake server knows about one chat: its messages as they are now, and the log."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    next_message_id: int = 1
    # message_id -> the message as it currently is (bot and user messages)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    # the bot's messages still present, oldest first (a dict used as an ordered set)
    bot_message_ids: dict[int, None] = field(default_factory=dict)
    actions: list[BotAction] = field(default_factory=list)
    errors: list[BotAction] = field(default_factory=list)
    reaction_count: int = 0
    last_reaction_at: float = 0.0
    changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    json_obj: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        obj: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "first_name"):
            value = getattr(self, key)
            if value is not None:
                obj[key] = value
        self.json_obj = obj

    def notify(self) -> None:
        event, self.changed = self.changed, asyncio.Event()
        event.set()

    def latest_keyboard_message(self) -> dict[str, Any] | None:
        """The newest bot message that currently has an inline keyboard."""
        for message_id in reversed(self.bot_message_ids):
            message = self.messages[message_id]
            if (message.get("reply_markup") or {}).get("inline_keyboard"):
                return message
        return None

    def latest_bot_message(self) -> dict[str, Any] | None:
        if not self.bot_message_ids:
            return None
        return self.messages[next(reversed(self.bot_message_ids))]


class _PendingUpdate:
    __slots__ = ("chat_id", "consumed_at", "delivered", "done", "error", "payload", "update_id")

    def __init__(self, update_id: int, payload: dict[str, Any], chat_id: int) -> None:
        self.update_id = update_id
        self.payload = payload
        self.chat_id = chat_id
        self.delivered = False
        self.done = asyncio.Event()
        self.error: str | None = None
        self.consumed_at = 0.0

    def finish(self, error: str | None = None) -> None:
        self.error = error
        self.consumed_at = time.monotonic()
        self.done.set()


@dataclass(slots=True)
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(slots=True)
class _Fault:
    method: str  # lower case, or "*"
    chat_id: int | None
    status: int
    retry_after: int
    remaining: int

    def error(self) -> ApiError:
        if self.status == 429:
            return ApiError(
                429,
                f"Too Many Requests: retry after {self.retry_after}",
                {"retry_after": self.retry_after},
            )
        return ApiError(self.status, HTTPStatus(self.status).phrase)


class _Poller:
    __slots__ = ("terminated",)

    def __init__(self) -> None:
        self.terminated = False


class _RefLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


# ============================================================================ helpers

BotMethod = Callable[[dict[str, Any]], Awaitable[Any]]

# Rate limited and counted in `sent_count`.
SEND_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto"})
# Recorded in the chat log but not a "reaction" a simulated user waits for.
_NON_REACTIONS = frozenset({"sendChatAction"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# The text or caption field of a message: its entities' field, its length limit and the error.
_BODIES: dict[str, tuple[str, int, str]] = {
    "text": ("entities", MAX_TEXT_LENGTH, "Bad Request: message is too long"),
    "caption": ("caption_entities", MAX_CAPTION_LENGTH, "Bad Request: message caption is too long"),
}
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_FILE_ID_PREFIX = {
    "document": "BQACAgIAAxkBAAI",
    "photo": "AgACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
    "voice": "AwACAgIAAxkBAAI",
}
_DEFAULT_EXTENSION = {"photo": ".jpg", "sticker": ".webp", "voice": ".oga", "document": ""}
_WEBHOOK_TIMEOUT = 10.0


def _as_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def _maybe_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_json(value: Any) -> Any:
    """Objects arrive as JSON strings in form data; None if the field is missing or empty."""
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, "Bad Request: can't parse JSON object") from exc


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


def _update_chat_id(payload: dict[str, Any]) -> int:
    """The chat of an update: its message's, or for a callback query its message's (a tap
    on an inline message has none: then the chat with the person who tapped)."""
    kind, body = next((k, v) for k, v in payload.items() if k != "update_id")
    if kind == "callback_query" and "message" not in body:
        return int(body["from"]["id"])
    message = body["message"] if kind == "callback_query" else body
    return int(message["chat"]["id"])


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or GIF image, None if it is neither."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    return None


def _json_response(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type="application/json",
    )


def _error_response(error: ApiError) -> web.Response:
    payload: dict[str, Any] = {
        "ok": False,
        "error_code": error.status,
        "description": error.description,
    }
    if error.parameters:
        payload["parameters"] = error.parameters
    return _json_response(payload, status=error.status)


# ============================================================================= the server


class FakeBotApi:
    """A fake Telegram Bot API server on 127.0.0.1 (see the module docstring).

    Tunables (plain attributes): `quiet` (seconds without a bot reaction after which a simulated
    user's action is considered answered, default 0.15), `reply_timeout` (default 10 s),
    `webhook_retries` (3), `webhook_retry_delay` (0.05 s).

    With `auto_create_chats=True` a send to an unknown positive chat id creates a private chat
    on the fly (handy for broadcast benchmarks); by default it answers "chat not found", as
    Telegram does for users who never talked to the bot.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "hiwar_test_bot",
        *,
        auto_create_chats: bool = False,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.port = 0
        head = token.partition(":")[0]
        self.bot_id = int(head) if head.isdigit() else 123456
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Hiwar Test Bot",
            "username": bot_username,
        }
        self.auto_create_chats = auto_create_chats
        self.quiet = 0.15
        self.reply_timeout = 10.0
        self.webhook_retries = 3
        self.webhook_retry_delay = 0.05

        # What happened, for tests and benchmarks.
        self.actions: list[BotAction] = []
        self.errors: list[BotAction] = []
        self.requests: Counter[str] = Counter()
        self.sent_count = 0
        self.send_timestamps: list[float] = []
        self.rate_limited = 0
        self.webhook_deliveries = 0
        self.webhook_failures: list[tuple[int, str]] = []
        self.pushed: list[tuple[int, int, float]] = []
        """(update_id, chat_id, time.monotonic()) of every update made available to the bot."""
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.blocked: set[int] = set()

        self._chats: dict[int, ChatState] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)
        self._callback_queries: dict[str, int] = {}
        self._expired_queries: set[str] = set()

        self._pending: deque[_PendingUpdate] = deque()
        self._unconsumed: dict[int, _PendingUpdate] = {}
        self._next_update_id = 1
        self._updates_changed = asyncio.Event()
        self._action_event = asyncio.Event()
        self._poller: _Poller | None = None
        self._webhook: _Webhook | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._delivery_tasks: set[asyncio.Task[None]] = set()
        self._inflight = 0
        self._chat_locks: dict[int, _RefLock] = {}

        self._faults: list[_Fault] = []
        self._rate: tuple[int, float] | None = None
        self._send_window: deque[float] = deque()

        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

        handlers: dict[str, BotMethod] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
        }
        self._methods: dict[str, tuple[str, BotMethod]] = {
            name.lower(): (name, handler) for name, handler in handlers.items()
        }

    # ------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self.port = runner.addresses[0][1]
        self._runner = runner
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._closing = True
        self._notify_updates()
        tasks = [t for t in (self._webhook_task, *self._delivery_tasks) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)`; PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For `ApplicationBuilder().base_file_url(...)`; PTB appends the token."""
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------- chats and users

    def make_user(
        self, user_id: int, first_name: str = "Test", language_code: str | None = "en"
    ) -> SimulatedUser:
        """A human with a private chat with the bot (chat id == user id)."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        self._ensure_chat(user_id, "private", first_name=first_name)
        return SimulatedUser(self, user_id, first_name, language_code=language_code)

    def make_group(self, chat_id: int, title: str = "Test group") -> ChatState:
        """Register a group chat (negative id) the bot is a member of."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        return self._ensure_chat(chat_id, "group", title=title)

    def chat(self, chat_id: int) -> ChatState:
        try:
            return self._chats[chat_id]
        except KeyError:
            raise KeyError(f"the fake Bot API knows no chat {chat_id}") from None

    def has_chat(self, chat_id: int) -> bool:
        return chat_id in self._chats

    def _ensure_chat(self, chat_id: int, chat_type: str, **names: str) -> ChatState:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = ChatState(id=chat_id, type=chat_type, **names)
        return chat

    def block(self, chat_id: int) -> None:
        """Every call to this chat answers 403 "Forbidden: bot was blocked by the user"."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    @staticmethod
    def _new_message_id(chat: ChatState) -> int:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    def new_user_message(
        self, chat: ChatState, sender: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        """Create (and remember) a message a user writes in `chat`; returns its JSON."""
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat),
            "from": sender,
            "chat": chat.json_obj,
            "date": int(time.time()),
            **content,
        }
        chat.messages[message["message_id"]] = message
        return message

    def new_callback_query_id(self) -> str:
        return f"{self.bot_id}{next(self._callback_counter):010d}"

    def expired_callback_query_id(self) -> str:
        """An id whose query Telegram no longer lets the bot answer ("query is too old"), as
        for a tap replayed after a crash."""
        query_id = self.new_callback_query_id()
        self._expired_queries.add(query_id)
        return query_id

    def store_file(
        self, data: bytes, file_name: str | None, mime_type: str | None, kind: str
    ) -> StoredFile:
        """Remember a file so that getFile/download and re-sending by file_id work."""
        number = next(self._file_counter)
        extension = ""
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        extension = extension or _DEFAULT_EXTENSION[kind]
        stored = StoredFile(
            file_id=f"{_FILE_ID_PREFIX[kind]}{number:08d}",
            file_unique_id=f"AgAD{number:08d}",
            kind=kind,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{kind}s/file_{number}{extension}",
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def file_bytes(self, file_id: str) -> bytes:
        return self.files[file_id].data

    # ------------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        *,
        chat_id: int | None = None,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` ("*" = any; for `chat_id` only, if given)
        with an error; a 429 carries `parameters.retry_after`, other statuses their HTTP phrase."""
        self._faults.append(_Fault(method.lower(), chat_id, status, retry_after, max(times, 1)))

    def clear_faults(self) -> None:
        self._faults.clear()

    def rate_limit(self, per_second: float | None) -> None:
        """Answer 429 when the bot sends more than `per_second` messages (sendMessage,
        sendDocument, sendPhoto) within a sliding window; None/0 turns it off."""
        if not per_second:
            self._rate = None
            return
        capacity = max(1, math.floor(per_second))
        self._rate = (capacity, capacity / per_second)
        self._send_window.clear()

    def _apply_faults(self, name: str, params: dict[str, Any]) -> None:
        if not self._faults:
            return
        lowered = name.lower()
        chat_id = _maybe_int(params.get("chat_id"))
        if chat_id is None and lowered == "answercallbackquery":
            chat_id = self._callback_queries.get(str(params.get("callback_query_id")))
        for fault in self._faults:
            if fault.method not in ("*", lowered):
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            raise fault.error()

    def _check_rate(self) -> None:
        if self._rate is None:
            return
        capacity, window = self._rate
        now = time.monotonic()
        sends = self._send_window
        while sends and sends[0] <= now - window:
            sends.popleft()
        if len(sends) >= capacity:
            self.rate_limited += 1
            retry_after = max(1, math.ceil(sends[0] + window - now))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        sends.append(now)

    # ------------------------------------------------------------------------- updates

    def push_update(self, payload: dict[str, Any]) -> int:
        """Queue an update (or hand it to the webhook); returns its update_id."""
        return self._enqueue(payload).update_id

    def is_consumed(self, update_id: int) -> bool:
        return update_id < self._next_update_id and update_id not in self._unconsumed

    async def wait_consumed(self, update_id: int, timeout: float | None = None) -> None:
        record = self._unconsumed.get(update_id)
        if record is None:
            return
        async with asyncio.timeout(self.reply_timeout if timeout is None else timeout):
            await record.done.wait()

    def _enqueue(self, payload: dict[str, Any]) -> _PendingUpdate:
        update_id = self._next_update_id
        self._next_update_id += 1
        chat_id = _update_chat_id(payload)
        if "callback_query" in payload:
            query_id = str(payload["callback_query"]["id"])
            if query_id not in self._expired_queries:
                self._callback_queries[query_id] = chat_id
        record = _PendingUpdate(update_id, {"update_id": update_id, **payload}, chat_id)
        self.pushed.append((update_id, chat_id, time.monotonic()))
        self._pending.append(record)
        self._unconsumed[update_id] = record
        self._notify_updates()
        return record

    def _notify_updates(self) -> None:
        event, self._updates_changed = self._updates_changed, asyncio.Event()
        event.set()

    def _consume(self, record: _PendingUpdate, error: str | None = None) -> None:
        self._unconsumed.pop(record.update_id, None)
        record.finish(error)

    def _confirm(self, offset: int) -> None:
        """getUpdates' `offset` confirms every update before it."""
        pending = self._pending
        while pending and pending[0].update_id < offset:
            record = pending.popleft()
            self._consume(record, None if record.delivered else "skipped by getUpdates offset")

    def _requeue(self, record: _PendingUpdate) -> None:
        index = bisect.bisect_left(self._pending, record.update_id, key=lambda r: r.update_id)
        self._pending.insert(index, record)
        self._notify_updates()

    # --------------------------------------------------------------------- waiting

    async def exchange(
        self,
        payload: dict[str, Any],
        *,
        expect_reply: bool = True,
        timeout: float | None = None,
        quiet: float | None = None,
        until: Callable[[list[BotAction]], bool] | None = None,
        what: str = "update",
    ) -> list[BotAction]:
        """Push an update for a known chat and wait for the bot's reactions in that chat.

        Waits until the update was consumed (fetched by getUpdates and confirmed by a later
        offset, or answered 2xx by the webhook), then - if `expect_reply` - until the bot made
        at least one reaction call in the chat (send*/edit*/answerCallbackQuery/deleteMessage;
        sendChatAction doesn't count), then until `quiet` seconds pass without one.  `until`,
        if given, must also hold for the actions so far before the quiet period starts (use it
        when the bot is slow enough to pause between its calls, e.g. under load).
        Returns the chat's BotActions recorded since the push.  Raises TimeoutError (with a
        diagnosis) after `timeout` seconds, RuntimeError when the update was dropped.
        """
        chat_id = _update_chat_id(payload)
        if chat_id not in self._chats:
            raise ValueError(f"exchange() needs an update for a known chat, got chat {chat_id}")
        chat = self._chats[chat_id]
        timeout = self.reply_timeout if timeout is None else timeout
        quiet = self.quiet if quiet is None else quiet
        start_index = len(chat.actions)
        start_errors = len(chat.errors)
        start_reactions = chat.reaction_count
        deadline = time.monotonic() + timeout
        record = self._enqueue(payload)
        try:
            async with asyncio.timeout(timeout):
                await record.done.wait()
        except TimeoutError:
            if record.delivered:
                state = "fetched by the bot but never confirmed by a later getUpdates offset"
            elif self._webhook is not None:
                state = f"not accepted by the webhook {self._webhook.url}"
            else:
                state = "never fetched: is the bot polling (or is a webhook set)?"
            raise TimeoutError(
                f"{what} (update {record.update_id}) in chat {chat_id} was {state} "
                f"within {timeout:g}s"
            ) from None
        if record.error is not None:
            raise RuntimeError(f"{what} (update {record.update_id}) was dropped: {record.error}")
        if expect_reply or until is not None:

            def answered() -> bool:
                if expect_reply and chat.reaction_count == start_reactions:
                    return False
                return until is None or until(chat.actions[start_index:])

            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                    while not answered():
                        await chat.changed.wait()
            except TimeoutError:
                errors = [f"{e.method}: {e.description}" for e in chat.errors[start_errors:]]
                got = [a.method for a in chat.actions[start_index:]]
                raise TimeoutError(
                    f"the bot did not react in chat {chat_id} within {timeout:g}s after {what} "
                    f"(update {record.update_id} was consumed)"
                    + (f"; `until` not satisfied by {got}" if got else "")
                    + f"; failed bot calls in this chat since: {errors or 'none'}; "
                    f"last bot text: {_last_text(chat)!r}"
                ) from None
        while True:
            now = time.monotonic()
            quiet_until = max(chat.last_reaction_at, record.consumed_at) + quiet
            if now >= quiet_until or now >= deadline:
                break
            event = chat.changed
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(quiet_until, deadline) - now):
                    await event.wait()
        return chat.actions[start_index:]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> None:
        """Wait until `predicate()` is true; it is re-checked after every recorded bot call."""
        timeout = self.reply_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    await self._action_event.wait()
        except TimeoutError:
            raise TimeoutError(f"condition not met within {timeout:g}s") from None

    def clear_records(self) -> None:
        """Forget the recorded calls and counters (chats and their messages are kept)."""
        self.actions.clear()
        self.errors.clear()
        self.requests.clear()
        self.send_timestamps.clear()
        self.sent_count = 0
        self.rate_limited = 0
        for chat in self._chats.values():
            chat.actions.clear()
            chat.errors.clear()

    def _record(self, action: BotAction, chat: ChatState | None) -> None:
        self.actions.append(action)
        if action.method in SEND_METHODS:
            self.sent_count += 1
            self.send_timestamps.append(action.timestamp)
        if chat is not None:
            chat.actions.append(action)
            if action.method not in _NON_REACTIONS:
                chat.reaction_count += 1
                chat.last_reaction_at = action.timestamp
            chat.notify()
        self._notify_action()

    def _record_error(self, method: str, params: dict[str, Any], error: ApiError) -> None:
        chat_id = _maybe_int(params.get("chat_id"))
        if chat_id is None and method == "answerCallbackQuery":
            chat_id = self._callback_queries.get(str(params.get("callback_query_id")))
        text = params.get("text", params.get("caption"))
        action = BotAction(
            method=method,
            chat_id=chat_id,
            message_id=_maybe_int(params.get("message_id")),
            text=text if isinstance(text, str) else None,
            parse_mode=params.get("parse_mode") or None,
            error_code=error.status,
            description=error.description,
        )
        self.errors.append(action)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is not None:
            chat.errors.append(action)
        self._notify_action()

    def _notify_action(self) -> None:
        event, self._action_event = self._action_event, asyncio.Event()
        event.set()

    # ------------------------------------------------------------------------ HTTP layer

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return self._serve_file(path[len("/file/bot") :])
        if not path.startswith("/bot"):
            return _error_response(ApiError(404, "Not Found"))
        token, _, method = path[len("/bot") :].partition("/")
        if token != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        entry = self._methods.get(method.lower())
        name = entry[0] if entry is not None else method
        self.requests[name] += 1
        if entry is None:
            return _error_response(ApiError(404, "Not Found: method not found"))
        params: dict[str, Any] = {}
        try:
            params = await self._read_params(request)
            self._apply_faults(name, params)
            result = await entry[1](params)
        except ApiError as error:
            if error.status != 409 or name != "getUpdates":  # superseded long polls: noise
                self._record_error(name, params, error)
            return _error_response(error)
        except Exception as exc:  # a bug in the simulator: tell the bot, don't hang it
            _LOGGER.exception("fake Bot API failed on %s", name)
            error = ApiError(500, f"Internal Server Error: simulator bug: {exc!r}")
            self._record_error(name, params, error)
            return _error_response(error)
        return _json_response({"ok": True, "result": result})

    @staticmethod
    async def _read_params(request: web.Request) -> dict[str, Any]:
        """The form fields of a call (PTB sends an urlencoded or a multipart form): strings
        (objects JSON-encoded, as PTB sends them) and uploaded files."""
        params: dict[str, Any] = {}
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                with value.file:
                    data = value.file.read()
                params[key] = UploadedFile(data, value.filename, value.content_type)
            else:
                params[key] = value
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attached = params.get(value[len("attach://") :])
                if not isinstance(attached, UploadedFile):
                    raise ApiError(400, f"Bad Request: file {value} not found in the request")
                params[key] = attached
        return params

    def _serve_file(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        stored = self._files_by_path.get(file_path)
        if stored is None:
            return _error_response(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ---------------------------------------------------------------- common validation

    def _resolve_chat(self, params: dict[str, Any]) -> ChatState:
        if not params.get("chat_id"):
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = _maybe_int(params["chat_id"])
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            if self.auto_create_chats and chat_id is not None and chat_id > 0:
                return self._ensure_chat(chat_id, "private", first_name=f"User {chat_id}")
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _check_writable(self, chat: ChatState, method: str) -> None:
        if chat.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if method in SEND_METHODS:
            self._check_rate()

    @staticmethod
    def _body(
        params: dict[str, Any], key: str
    ) -> tuple[str | None, str | None, list[dict[str, Any]]]:
        """The text or caption (`key`) of a send or edit: (as sent, as the user sees it,
        entities), all empty when there is none; a message's text can't be empty."""
        sent = params.get(key) or None
        rendered, entities = parse_text(sent, params.get("parse_mode")) if sent else ("", [])
        if not rendered:
            if key == "text":
                raise ApiError(400, "Bad Request: message text is empty")
            return None, None, []
        _, limit, too_long = _BODIES[key]
        if len(rendered) > limit:
            raise ApiError(400, too_long)
        return sent, rendered, entities

    @staticmethod
    def _validate_markup(markup: Any) -> dict[str, Any] | None:
        """An inline keyboard of callback buttons (the only reply_markup Hiwar sends), or None."""
        markup = _as_json(markup)
        if markup is None:
            return None
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard: the simulator knows only "
                'reply_markup {"inline_keyboard": [[button, ...], ...]}',
            )
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise ApiError(400, "Bad Request: BUTTONS_TOO_MUCH")
        prefix = "Bad Request: can't parse inline keyboard button: "
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, dict):
                raise ApiError(400, prefix + "InlineKeyboardButton must be an Object")
            text = button.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ApiError(400, prefix + "Text must be non-empty")
            if "callback_data" not in button:
                raise ApiError(400, prefix + "the simulator knows only callback_data buttons")
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _reply_to(chat: ChatState, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message quoted through `reply_parameters` (PTB quotes in groups), if any."""
        reply = _as_json(params.get("reply_parameters"))
        if not isinstance(reply, dict):
            return None
        target = chat.messages.get(_as_int(reply.get("message_id"), "message_id"))
        if target is None:
            raise ApiError(400, "Bad Request: message to be replied not found")
        return _snapshot(target)

    def _message_to_edit(self, chat: ChatState, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("message_id") is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message = chat.messages.get(_as_int(params["message_id"], "message_id"))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"].get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _write(
        self,
        method: str,
        params: dict[str, Any],
        *,
        body: str | None,
        media: str | None = None,
        edit: bool = False,
    ) -> dict[str, Any]:
        """The work every send and edit method shares: find the chat (and for an edit the
        message), read the text or caption `body` with its parse_mode and entities, upload or
        look up the `media` file, validate the reply_markup, then store the message (a new one,
        or the edited one, refusing an edit that changes nothing) and record the call."""
        chat = self._resolve_chat(params)
        self._check_writable(chat, method)
        old = self._message_to_edit(chat, params) if edit else None
        if old is not None and body is not None and body not in old:
            raise ApiError(400, f"Bad Request: there is no {body} in the message to edit")
        stored = self._input_file(params.get(media), media) if media else None
        sent, rendered, entities = self._body(params, body) if body else (None, None, [])
        markup = self._validate_markup(params.get("reply_markup"))
        content: dict[str, Any] = {}
        if stored is not None:
            content[stored.kind] = self.file_object(stored)
        if body is not None:
            content.update({body: rendered, _BODIES[body][0]: entities or None})
        if old is None:
            message = self._new_bot_message(chat, content, markup, self._reply_to(chat, params))
        else:
            changes = {**content, "reply_markup": markup}
            if all(old.get(key) == value for key, value in changes.items()):
                raise ApiError(400, _NOT_MODIFIED)
            message = self._replace(chat, old, changes)
        document = stored if media == "document" else None
        photo = stored if media == "photo" else None
        self._record(
            BotAction(
                method=method,
                chat_id=chat.id,
                message_id=message["message_id"],
                text=sent,
                rendered_text=rendered,
                reply_markup=markup,
                parse_mode=params.get("parse_mode") or None,
                document=document.data if document else None,
                document_name=document.file_name if document else None,
                photo=photo.data if photo else None,
            ),
            chat,
        )
        return message

    def _new_bot_message(
        self,
        chat: ChatState,
        content: dict[str, Any],
        markup: dict[str, Any] | None,
        reply_to: dict[str, Any] | None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat),
            "from": self.bot_user,
            "chat": chat.json_obj,
            "date": int(time.time()),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update((k, v) for k, v in content.items() if v is not None)
        if markup is not None:
            message["reply_markup"] = markup
        chat.messages[message["message_id"]] = message
        chat.bot_message_ids[message["message_id"]] = None
        return message

    @staticmethod
    def _replace(
        chat: ChatState, message: dict[str, Any], changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Copy-on-write edit, so snapshots handed out earlier (callback queries) stay intact;
        a change to None removes the field."""
        new = dict(message)
        for key, value in changes.items():
            if value is None:
                new.pop(key, None)
            else:
                new[key] = value
        new["edit_date"] = int(time.time())
        chat.messages[new["message_id"]] = new
        return new

    def _input_file(self, value: Any, kind: str) -> StoredFile:
        """An uploaded file (stored now) or the file_id of one stored before."""
        if isinstance(value, UploadedFile):
            if not value.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if kind == "photo" and _image_size(value.data) is None:
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            mime = "image/jpeg" if kind == "photo" else value.content_type
            return self.store_file(value.data, value.filename, mime, kind)
        if not value:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        stored = self.files.get(value)
        if stored is None:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise ApiError(
                400,
                f"Bad Request: can't use file of type {stored.kind.capitalize()} as "
                f"{kind.capitalize()}",
            )
        return stored

    @staticmethod
    def file_object(stored: StoredFile) -> Any:
        """The Telegram JSON of a stored file (a list of PhotoSize for photos)."""
        if stored.kind == "photo":
            width, height = _image_size(stored.data) or (0, 0)
            return [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": stored.file_size,
                }
            ]
        obj: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if stored.file_name:
            obj["file_name"] = stored.file_name
        if stored.mime_type:
            obj["mime_type"] = stored.mime_type
        return obj

    # --------------------------------------------------------------------- Bot API methods

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset") or 0, "offset")
        limit = min(max(_as_int(params.get("limit") or 100, "limit"), 1), 100)
        try:
            timeout = max(float(params.get("timeout") or 0), 0.0)
        except ValueError as exc:
            raise ApiError(400, "Bad Request: invalid timeout specified") from exc
        self._confirm(offset)
        if self._poller is not None:  # Telegram ends the older long poll with 409
            self._poller.terminated = True
            self._notify_updates()
        poller = self._poller = _Poller()
        deadline = time.monotonic() + timeout
        try:
            while True:
                if poller.terminated:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                if self._pending or self._closing or self._webhook is not None:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                event = self._updates_changed
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await event.wait()
        finally:
            if self._poller is poller:
                self._poller = None
        if self._webhook is not None:
            return []
        batch = list(itertools.islice(self._pending, limit))
        for record in batch:
            record.delivered = True
        return [record.payload for record in batch]

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if url and not url.startswith(("http://", "https://")):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token") or None
        if secret is not None and not _SECRET_TOKEN_RE.fullmatch(secret):
            raise ApiError(
                400, "Bad Request: bad webhook: secret token contains unallowed characters"
            )
        max_connections = min(max(_as_int(params.get("max_connections") or 40, "max"), 1), 100)
        if not url:
            self._webhook = None
        else:
            self._webhook = _Webhook(url, secret, max_connections)
            if self._webhook_task is None or self._webhook_task.done():
                self._webhook_task = asyncio.create_task(
                    self._webhook_loop(), name="FakeBotApi:webhook"
                )
        self._notify_updates()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self._webhook = None
        self._notify_updates()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        hook = self._webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending) + self._inflight,
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._write("sendMessage", params, body="text")

    async def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._write("sendDocument", params, body="caption", media="document")

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._write("sendPhoto", params, body="caption", media="photo")

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._write("editMessageText", params, body="text", edit=True)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._write("editMessageReplyMarkup", params, body=None, edit=True)

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params)
        if params.get("message_id") is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message_id = _as_int(params["message_id"], "message_id")
        if message_id not in chat.messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        del chat.messages[message_id]
        chat.bot_message_ids.pop(message_id, None)
        action = BotAction(method="deleteMessage", chat_id=chat.id, message_id=message_id)
        self._record(action, chat)
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is "
                "invalid",
            )
        text = params.get("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        chat_id = self._callback_queries.pop(query_id)  # a second answer is "too old"
        self._record(
            BotAction(
                method="answerCallbackQuery",
                chat_id=chat_id,
                callback_text=text,
                show_alert=_truthy(params.get("show_alert")),
            ),
            self._chats.get(chat_id),
        )
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params)
        self._check_writable(chat, "sendChatAction")
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self._record(BotAction(method="sendChatAction", chat_id=chat.id, chat_action=action), chat)
        return True

    async def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(params.get("file_id") or "")
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    async def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        return {
            **chat.json_obj,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else _as_json(scope) or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = _as_json(params.get("commands"))
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        stored: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_NAME_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            stored.append({"command": command["command"], "description": description})
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        if stored:
            self.commands[key] = stored
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return self.commands.get(key, [])

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.commands.pop(key, None)
        return True

    def get_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """The commands the bot set for this scope (default scope if None) and language."""
        return self.commands.get(self._commands_key(scope, language_code), [])

    async def _set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        button = _as_json(params.get("menu_button")) or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise ApiError(400, "Bad Request: can't parse menu button JSON object")
        if params.get("chat_id") is not None:
            self._resolve_chat(params)
        return True

    # ------------------------------------------------------------------------- webhooks

    async def _webhook_loop(self) -> None:
        while not self._closing and (hook := self._webhook) is not None:
            if not self._pending or self._inflight >= hook.max_connections:
                await self._updates_changed.wait()
                continue
            record = self._pending.popleft()
            self._inflight += 1
            task = asyncio.create_task(self._deliver(record, hook))
            self._delivery_tasks.add(task)
            task.add_done_callback(self._delivery_tasks.discard)

    @contextlib.asynccontextmanager
    async def _chat_lock(self, key: int) -> AsyncIterator[None]:
        """Deliveries for one chat go out one after another, in update order."""
        entry = self._chat_locks.get(key)
        if entry is None:
            entry = self._chat_locks[key] = _RefLock()
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._chat_locks[key]

    async def _deliver(self, record: _PendingUpdate, hook: _Webhook) -> None:
        outcome: str | None = "requeue"
        try:
            async with self._chat_lock(record.chat_id):
                outcome = await self._post_update(record, hook)
        finally:
            self._inflight -= 1
            if outcome is None:
                record.delivered = True
                self.webhook_deliveries += 1
                self._consume(record)
            elif outcome == "requeue":
                self._requeue(record)
            else:
                self.webhook_failures.append((record.update_id, outcome))
                self._consume(record, f"webhook delivery failed: {outcome}")
            self._notify_updates()

    async def _post_update(self, record: _PendingUpdate, hook: _Webhook) -> str | None:
        """None on success, "requeue" if the webhook changed meanwhile, else the last error."""
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        body = json.dumps(record.payload, ensure_ascii=False).encode("utf-8")
        error = "not attempted"
        for attempt in range(self.webhook_retries + 1):
            if self._webhook is not hook:
                return "requeue"
            try:
                async with self._session.post(
                    hook.url,
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=_WEBHOOK_TIMEOUT),
                ) as response:
                    await response.read()
                    if 200 <= response.status < 300:
                        return None
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                error = f"Connection failed: {exc.__class__.__name__}: {exc}"
            hook.last_error_date = int(time.time())
            hook.last_error_message = error
            if attempt < self.webhook_retries:
                await asyncio.sleep(self.webhook_retry_delay)
        return error


def _snapshot(message: dict[str, Any]) -> dict[str, Any]:
    """A message as embedded in another one (reply_to_message doesn't nest further)."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _last_text(chat: ChatState) -> str | None:
    for action in reversed(chat.actions):
        if action.text is not None:
            return action.text
    return None
