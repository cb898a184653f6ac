"""Typed callback data: one small frozen dataclass per kind of button.

    @dataclass(frozen=True)
    class Answer(CallbackData):
        prefix = "A"
        question: str
        value: str

    Answer("sector", "academia").pack()   # "A:sector:academia"
    Answer.unpack("A:sector:academia")    # Answer(question="sector", value="academia")

Packed as `prefix:field:…` and checked against Telegram's 64-byte limit when packing, so a
button that could not be sent fails where it is made. Unpacking checks the prefix, the
number of fields and each field's type (str, bounded int, a StrEnum, or one of them | None)
and raises `StaleButton` for anything else: any button may be old, and any data may be
forged. Each kind registers its own handler with `pattern()`; prefixes are unique.
"""

from __future__ import annotations

import re
import types
from dataclasses import fields
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar, Self, Union, get_args, get_origin, get_type_hints

from bot.core.errors import StaleButton

LIMIT = 64
"""Telegram's limit on callback_data, in bytes."""
SEPARATOR = ":"
NONE = ""
"""How a field that is None is packed."""
INT_DIGITS = re.compile(r"^-?\d{1,18}$")
"""Integers that fit a signed 64-bit id; longer digit strings are refused, not converted."""

_prefixes: dict[str, type[CallbackData]] = {}


class CallbackData:
    """Base of typed button data; subclasses are frozen dataclasses with a `prefix`."""

    prefix: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        prefix = cls.__dict__.get("prefix")
        if not isinstance(prefix, str) or not prefix or SEPARATOR in prefix:
            raise TypeError(f"{cls.__name__} needs a non-empty prefix without {SEPARATOR!r}")
        other = _prefixes.setdefault(prefix, cls)
        if other.__qualname__ != cls.__qualname__:
            raise TypeError(f"{cls.__name__} reuses the prefix {prefix!r} of {other.__name__}")

    def pack(self) -> str:
        values = [_encode(getattr(self, field.name)) for field in fields(self)]  # type: ignore[arg-type]
        for value in values:
            if SEPARATOR in value:
                raise ValueError(f"{type(self).__name__}: {value!r} contains {SEPARATOR!r}")
        packed = SEPARATOR.join([self.prefix, *values])
        if len(packed.encode()) > LIMIT:
            raise ValueError(f"{type(self).__name__}: {packed!r} is over {LIMIT} bytes")
        return packed

    @classmethod
    def unpack(cls, data: str | None) -> Self:
        prefix, *values = (data or "").split(SEPARATOR)
        names = _field_types(cls)
        if prefix != cls.prefix or len(values) != len(names):
            raise StaleButton
        try:
            return cls(**{n: _decode(v, t) for (n, t), v in zip(names, values, strict=True)})
        except ValueError:
            raise StaleButton from None

    @classmethod
    def pattern(cls) -> str:
        """A regular expression matching this kind's data (and no other kind's)."""
        return rf"^{re.escape(cls.prefix)}({SEPARATOR}|$)"


@cache
def _field_types(cls: type[CallbackData]) -> tuple[tuple[str, Any], ...]:
    hints = get_type_hints(cls)
    return tuple((field.name, hints[field.name]) for field in fields(cls))  # type: ignore[arg-type]


def _encode(value: object) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _decode(raw: str, kind: Any) -> object:
    if get_origin(kind) in (Union, types.UnionType):
        if raw == NONE:
            return None
        (kind,) = (arg for arg in get_args(kind) if arg is not type(None))
    if kind is bool:
        if raw not in ("0", "1"):
            raise ValueError(raw)
        return raw == "1"
    if kind is int:
        if not INT_DIGITS.match(raw):
            raise ValueError(raw)
        return int(raw)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return kind(raw)
    if kind is str:
        return raw
    raise TypeError(f"callback data fields cannot be {kind!r}")
