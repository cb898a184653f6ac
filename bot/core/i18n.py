"""Translations from the Babel-managed gettext catalogs in `locales/`.

Translate, then interpolate: `_()` receives a literal message id, and the values are filled
in afterwards, each wrapped in Unicode isolates so that Latin names, numbers and commands do
not reorder an Arabic sentence. The active locale lives in a ContextVar set once per update.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "hiwar"
LANGUAGES: tuple[str, ...] = ("ar", "en")
DEFAULT_LANGUAGE = "en"
RTL_LANGUAGES = frozenset({"ar"})

FSI, PDI, RLM = "\u2068", "\u2069", "\u200f"

_COMMAND = re.compile(r"(?<![\w/])/[a-z_]+")

_locale: ContextVar[str] = ContextVar("hiwar_locale", default=DEFAULT_LANGUAGE)


@cache
def catalog(language: str) -> Translations:
    """All `locales/<language>/LC_MESSAGES/*.po` compiled in memory and merged.

    Each feature keeps its own catalog (hiwar.po for the survey, reports.po, …) so that they
    can be edited independently; no build step is needed.
    """
    merged: Translations | None = None
    for po_path in sorted((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as po_file:
            parsed = read_po(po_file, locale=language, domain=po_path.stem)
        buffer = io.BytesIO()
        write_mo(buffer, parsed, use_fuzzy=False)
        buffer.seek(0)
        compiled = Translations(fp=buffer, domain=po_path.stem)
        # The first catalog's plural rule (the same in every catalog of a language) is kept.
        merged = compiled if merged is None else merged.merge(compiled)
    if merged is None:
        raise FileNotFoundError(f"no catalogs for {language!r} in {LOCALES_DIR}")
    return merged


def pick_language(stored: str | None, telegram_code: str | None) -> str:
    """The user's stored choice wins; otherwise Telegram's client language; otherwise English."""
    if stored in LANGUAGES:
        return stored
    code = (telegram_code or "").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    return _locale.get()


def is_rtl(language: str | None = None) -> bool:
    return (language or current_language()) in RTL_LANGUAGES


@contextmanager
def use_language(language: str) -> Iterator[None]:
    token = _locale.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _locale.reset(token)


def set_language(language: str) -> None:
    """Set the locale for the rest of the current task (one update's handling)."""
    _locale.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def isolate(value: object) -> str:
    """Wrap an inserted value in first-strong isolates so it keeps its own direction."""
    return f"{FSI}{value}{PDI}"


def number(value: float) -> str:
    return _formatted(value, current_language())


@lru_cache(maxsize=4096)
def _formatted(value: float, language: str) -> str:
    """Babel's formatting costs a tenth of a millisecond; cards repeat the same numbers."""
    return format_decimal(value, locale=language)


def percent(share: float) -> str:
    return format_percent(share, locale=current_language())


def _fill(template: str, values: dict[str, object]) -> str:
    if is_rtl():
        template = _COMMAND.sub(lambda m: isolate(m.group()), template)
    if not values:
        return template
    return template.format(
        **{
            k: isolate(number(v) if isinstance(v, int | float) and not isinstance(v, bool) else v)
            for k, v in values.items()
        }
    )


def _(message: str, **values: object) -> str:
    """Translate `message` into the current language, then fill in `values`."""
    return _fill(catalog(current_language()).ugettext(message), values)


def _n(singular: str, plural: str, count: int, **values: object) -> str:
    """Plural-aware translation; `{count}` is available in the message."""
    template = catalog(current_language()).ungettext(singular, plural, count)
    return _fill(template, {"count": count, **values})


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated later with `_()`."""
    return message


class Message:
    """A message found now and read later, in the reader's language: a literal catalog id
    (extracted like `_()`) and its values, which may be messages themselves.

    `str()` is the English text, without isolates, for the command line and logs;
    `translated()` is the text in the current language. A problem in a survey file is one,
    so that the CLI prints it and an admin in the chat reads it in their language.
    """

    __slots__ = ("id", "values")

    def __init__(self, msgid: str, /, **values: object) -> None:
        self.id = msgid
        self.values = values

    def translated(self) -> str:
        return _(self.id, **{key: _translated(value) for key, value in self.values.items()})

    def __str__(self) -> str:
        return self.id.format(**{key: str(value) for key, value in self.values.items()})

    def __repr__(self) -> str:
        return f"Message({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.id, self.values) == (other.id, other.values)

    def __hash__(self) -> int:
        return hash(self.id)


def _translated(value: object) -> object:
    return value.translated() if isinstance(value, Message) else value


def translated(text: str | Message) -> str:
    """A message in the current language; plain text (a value from a file) as it is."""
    return _translated(text)  # type: ignore[return-value]
