"""The root of every error a user can cause, the errors shared by features, and the shape of
the table that maps each error to its translated explanation (handlers/base/errors.py uses
one table made of every feature's own)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class HiwarError(Exception):
    """Base of the errors a user can cause; never a bug."""


class NotAnAdmin(HiwarError):
    """An administrators' command from someone who is not an administrator."""


class NotACoordinator(HiwarError):
    """A coordinators' command from someone who is neither a coordinator nor an admin."""


class StaleButton(HiwarError):
    """A button whose screen is no longer current, or whose data is not ours (forged)."""


class DuplicateUpdate(HiwarError):
    """Telegram re-delivered an update that was already applied (e.g. after a crash)."""


@dataclass(frozen=True, slots=True)
class Explanation:
    """How an error is explained: `text(error)` in the current language (None: say nothing),
    whether the screen the person acted on is brought up to date afterwards, and whether a
    tap gets an alert to dismiss (else a short, quiet notice)."""

    text: Callable[[Any], str | None]
    refresh: bool = False
    alert: bool = True


ErrorTable = Mapping[type[HiwarError], Explanation]
