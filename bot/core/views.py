"""Screens as plain values: HTML text and rows of buttons, with no Telegram objects.

Features render into these; the Telegram layer (handlers/base/present.py) turns them into
messages, mirroring button rows for right-to-left readers and splitting long texts safely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.callbacks import CallbackData

CHOSEN = "✅ "
SHORT_LABEL = 18
"""Buttons whose labels are all this short are laid out two to a row."""


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: CallbackData


Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class View:
    """One screen: text (HTML, or plain where `html` is False) and buttons under it.

    Text longer than one message is sent as several, the buttons under the last.
    """

    text: str
    rows: Rows = ()
    html: bool = True

    @classmethod
    def of(cls, text: str, rows: Sequence[Sequence[Button]] = (), *, html: bool = True) -> View:
        return cls(text, tuple(tuple(row) for row in rows if row), html)


@dataclass(frozen=True, slots=True)
class File:
    """A document or a photo to send, with an optional caption (HTML) and buttons."""

    content: bytes
    filename: str
    photo: bool = False
    caption: str | None = None
    rows: Rows = ()


def pair_up(buttons: Sequence[Button]) -> list[list[Button]]:
    """Two to a row when every label is short, else one to a row."""
    if all(len(button.label) <= SHORT_LABEL for button in buttons):
        return [list(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    return [[button] for button in buttons]
