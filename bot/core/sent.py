"""A message as Telegram numbered and dated it, for the features that need to know which."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message as Telegram numbered and dated it (a typed answer, a part of a paste)."""

    message_id: int
    sent_at: datetime
