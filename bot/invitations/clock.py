"""The feature's one wall clock. Tests replace `now` to move time (e.g. towards a reminder)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
