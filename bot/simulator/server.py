"""A local fake of the Telegram Bot API ("the simulator") for end-to-end tests and `hiwar demo`.

`FakeBotApi` is an aiohttp server on 127.0.0.1 that speaks enough of the Bot API for an
unmodified python-telegram-bot `Application` (pointed at it with `ApplicationBuilder().base_url(
api.base_url)`) to run over real HTTP: long polling with Telegram's offset/confirmation rules,
webhooks (with the secret-token header and retries), sending/editing/deleting messages, inline
keyboards, callback answers, documents and photos, commands and menu buttons.

It validates what the bot sends the way Telegram does (empty or over-long text, bad HTML or
MarkdownV2, callback_data over 64 bytes, too many buttons, editing without changes, ...) and
answers with Telegram's error descriptions, so PTB raises the same exceptions it would in
production.  Faults can be injected (`fail_next`, `block`, `rate_limit`).

Everything the bot does is recorded as `BotAction`s, globally (`api.actions`) and per chat
(`api.chat(chat_id).actions`), and the humans are `SimulatedUser`s (`api.make_user(...)`) whose
`send_*`/`tap` methods push an update and wait for the bot's reaction.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import html
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

from bot.simulator.users import SimulatedUser

__all__ = [
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_INLINE_BUTTONS",
    "MAX_TEXT_LENGTH",
    "ApiError",
    "BotAction",
    "ChatState",
    "FakeBotApi",
    "StoredFile",
    "UploadedFile",
    "parse_text",
]

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
# (Telegram silently keeps it), because it almost always means a value was not escaped.

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


# --------------------------------------------------------------------------------------- HTML

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
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_RE = re.compile(
    r"""\s+([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"""
)
_HTML_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6}));")
_HTML_SPECIAL_RE = re.compile(r"[<&]")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_entity(tag: str, offset: int, length: int, attrs: dict[str, str]) -> dict | None:
    if length <= 0:
        return None
    kind = _HTML_TAGS[tag]
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if tag == "a":
        href = attrs.get("href", "")
        if not href:
            return None
        entity["url"] = href
    elif tag == "pre" and attrs.get("_language"):
        entity["language"] = attrs["_language"]
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    return entity


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Parse Telegram-flavoured HTML; returns (plain text, entities)."""
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict] = []
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
            tag, start16, attrs = stack.pop()
            if name != tag:
                raise _fail(
                    f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                    f'expected "</{tag}>", found "</{name}>"'
                )
            if tag == "code" and stack and stack[-1][0] == "pre":
                lang = attrs.get("class", "")
                if lang.startswith("language-"):
                    stack[-1][2]["_language"] = lang[len("language-") :]
            else:
                entity = _html_entity(tag, start16, pos16 - start16, attrs)
                if entity is not None:
                    entities.append(entity)
            i = end + 1
            continue
        nm = _TAG_NAME_RE.match(text, i + 1)
        name = nm.group(0).lower() if nm else ""
        if nm is None or name not in _HTML_TAGS:
            raise _fail(f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}')
        k = nm.end()
        attrs: dict[str, str] = {}
        while (am := _ATTR_RE.match(text, k)) is not None:
            value = next((g for g in am.group(2, 3, 4) if g is not None), "")
            attrs[am.group(1).lower()] = html.unescape(value)
            k = am.end()
        while k < n and text[k].isspace():
            k += 1
        if k >= n or text[k] != ">":
            raise _fail(f"Unclosed start tag at byte offset {_byte_offset(text, i)}")
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, i)}'
            )
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise _fail(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                f"{_byte_offset(text, i)}"
            )
        stack.append((name, pos16, attrs))
        i = k + 1
    if stack:
        raise _fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), entities


# --------------------------------------------------------------------------------- MarkdownV2

_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_KINDS = {
    "*": ("bold", "Bold"),
    "_": ("italic", "Italic"),
    "__": ("underline", "Underline"),
    "~": ("strikethrough", "Strikethrough"),
    "||": ("spoiler", "Spoiler"),
    "[": ("text_link", "TextUrl"),
    "![": ("custom_emoji", "CustomEmoji"),
}


def _md2_find_closing(text: str, start: int, closing: str) -> int:
    """Index of the next unescaped `closing` at or after `start`, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(closing, i):
            return i
        i += 1
    return -1


def _md2_unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s, flags=re.DOTALL)


def parse_markdown_v2(text: str) -> tuple[str, list[dict]]:
    """Parse MarkdownV2; returns (plain text, entities)."""
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, int, int]] = []  # (marker, start16, index in text)
    entities: list[dict] = []
    quote_start: int | None = None
    i, n = 0, len(text)
    line_start = True

    def emit(s: str) -> None:
        nonlocal pos16
        out.append(s)
        pos16 += utf16_len(s)

    def toggle(marker: str, index: int) -> None:
        for pos in range(len(stack) - 1, -1, -1):
            if stack[pos][0] == marker:
                _, start16, _ = stack.pop(pos)
                if pos16 > start16:
                    kind = _MD2_KINDS[marker][0]
                    entities.append({"type": kind, "offset": start16, "length": pos16 - start16})
                return
        stack.append((marker, pos16, index))

    while i < n:
        c = text[i]
        was_line_start, line_start = line_start, False
        if c == "\\" and i + 1 < n and ord(text[i + 1]) <= 126:
            emit(text[i + 1])
            line_start = text[i + 1] == "\n"
            i += 2
            continue
        if c == "\n":
            if quote_start is not None and not text.startswith(">", i + 1):
                entities.append(
                    {"type": "blockquote", "offset": quote_start, "length": pos16 - quote_start}
                )
                quote_start = None
            emit(c)
            line_start = True
            i += 1
            continue
        if c == ">" and was_line_start:
            if quote_start is None:
                quote_start = pos16
            i += 1
            continue
        if c == "`":
            if text.startswith("```", i):
                end = _md2_find_closing(text, i + 3, "```")
                if end == -1:
                    raise _fail(
                        f"Can't find end of Pre entity at byte offset {_byte_offset(text, i)}"
                    )
                body = text[i + 3 : end]
                language = ""
                first, sep, rest = body.partition("\n")
                if sep and first and not any(ch.isspace() for ch in first):
                    language, body = first, rest
                start16 = pos16
                emit(_md2_unescape(body))
                entity: dict[str, Any] = {
                    "type": "pre", "offset": start16, "length": pos16 - start16
                }
                if language:
                    entity["language"] = language
                if pos16 > start16:
                    entities.append(entity)
                i = end + 3
                continue
            end = _md2_find_closing(text, i + 1, "`")
            if end == -1:
                raise _fail(f"Can't find end of Code entity at byte offset {_byte_offset(text, i)}")
            start16 = pos16
            emit(_md2_unescape(text[i + 1 : end]))
            if pos16 > start16:
                entities.append({"type": "code", "offset": start16, "length": pos16 - start16})
            i = end + 1
            continue
        if c in "*~":
            toggle(c, i)
            i += 1
            continue
        if c == "_":
            marker = "__" if text.startswith("__", i) else "_"
            toggle(marker, i)
            i += len(marker)
            continue
        if c == "|" and text.startswith("||", i):
            toggle("||", i)
            i += 2
            continue
        if c == "[" or (c == "!" and text.startswith("![", i)):
            marker = "[" if c == "[" else "!["
            stack.append((marker, pos16, i))
            i += len(marker)
            continue
        if c == "]" and stack and stack[-1][0] in ("[", "!["):
            if not text.startswith("(", i + 1):
                raise _fail(
                    f"Can't find end of {_MD2_KINDS[stack[-1][0]][1]} entity at byte offset "
                    f"{_byte_offset(text, stack[-1][2])}"
                )
            end = _md2_find_closing(text, i + 2, ")")
            if end == -1:
                raise _fail(f"Can't find end of a URL at byte offset {_byte_offset(text, i + 1)}")
            url = _md2_unescape(text[i + 2 : end])
            marker, start16, _ = stack.pop()
            if pos16 > start16:
                if marker == "[":
                    entities.append(
                        {"type": "text_link", "offset": start16, "length": pos16 - start16,
                         "url": url}
                    )
                else:
                    emoji_id = url.rpartition("id=")[2]
                    entities.append(
                        {"type": "custom_emoji", "offset": start16, "length": pos16 - start16,
                         "custom_emoji_id": emoji_id}
                    )
            i = end + 1
            continue
        if c in _MD2_RESERVED:
            raise _fail(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
        j = i + 1
        while j < n and text[j] not in _MD2_RESERVED and text[j] not in "\\\n":
            j += 1
        emit(text[i:j])
        i = j
    if stack:
        marker, _, index = stack[-1]
        raise _fail(
            f"Can't find end of {_MD2_KINDS[marker][1]} entity at byte offset "
            f"{_byte_offset(text, index)}"
        )
    if quote_start is not None and pos16 > quote_start:
        entities.append(
            {"type": "blockquote", "offset": quote_start, "length": pos16 - quote_start}
        )
    return "".join(out), entities


# ----------------------------------------------------------------------------- legacy Markdown

_MD1_KINDS = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown(text: str) -> tuple[str, list[dict]]:
    """Parse legacy Markdown (no nesting); returns (plain text, entities)."""
    out: list[str] = []
    pos16 = 0
    entities: list[dict] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            pos16 += 1
            i += 2
            continue
        if c in _MD1_KINDS or c == "[":
            closing = "]" if c == "[" else ("```" if text.startswith("```", i) else c)
            start = i + len(closing) if closing == "```" else i + 1
            end = text.find(closing, start)
            if end == -1:
                raise _fail(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            inner = text[start:end]
            kind = "pre" if closing == "```" else _MD1_KINDS.get(c, "text_link")
            entity: dict[str, Any] = {"type": kind, "offset": pos16, "length": utf16_len(inner)}
            after = end + len(closing)
            if c == "[":
                if text.startswith("(", after):
                    url_end = text.find(")", after)
                    if url_end == -1:
                        raise _fail(
                            "Can't find end of the entity starting at byte offset "
                            f"{_byte_offset(text, i)}"
                        )
                    entity["url"] = text[after + 1 : url_end]
                    after = url_end + 1
                else:
                    entity = {}
            out.append(inner)
            pos16 += utf16_len(inner)
            if entity and entity["length"] > 0:
                entities.append(entity)
            i = after
            continue
        out.append(c)
        pos16 += utf16_len(c)
        i += 1
    return "".join(out), entities


# ---------------------------------------------------------------------------------- dispatcher


def _strip(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Telegram trims leading and trailing whitespace of a message, shifting the entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[dict] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def parse_text(
    text: str, parse_mode: str | None, explicit_entities: list[dict] | None = None
) -> tuple[str, list[dict]]:
    """(what the user sees, entities) of a text or caption; raises ApiError on bad markup."""
    mode = (parse_mode or "").lower()
    if not mode:
        plain, entities = text, list(explicit_entities or [])
    elif mode == "html":
        plain, entities = parse_html(text)
    elif mode == "markdownv2":
        plain, entities = parse_markdown_v2(text)
    elif mode == "markdown":
        plain, entities = parse_markdown(text)
    else:
        raise ApiError(400, "Bad Request: unsupported parse_mode")
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
    kind: str  # "document", "photo", "sticker", "voice", ...
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

    `text` is the text or caption exactly as the bot sent it (with its HTML/Markdown markup);
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
    file_id: str | None = None
    callback_query_id: str | None = None
    callback_text: str | None = None
    show_alert: bool = False
    chat_action: str | None = None
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    timestamp: float = field(default_factory=time.monotonic)
    error_code: int | None = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Rows of (label, callback_data or url) of the inline keyboard sent with this call."""
        return keyboard_rows(self.reply_markup)


def keyboard_rows(markup: dict[str, Any] | None) -> list[list[tuple[str, str]]]:
    """Rows of (label, callback_data or url or "") of an inline keyboard markup."""
    if not markup or not isinstance(markup.get("inline_keyboard"), list):
        return []
    return [
        [
            (
                str(button.get("text", "")),
                str(button.get("callback_data", button.get("url", ""))),
            )
            for button in row
        ]
        for row in markup["inline_keyboard"]
    ]


@dataclass(eq=False)
class ChatState:
    """What the fake server knows about one chat: its messages as they are now, and the log."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    next_message_id: int = 1
    # message_id -> the message as it currently is (bot and user messages)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    # the bot's messages still present, oldest first (a dict used as an ordered set)
    bot_message_ids: dict[int, None] = field(default_factory=dict)
    actions: list[BotAction] = field(default_factory=list)
    errors: list[BotAction] = field(default_factory=list)
    reaction_count: int = 0
    last_reaction_at: float = 0.0
    reply_keyboard: dict[str, Any] | None = None
    menu_button: dict[str, Any] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    json_obj: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        obj: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "last_name", "username"):
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
    __slots__ = (
        "chat_id",
        "consumed_at",
        "delivered",
        "done",
        "error",
        "kind",
        "payload",
        "update_id",
    )

    def __init__(
        self, update_id: int, payload: dict[str, Any], kind: str, chat_id: int | None
    ) -> None:
        self.update_id = update_id
        self.payload = payload
        self.kind = kind
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
    ip_address: str | None
    has_custom_certificate: bool
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(slots=True)
class _Fault:
    method: str  # lower case, or "*"
    chat_id: int | None
    status: int
    retry_after: int | None
    description: str | None
    remaining: int

    def error(self) -> ApiError:
        description = self.description
        if description is None:
            if self.status == 429:
                description = f"Too Many Requests: retry after {self.retry_after or 1}"
            elif self.status == 403:
                description = "Forbidden: bot was blocked by the user"
            elif self.status == 400:
                description = "Bad Request: simulated failure"
            else:
                try:
                    description = HTTPStatus(self.status).phrase
                except ValueError:
                    description = f"Error {self.status}"
        parameters = None
        if self.status == 429 and self.retry_after is not None:
            parameters = {"retry_after": self.retry_after}
        return ApiError(self.status, description, parameters)


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
SEND_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "copyMessage"})
# Recorded in the chat log but not a "reaction" a simulated user waits for.
_NON_REACTIONS = frozenset({"sendChatAction"})
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
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
_INLINE_BUTTON_KINDS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "web_app",
    "login_url",
    "pay",
    "callback_game",
    "copy_text",
)
# Form fields that are always strings (PTB sends other non-string values JSON-encoded).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "action",
        "language_code",
        "inline_message_id",
        "description",
        "short_description",
        "name",
        "file_id",
        "title",
        "emoji",
        "ip_address",
        "document",
        "photo",
        "sticker",
        "voice",
        "audio",
        "video",
        "animation",
        "thumbnail",
        "business_connection_id",
        "message_effect_id",
    }
)
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_URL_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
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


def _coerce(name: str, value: str) -> Any:
    """A form field's value: JSON-decoded unless it is a string-typed parameter."""
    if name in _STRING_PARAMS or not value:
        return value
    if value[0] in "{[" or value in ("true", "false", "null") or _NUMBER_RE.fullmatch(value):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value.strip())
    raise ApiError(400, f"Bad Request: invalid {name} specified")


def _maybe_int(value: Any) -> int | None:
    try:
        return _as_int(value, "value")
    except ApiError:
        return None


def _as_json(value: Any) -> Any:
    """Nested objects arrive as JSON strings in form data (and sometimes in JSON bodies)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(400, "Bad Request: can't parse JSON object") from exc
    return value


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _update_chat_id(kind: str, body: Any) -> int | None:
    if not isinstance(body, dict):
        return None
    if kind == "callback_query":
        message = body.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return message["chat"].get("id")
        return (body.get("from") or {}).get("id")
    chat = body.get("chat")
    if isinstance(chat, dict):
        return chat.get("id")
    sender = body.get("from") or body.get("user")
    if isinstance(sender, dict):
        return sender.get("id")
    return None


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG/JPEG/GIF/WEBP/BMP image, (0, 0) when unknown, None if no image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            i += 2 + length
        return 0, 0
    if (data[:4] == b"RIFF" and data[8:12] == b"WEBP") or data.startswith(b"BM"):
        return 0, 0
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
    `webhook_retries` (3), `webhook_retry_delay` (0.05 s), `webhook_timeout` (10 s).

    With `auto_create_chats=True` a send to an unknown positive chat id creates a private chat
    on the fly (handy for broadcast benchmarks); by default it answers "chat not found", as
    Telegram does for users who never talked to the bot.
    """

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "hiwar_test_bot",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_first_name: str = "Hiwar Test Bot",
        auto_create_chats: bool = False,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.host = host
        self.port = port
        head = token.partition(":")[0]
        self.bot_id = int(head) if head.isdigit() else 123456
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.auto_create_chats = auto_create_chats
        self.quiet = 0.15
        self.reply_timeout = 10.0
        self.webhook_retries = 3
        self.webhook_retry_delay = 0.05
        self.webhook_timeout = 10.0

        # What happened, for tests and benchmarks.
        self.actions: list[BotAction] = []
        self.errors: list[BotAction] = []
        self.requests: Counter[str] = Counter()
        self.sent_count = 0
        self.send_timestamps: list[float] = []
        self.rate_limited = 0
        self.dropped_updates = 0
        self.webhook_deliveries = 0
        self.webhook_failures: list[tuple[int, str]] = []
        self.pushed: list[tuple[int, int | None, float]] = []
        """(update_id, chat_id, time.monotonic()) of every update made available to the bot."""
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.blocked: set[int] = set()

        self._chats: dict[int, ChatState] = {}
        self._usernames: dict[str, int] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)
        self._callback_queries: dict[str, int | None] = {}
        self._bot_texts: dict[tuple[str, str], str] = {}
        self._default_menu_button: dict[str, Any] = {"type": "commands"}

        self._pending: deque[_PendingUpdate] = deque()
        self._unconsumed: dict[int, _PendingUpdate] = {}
        self._next_update_id = 1
        self._updates_changed = asyncio.Event()
        self._action_event = asyncio.Event()
        self._poller: _Poller | None = None
        self._allowed_updates: frozenset[str] | None = None
        self._webhook: _Webhook | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._delivery_tasks: set[asyncio.Task[None]] = set()
        self._inflight = 0
        self._chat_locks: dict[int | None, _RefLock] = {}

        self._faults: list[_Fault] = []
        self._rate: tuple[int, float] | None = None
        self._send_window: deque[float] = deque()

        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

        handlers: dict[str, BotMethod] = {
            "getMe": self._get_me,
            "logOut": self._ok,
            "close": self._ok,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "copyMessage": self._copy_message,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "setMyName": self._bot_text_setter("name"),
            "getMyName": self._bot_text_getter("name"),
            "setMyDescription": self._bot_text_setter("description"),
            "getMyDescription": self._bot_text_getter("description"),
            "setMyShortDescription": self._bot_text_setter("short_description"),
            "getMyShortDescription": self._bot_text_getter("short_description"),
        }
        self._methods: dict[str, tuple[str, BotMethod]] = {
            name.lower(): (name, handler) for name, handler in handlers.items()
        }

    # ------------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self.port = runner.addresses[0][1]
        self._runner = runner
        self._session = aiohttp.ClientSession()
        if self._webhook is not None:
            self._start_webhook_dispatcher()

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
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = "en",
        username: str | None = None,
        *,
        last_name: str | None = None,
    ) -> SimulatedUser:
        """A human with a private chat with the bot (chat id == user id)."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        self._ensure_chat(
            user_id, "private", first_name=first_name, last_name=last_name, username=username
        )
        return SimulatedUser(
            self,
            user_id,
            first_name,
            language_code=language_code,
            username=username,
            last_name=last_name,
        )

    def make_group(
        self, chat_id: int, title: str = "Test group", *, supergroup: bool = False
    ) -> ChatState:
        """Register a group chat (negative id) the bot is a member of."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        return self._ensure_chat(chat_id, "supergroup" if supergroup else "group", title=title)

    def chat(self, chat_id: int) -> ChatState:
        try:
            return self._chats[chat_id]
        except KeyError:
            raise KeyError(f"the fake Bot API knows no chat {chat_id}") from None

    def has_chat(self, chat_id: int) -> bool:
        return chat_id in self._chats

    @property
    def chats(self) -> dict[int, ChatState]:
        return self._chats

    def _ensure_chat(self, chat_id: int, chat_type: str, **names: str | None) -> ChatState:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = ChatState(id=chat_id, type=chat_type, **names)
            self._chats[chat_id] = chat
            if chat.username:
                self._usernames[chat.username.lower()] = chat_id
        return chat

    def block(self, chat_id: int) -> None:
        """Every call to this chat answers 403 "Forbidden: bot was blocked by the user"."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def new_message_id(self, chat: ChatState) -> int:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    def new_user_message(
        self,
        chat: ChatState,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """Create (and remember) a message a user writes in `chat`; returns its JSON."""
        message: dict[str, Any] = {
            "message_id": self.new_message_id(chat),
            "from": sender,
            "chat": chat.json_obj,
            "date": int(time.time()),
            **content,
        }
        if reply_to is not None:
            target = chat.messages.get(reply_to)
            if target is None:
                raise KeyError(f"no message {reply_to} in chat {chat.id} to reply to")
            message["reply_to_message"] = _snapshot(target)
        chat.messages[message["message_id"]] = message
        return message

    def new_callback_query_id(self) -> str:
        return f"{self.bot_id}{next(self._callback_counter):010d}"

    def store_file(
        self, data: bytes, file_name: str | None, mime_type: str | None, kind: str
    ) -> StoredFile:
        """Remember a file so that getFile/download and re-sending by file_id work."""
        number = next(self._file_counter)
        prefix = _FILE_ID_PREFIX.get(kind, "BAACAgIAAxkBAAI")
        extension = ""
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        extension = extension or _DEFAULT_EXTENSION.get(kind, "")
        stored = StoredFile(
            file_id=f"{prefix}{number:08d}",
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
        retry_after: int | None = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` ("*" = any; for `chat_id` only, if given)
        with an error; a 429 carries `parameters.retry_after` unless `retry_after` is None."""
        self._faults.append(
            _Fault(method.lower(), chat_id, status, retry_after, description, max(times, 1))
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    def rate_limit(self, per_second: float | None) -> None:
        """Answer 429 when the bot sends more than `per_second` messages (sendMessage,
        sendDocument, sendPhoto, copyMessage) within a sliding window; None/0 turns it off."""
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
        chat_id: int | None = _maybe_int(params.get("chat_id"))
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

    @property
    def pending_update_count(self) -> int:
        return len(self._pending) + self._inflight

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
        data: dict[str, Any] = {"update_id": update_id}
        data.update((k, v) for k, v in payload.items() if k != "update_id")
        kind = next((k for k in data if k != "update_id"), "")
        body = data.get(kind)
        chat_id = _update_chat_id(kind, body)
        if kind == "callback_query" and isinstance(body, dict) and "id" in body:
            self._callback_queries[str(body["id"])] = chat_id
        record = _PendingUpdate(update_id, data, kind, chat_id)
        self.pushed.append((update_id, chat_id, time.monotonic()))
        allowed = self._allowed_updates
        if (kind not in allowed) if allowed is not None else (kind in _DEFAULT_EXCLUDED_UPDATES):
            self.dropped_updates += 1
            record.finish(f"update type {kind!r} is not in allowed_updates")
            return record
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
        pending = self._pending
        if offset < 0:
            while len(pending) > -offset:
                record = pending.popleft()
                self.dropped_updates += not record.delivered
                self._consume(record, None if record.delivered else "dropped by a negative offset")
        elif offset > 0:
            while pending and pending[0].update_id < offset:
                record = pending.popleft()
                self.dropped_updates += not record.delivered
                self._consume(
                    record, None if record.delivered else "skipped by getUpdates offset"
                )

    def _drop_pending(self) -> None:
        while self._pending:
            self.dropped_updates += 1
            self._consume(self._pending.popleft(), "dropped by drop_pending_updates")

    def _set_allowed_updates(self, allowed: Any) -> None:
        allowed = _as_json(allowed)
        if not isinstance(allowed, list):
            raise ApiError(400, "Bad Request: can't parse allowed_updates")
        self._allowed_updates = frozenset(map(str, allowed)) if allowed else None

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
        kind = next((k for k in payload if k != "update_id"), "")
        chat_id = _update_chat_id(kind, payload.get(kind))
        if chat_id is None or chat_id not in self._chats:
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
        if chat is not None:
            chat.actions.append(action)
            if action.method not in _NON_REACTIONS:
                chat.reaction_count += 1
                chat.last_reaction_at = action.timestamp
            chat.notify()
        self._notify_action()

    def _record_send(self, action: BotAction, chat: ChatState) -> None:
        self.sent_count += 1
        self.send_timestamps.append(action.timestamp)
        self._record(action, chat)

    def _record_error(self, method: str, params: dict[str, Any], error: ApiError) -> None:
        chat_id = _maybe_int(params.get("chat_id"))
        if chat_id is None and method == "answerCallbackQuery":
            chat_id = self._callback_queries.get(str(params.get("callback_query_id")))
        markup = params.get("reply_markup")
        text = params.get("text", params.get("caption"))
        action = BotAction(
            method=method,
            chat_id=chat_id,
            message_id=_maybe_int(params.get("message_id")),
            text=text if isinstance(text, str) else None,
            reply_markup=markup if isinstance(markup, dict) else None,
            parse_mode=params.get("parse_mode") or None,
            callback_query_id=params.get("callback_query_id"),
            params=params,
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

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {k: _coerce(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.body_exists:
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise ApiError(400, "Bad Request: can't parse JSON object") from exc
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: can't parse JSON object")
                params.update(body)
            elif content_type.startswith("multipart/"):
                reader = await request.multipart()
                async for part in reader:
                    if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                        continue
                    if part.filename is not None:
                        files[part.name] = UploadedFile(
                            data=await part.read(decode=True),
                            filename=part.filename,
                            content_type=part.headers.get(
                                aiohttp.hdrs.CONTENT_TYPE, "application/octet-stream"
                            ),
                        )
                    else:
                        params[part.name] = _coerce(part.name, await part.text())
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, str):
                        params[key] = _coerce(key, value)
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attached = files.get(value[len("attach://") :])
                if attached is None:
                    raise ApiError(400, f"Bad Request: file {value} not found in the request")
                params[key] = attached
        for key, uploaded in files.items():
            params.setdefault(key, uploaded)
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

    def _resolve_chat(self, params: dict[str, Any], key: str = "chat_id") -> ChatState:
        raw = params.get(key)
        if raw is None or raw == "":
            raise ApiError(400, f"Bad Request: {key} is empty")
        chat_id: int | None
        if isinstance(raw, str) and raw.startswith("@"):
            chat_id = self._usernames.get(raw[1:].lower())
        else:
            chat_id = _maybe_int(raw)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            if self.auto_create_chats and chat_id is not None and chat_id > 0:
                return self._ensure_chat(chat_id, "private", first_name=f"User {chat_id}")
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _check_writable(self, chat: ChatState, method: str) -> None:
        if chat.id in self.blocked:
            if chat.type == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
        if method in SEND_METHODS:
            self._check_rate()

    def _text(
        self,
        text: Any,
        parse_mode: str | None,
        entities: Any,
        *,
        limit: int,
        too_long: str,
    ) -> tuple[str, list[dict[str, Any]]]:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        explicit = _as_json(entities) if entities is not None else None
        rendered, parsed = parse_text(text, parse_mode, explicit)
        if len(rendered) > limit:
            raise ApiError(400, too_long)
        return rendered, parsed

    def _message_text(
        self, params: dict[str, Any]
    ) -> tuple[str, str | None, str, list[dict[str, Any]]]:
        text = params.get("text")
        if text is None or text == "":
            raise ApiError(400, "Bad Request: message text is empty")
        text = str(text)
        parse_mode = params.get("parse_mode") or None
        rendered, entities = self._text(
            text,
            parse_mode,
            params.get("entities"),
            limit=MAX_TEXT_LENGTH,
            too_long="Bad Request: message is too long",
        )
        if not rendered:
            raise ApiError(400, "Bad Request: message text is empty")
        return text, parse_mode, rendered, entities

    def _caption(
        self, params: dict[str, Any]
    ) -> tuple[str | None, str | None, str | None, list[dict[str, Any]]]:
        caption = params.get("caption")
        parse_mode = params.get("parse_mode") or None
        if caption is None or caption == "":
            return None, parse_mode, None, []
        caption = str(caption)
        rendered, entities = self._text(
            caption,
            parse_mode,
            params.get("caption_entities"),
            limit=MAX_CAPTION_LENGTH,
            too_long="Bad Request: message caption is too long",
        )
        return caption, parse_mode, rendered, entities

    def _validate_markup(self, markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
        if markup is None or markup == "":
            return None
        markup = _as_json(markup)
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "field \"inline_keyboard\" must be an Array of Arrays",
                )
            if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
                raise ApiError(400, "Bad Request: BUTTONS_TOO_MUCH")
            for row in rows:
                for button in row:
                    self._validate_inline_button(button)
            return markup
        if inline_only:
            raise ApiError(400, "Bad Request: inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError(
                    400, "Bad Request: field \"keyboard\" must be an Array of Arrays"
                )
            for row in rows:
                for button in row:
                    label = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(label, str) or not label.strip():
                        raise ApiError(
                            400, "Bad Request: can't parse keyboard button: Text must be non-empty"
                        )
            return markup
        if "remove_keyboard" in markup or "force_reply" in markup:
            return markup
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")

    @staticmethod
    def _validate_inline_button(button: Any) -> None:
        prefix = "Bad Request: can't parse inline keyboard button: "
        if not isinstance(button, dict):
            raise ApiError(400, prefix + "InlineKeyboardButton must be an Object")
        text = button.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, prefix + "Text must be non-empty")
        if not any(kind in button for kind in _INLINE_BUTTON_KINDS):
            raise ApiError(400, prefix + "Text buttons are unallowed in the inline keyboard")
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= (
                MAX_CALLBACK_DATA_BYTES
            ):
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            scheme = _URL_SCHEME_RE.match(url) if isinstance(url, str) else None
            if (
                not isinstance(url, str)
                or not url.strip()
                or any(ch.isspace() for ch in url)
                or (scheme is not None and scheme.group(1).lower() not in ("http", "https", "tg"))
            ):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")

    def _reply_to(self, chat: ChatState, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = _as_json(params.get("reply_parameters"))
        if isinstance(reply, dict):
            message_id, allow = reply.get("message_id"), reply.get("allow_sending_without_reply")
        else:
            message_id = params.get("reply_to_message_id")
            allow = params.get("allow_sending_without_reply")
        if message_id is None:
            return None
        target = chat.messages.get(_as_int(message_id, "message_id"))
        if target is None:
            if _truthy(allow):
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return _snapshot(target)

    def _new_bot_message(
        self,
        chat: ChatState,
        content: dict[str, Any],
        markup: dict[str, Any] | None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.new_message_id(chat),
            "from": self.bot_user,
            "chat": chat.json_obj,
            "date": int(time.time()),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if markup is not None:
            if "inline_keyboard" in markup:
                message["reply_markup"] = markup  # Telegram echoes only inline keyboards
            elif "keyboard" in markup:
                chat.reply_keyboard = markup
            elif markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        chat.messages[message["message_id"]] = message
        chat.bot_message_ids[message["message_id"]] = None
        return message

    def _editable(self, params: dict[str, Any], method: str) -> tuple[ChatState, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params)
        self._check_writable(chat, method)
        if params.get("message_id") is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message = chat.messages.get(_as_int(params["message_id"], "message_id"))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"].get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, message

    @staticmethod
    def _replace(chat: ChatState, message: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """Copy-on-write edit, so snapshots handed out earlier (callback queries) stay intact."""
        new = dict(message)
        for key, value in changes.items():
            if value is None or value == []:
                new.pop(key, None)
            else:
                new[key] = value
        new["edit_date"] = int(time.time())
        chat.messages[new["message_id"]] = new
        return new

    # --------------------------------------------------------------------- Bot API methods

    async def _ok(self, params: dict[str, Any]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

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
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "Bad Request: invalid timeout specified") from exc
        if params.get("allowed_updates") is not None:
            self._set_allowed_updates(params["allowed_updates"])
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
        url = str(params.get("url") or "")
        if url and not url.startswith(("http://", "https://")):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None and secret != "":
            secret = str(secret)
            if not _SECRET_TOKEN_RE.fullmatch(secret):
                raise ApiError(
                    400, "Bad Request: bad webhook: secret token contains unallowed characters"
                )
        max_connections = min(max(_as_int(params.get("max_connections") or 40, "max"), 1), 100)
        if params.get("allowed_updates") is not None:
            self._set_allowed_updates(params["allowed_updates"])
        if _truthy(params.get("drop_pending_updates")):
            self._drop_pending()
        if not url:
            self._webhook = None
        else:
            self._webhook = _Webhook(
                url=url,
                secret_token=secret or None,
                max_connections=max_connections,
                ip_address=params.get("ip_address") or None,
                has_custom_certificate=isinstance(params.get("certificate"), UploadedFile),
            )
            self._start_webhook_dispatcher()
        self._notify_updates()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        if _truthy(params.get("drop_pending_updates")):
            self._drop_pending()
        self._webhook = None
        self._notify_updates()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        hook = self._webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": bool(hook and hook.has_custom_certificate),
            "pending_update_count": self.pending_update_count,
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        self._check_writable(chat, "sendMessage")
        text, parse_mode, rendered, entities = self._message_text(params)
        markup = self._validate_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        content: dict[str, Any] = {"text": rendered}
        if entities:
            content["entities"] = entities
        message = self._new_bot_message(chat, content, markup, reply_to)
        self._record_send(
            BotAction(
                method="sendMessage",
                chat_id=chat.id,
                message_id=message["message_id"],
                text=text,
                rendered_text=rendered,
                reply_markup=markup,
                parse_mode=parse_mode,
                params=params,
            ),
            chat,
        )
        return message

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._editable(params, "editMessageText")
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, parse_mode, rendered, entities = self._message_text(params)
        markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
        if (
            rendered == message["text"]
            and entities == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise ApiError(400, _NOT_MODIFIED)
        new = self._replace(chat, message, text=rendered, entities=entities, reply_markup=markup)
        self._record(
            BotAction(
                method="editMessageText",
                chat_id=chat.id,
                message_id=new["message_id"],
                text=text,
                rendered_text=rendered,
                reply_markup=markup,
                parse_mode=parse_mode,
                params=params,
            ),
            chat,
        )
        return new

    async def _edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._editable(params, "editMessageCaption")
        if not any(key in message for key in ("document", "photo", "voice", "audio", "video")):
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, parse_mode, rendered, entities = self._caption(params)
        markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
        if (
            rendered == message.get("caption")
            and entities == message.get("caption_entities", [])
            and markup == message.get("reply_markup")
        ):
            raise ApiError(400, _NOT_MODIFIED)
        new = self._replace(
            chat, message, caption=rendered, caption_entities=entities, reply_markup=markup
        )
        self._record(
            BotAction(
                method="editMessageCaption",
                chat_id=chat.id,
                message_id=new["message_id"],
                text=caption,
                rendered_text=rendered,
                reply_markup=markup,
                parse_mode=parse_mode,
                params=params,
            ),
            chat,
        )
        return new

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._editable(params, "editMessageReplyMarkup")
        markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
        if markup == message.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        new = self._replace(chat, message, reply_markup=markup)
        self._record(
            BotAction(
                method="editMessageReplyMarkup",
                chat_id=chat.id,
                message_id=new["message_id"],
                reply_markup=markup,
                params=params,
            ),
            chat,
        )
        return new

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params)
        if params.get("message_id") is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        message_id = _as_int(params["message_id"], "message_id")
        if message_id not in chat.messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        del chat.messages[message_id]
        chat.bot_message_ids.pop(message_id, None)
        self._record(
            BotAction(
                method="deleteMessage", chat_id=chat.id, message_id=message_id, params=params
            ),
            chat,
        )
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
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        chat_id = self._callback_queries.pop(query_id)  # a second answer is "too old"
        chat = self._chats.get(chat_id) if chat_id is not None else None
        self._record(
            BotAction(
                method="answerCallbackQuery",
                chat_id=chat_id,
                callback_query_id=query_id,
                callback_text=str(text) if text is not None else None,
                show_alert=_truthy(params.get("show_alert")),
                params=params,
            ),
            chat,
        )
        return True

    def _input_file(self, value: Any, kind: str) -> StoredFile:
        if isinstance(value, UploadedFile):
            if not value.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if kind == "photo" and _image_size(value.data) is None:
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            mime = "image/jpeg" if kind == "photo" else value.content_type
            return self.store_file(value.data, value.filename, mime, kind)
        if isinstance(value, str) and value:
            stored = self.files.get(value)
            if stored is not None:
                if stored.kind != kind:
                    raise ApiError(
                        400,
                        f"Bad Request: can't use file of type {stored.kind.capitalize()} as "
                        f"{kind.capitalize()}",
                    )
                return stored
            if value.startswith(("http://", "https://")):
                name = value.rstrip("/").rsplit("/", 1)[-1] or None
                return self.store_file(b"", name, None, kind)
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(400, f"Bad Request: there is no {kind} in the request")

    @staticmethod
    def file_object(stored: StoredFile) -> Any:
        """The Telegram JSON of a stored file (a list of PhotoSize for photos)."""
        if stored.kind == "photo":
            width, height = _image_size(stored.data) or (0, 0)
            return [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width or 800,
                    "height": height or 600,
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

    async def _send_media(self, method: str, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        self._check_writable(chat, method)
        stored = self._input_file(params.get(kind), kind)
        caption, parse_mode, rendered, entities = self._caption(params)
        markup = self._validate_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        content: dict[str, Any] = {kind: self.file_object(stored)}
        if rendered:
            content["caption"] = rendered
            if entities:
                content["caption_entities"] = entities
        message = self._new_bot_message(chat, content, markup, reply_to)
        self._record_send(
            BotAction(
                method=method,
                chat_id=chat.id,
                message_id=message["message_id"],
                text=caption,
                rendered_text=rendered,
                reply_markup=markup,
                parse_mode=parse_mode,
                document=stored.data if kind == "document" else None,
                document_name=stored.file_name if kind == "document" else None,
                photo=stored.data if kind == "photo" else None,
                file_id=stored.file_id,
                params=params,
            ),
            chat,
        )
        return message

    async def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media("sendDocument", "document", params)

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._send_media("sendPhoto", "photo", params)

    async def _copy_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        source_chat = self._resolve_chat(params, "from_chat_id")
        self._check_writable(chat, "copyMessage")
        if params.get("message_id") is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        source = source_chat.messages.get(_as_int(params["message_id"], "message_id"))
        if source is None:
            raise ApiError(400, "Bad Request: message to copy not found")
        content = {
            key: source[key]
            for key in ("text", "entities", "document", "photo", "caption", "caption_entities",
                        "sticker", "voice")
            if key in source
        }
        caption, parse_mode, rendered, entities = self._caption(params)
        if rendered is not None:
            content["caption"] = rendered
            content.pop("caption_entities", None)
            if entities:
                content["caption_entities"] = entities
        markup = self._validate_markup(params.get("reply_markup"))
        message = self._new_bot_message(chat, content, markup, self._reply_to(chat, params))
        self._record_send(
            BotAction(
                method="copyMessage",
                chat_id=chat.id,
                message_id=message["message_id"],
                text=caption if caption is not None else content.get("text"),
                rendered_text=content.get("text", content.get("caption")),
                reply_markup=markup,
                parse_mode=parse_mode,
                params=params,
            ),
            chat,
        )
        return {"message_id": message["message_id"]}

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._resolve_chat(params)
        self._check_writable(chat, "sendChatAction")
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self._record(
            BotAction(method="sendChatAction", chat_id=chat.id, chat_action=action, params=params),
            chat,
        )
        return True

    async def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(str(params.get("file_id") or ""))
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
        scope = _as_json(scope) or {"type": "default"}
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
        if params.get("chat_id") is None:
            self._default_menu_button = button if button["type"] != "default" else {
                "type": "commands"
            }
        else:
            self._resolve_chat(params).menu_button = button
        return True

    async def _get_chat_menu_button(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("chat_id") is not None:
            button = self._resolve_chat(params).menu_button
            if button is not None and button.get("type") != "default":
                return button
        return self._default_menu_button

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any]:
        """The menu button set for a chat (or the default one)."""
        if chat_id is not None:
            button = self.chat(chat_id).menu_button
            if button is not None and button.get("type") != "default":
                return button
        return self._default_menu_button

    def _bot_text_setter(self, field_name: str) -> BotMethod:
        async def setter(params: dict[str, Any]) -> bool:
            key = (field_name, str(params.get("language_code") or ""))
            value = params.get(field_name)
            if value:
                self._bot_texts[key] = str(value)
            else:
                self._bot_texts.pop(key, None)
            return True

        return setter

    def _bot_text_getter(self, field_name: str) -> BotMethod:
        async def getter(params: dict[str, Any]) -> dict[str, str]:
            key = (field_name, str(params.get("language_code") or ""))
            return {field_name: self._bot_texts.get(key, "")}

        return getter

    # ------------------------------------------------------------------------- webhooks

    def _start_webhook_dispatcher(self) -> None:
        if self._session is None:
            return  # not running yet: start() calls this again
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(
                self._webhook_loop(), name="FakeBotApi:webhook"
            )

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
    async def _chat_lock(self, key: int | None) -> AsyncIterator[None]:
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
                    timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
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
