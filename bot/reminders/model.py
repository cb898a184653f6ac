"""A reminder as the delivery engine claims it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reminder:
    """One claimed reminder: to whom, in which language, and where they stopped."""

    response_id: int
    number: int
    user_id: int
    language: str
    answered: int
    total: int
    attempts: int
    """Attempts that got an answer other than "retry after" so far."""
