"""Splitting HTML text into Telegram messages without breaking a tag or an entity."""

from __future__ import annotations

import re
from collections.abc import Sequence

MESSAGE_LIMIT = 4096
_TOKEN = re.compile(r"<(/?)([a-z-]+)[^>]*>|&#?\w+;|\s+|[^<&\s]{1,64}|[<&]", re.IGNORECASE)


_VISIBLE = re.compile(r"(?:^|>)[^<]*[^<\s]")


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
            if len(candidate) > limit and current:
                messages.append(current)
                current = piece
            else:
                current = candidate
    if current.strip():
        messages.append(current)
    return messages


def _pieces(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    pieces: list[str] = []
    opened: list[tuple[str, str]] = []  # (name, opening tag) of the tags open so far
    current = ""
    last_space = -1  # where in `current` the piece may end, with the tags open there
    open_at_space: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(line):
        token = match.group()
        closing = "".join(f"</{name}>" for name, _tag in reversed(opened))
        if len(current) + len(token) + len(closing) > limit and current:
            cut = last_space if last_space > 0 else len(current)
            keep = open_at_space if last_space > 0 else opened
            rest = current[cut:]
            head = current[:cut] + "".join(f"</{n}>" for n, _t in reversed(keep))
            if _VISIBLE.search(head):
                pieces.append(head)
            current = "".join(tag for _n, tag in keep) + rest.lstrip()
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
    if current:
        pieces.append(current)
    return pieces
