"""The shared core without Telegram: typed button data, and safe splitting of HTML text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import pytest

from bot.core.callbacks import CallbackData
from bot.core.errors import StaleButton
from bot.core.i18n import Message, use_language
from bot.core.text import one_line, split_message, visible_length


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Sample(CallbackData):
    prefix = "zz"
    name: str
    number: int
    colour: Colour
    flag: bool
    maybe: int | None


def test_button_data_packs_and_parses_back():
    data = Sample("amal", 42, Colour.RED, True, None)
    assert data.pack() == "zz:amal:42:red:1:"
    assert Sample.unpack(data.pack()) == data
    assert re.match(Sample.pattern(), "zz:x") and not re.match(Sample.pattern(), "zzz:x")


@pytest.mark.parametrize(
    "forged",
    [
        None,
        "",
        "zz:amal:42:red:1",  # a field missing
        "zz:amal:42:red:1::extra",
        "yy:amal:42:red:1:",  # another kind's prefix
        "zz:amal:99999999999999999999999:red:1:",  # an OverflowError once
        "zz:amal:4x:red:1:",
        "zz:amal:42:blue:1:",
        "zz:amal:42:red:yes:",
    ],
)
def test_old_or_forged_button_data_is_a_stale_button(forged):
    with pytest.raises(StaleButton):
        Sample.unpack(forged)


def test_button_data_is_checked_when_it_is_made():
    with pytest.raises(ValueError, match="64 bytes"):
        Sample("ا" * 40, 1, Colour.RED, False, None).pack()  # Arabic letters are 2 bytes
    with pytest.raises(ValueError, match="':'"):
        Sample("a:b", 1, Colour.RED, False, None).pack()
    with pytest.raises(TypeError, match="reuses the prefix"):

        @dataclass(frozen=True)
        class Again(CallbackData):
            prefix = "zz"


def test_long_html_is_split_where_telegram_counts_and_never_inside_a_tag_or_entity():
    line = "<b>" + "&amp; word " * 1000 + "</b>"
    parts = split_message([line])
    assert len(parts) == 2 and all(visible_length(p) <= 4096 for p in parts)
    for part in parts:
        assert part.count("<b>") == part.count("</b>")  # closed before, reopened after
        assert not re.search(r"&[a-z]*$", part)
    assert visible_length("<i>a &amp; b</i>") == 5


def test_free_text_is_shown_as_one_line_without_direction_controls():
    planted = "fine\n• a fake bullet\r\n\u202eDESREVER\u2066x\u2069 \u200f"
    assert one_line(planted) == "fine • a fake bullet DESREVERx"


def test_a_message_is_english_on_the_command_line_and_translated_in_the_chat():
    """A problem found in a survey file is kept as a message with its values, nested ones
    too, and read later in the reader's language."""
    problem = Message(
        "{problem} (line {line})", problem=Message("should be at least {ge}", ge=1), line=7
    )
    assert str(problem) == "should be at least 1 (line 7)"
    with use_language("ar"):
        shown = problem.translated().translate(dict.fromkeys(map(ord, "\u2068\u2069")))
    assert shown == "يجب ألا يقل عن 1 (السطر 7)"
