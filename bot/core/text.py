"""Splitting HTML text into Telegram messages without breaking a tag or an entity.

Telegram's limit counts characters after parsing: a tag counts for nothing and `&amp;` for
one character, so lengths here are measured that way (`visible_length`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MESSAGE_LIMIT = 4096
_DIRECTION_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"\s+")
_TOKEN = re.compile(r"<(/?)([a-z-]+)[^>]*>|&#?\w+;|\s+|[^<&\s]{1,64}|[<&]", re.IGNORECASE)


_VISIBLE = re.compile(r"(?:^|>)[^<]*[^<\s]")


def _size(match: re.Match[str]) -> int:
    token = match.group()
    if match.group(2):
        return 0  # a tag
    return 1 if token.startswith("&") and token.endswith(";") else len(token)


def visible_length(text: str) -> int:
    """The length of HTML text as Telegram counts it for its limit."""
    return sum(_size(match) for match in _TOKEN.finditer(text))


def split_message(lines: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join lines into as few messages as fit under `limit`, breaking between lines.

    A single line longer than the limit is broken at a space where possible, never inside a
    tag or an entity; tags open at the break are closed before it and reopened after it.
    """
    messages: list[str] = []
    current = ""
    for line in lines:
        for piece in _pieces(line, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if visible_length(candidate) > limit and current:
                messages.append(current)
                current = piece
            else:
                current = candidate
    if current.strip():
        messages.append(current)
    return messages


def _pieces(line: str, limit: int) -> list[str]:
    if visible_length(line) <= limit:
        return [line]
    pieces: list[str] = []
    opened: list[tuple[str, str]] = []  # (name, opening tag) of the tags open so far
    current, size = "", 0  # the piece so far, and its visible length
    last_space = -1  # where in `current` the piece may end, with the tags open there
    open_at_space: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(line):
        token = match.group()
        if size + _size(match) > limit and current:
            cut = last_space if last_space > 0 else len(current)
            keep = open_at_space if last_space > 0 else opened
            rest = current[cut:]
            head = current[:cut] + "".join(f"</{n}>" for n, _t in reversed(keep))
            if _VISIBLE.search(head):
                pieces.append(head)
            current = "".join(tag for _n, tag in keep) + rest.lstrip()
            size = visible_length(current)
            last_space, open_at_space = -1, []
        if match.group(2):
            name = match.group(2).lower()
            if match.group(1):
                if opened and opened[-1][0] == name:
                    opened.pop()
            else:
                opened.append((name, token))
        elif token.isspace():
            last_space, open_at_space = len(current), list(opened)
        current += token
        size += _size(match)
    if current:
        pieces.append(current)
    return pieces


def one_line(text: str) -> str:
    """Someone's free text as one line, without direction controls: it cannot make fake
    bullets or lines, nor read backwards (U+202E) or reorder what is around it. Insert it
    isolated (bot.core.i18n.isolate) and escaped."""
    return _BREAKS.sub(" ", _DIRECTION_CONTROLS.sub("", text)).strip()
