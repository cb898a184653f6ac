"""What a scoped coordinator may read of the free-text answers.

A coordinator limited by `/grant country=jordan` sees summaries of their scope's group only
(bot/reports/snapshots.py publishes those groups on the shared release history, so views of
different scopes cannot be combined to isolate fewer than k). Free-text answers are text,
not totals: listing only a scope's answers tells which answers come from inside it and,
against an unscoped coordinator's full list or another scope's, which come from outside.
So the answers of one released batch (bot/reports/snapshots.py: at least k at a time) are
shown to scoped coordinators only when, split by every scope ever given (revoked ones too,
since their holders saw what they saw), each part of the batch has none or at least k
answers. Any difference of two scoped lists is then a union of such parts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from bot.reports.model import ReleasedComment, Scope


def scoped_comments(
    released: Sequence[ReleasedComment],
    scope: Scope,
    granted: Sequence[Scope],
    threshold: int,
) -> list[str]:
    """The answers `scope` may read: those of its group, from the batches every scope in
    `granted` splits into parts of none or at least `threshold` answers."""
    batches: dict[int, list[ReleasedComment]] = defaultdict(list)
    for comment in released:
        batches[comment.snapshot].append(comment)
    scopes = (*granted, scope)
    shown = []
    for batch in batches.values():
        parts = Counter(tuple(s.covers(c.cell) for s in scopes) for c in batch)
        if all(n >= threshold for n in parts.values()):
            shown += [c.text for c in batch if scope.covers(c.cell)]
    return shown
