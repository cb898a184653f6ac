"""The fault policy of a running bot (README, "Nothing lost, nothing twice").

- Transient database errors (locked, busy) are retried with backoff, and logged.
- Persistent ones (disk full, read-only, I/O error, corruption, connection gone) make the
  process log one clear line and stop promptly with exit code 3, so that a supervisor
  starts it again; an update is acknowledged to Telegram only once it is stored, so the
  ones that could not be stored are delivered again after the restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from storage.database import Failure

log = logging.getLogger(__name__)

EXIT_CODE = 3
"""`hiwar run`'s exit status when the database became unusable."""
RETRIES = 5
BACKOFF = 0.5
"""Seconds before the first retry; doubled each time (0.5 + 1 + 2 + 4 = 7.5 s in all, on
top of SQLite's own 30 s wait for a lock)."""

Result = TypeVar("Result")


class Faults:
    def __init__(self, classify: Callable[[BaseException], Failure | None]) -> None:
        self._classify = classify
        self.fatal = asyncio.Event()
        """Set when the database became unusable: the process must stop."""
        self.reason = ""

    async def retrying(self, what: str, call: Callable[[], Awaitable[Result]]) -> Result:
        """`call()`, retried while the database is only busy; a persistent failure stops
        the process (and is raised, so that nothing depending on it goes on)."""
        for attempt in range(1, RETRIES + 1):
            try:
                return await call()
            except Exception as error:
                failure = self._classify(error)
                if failure is Failure.TRANSIENT and attempt < RETRIES:
                    log.warning("database_busy", extra={"what": what, "attempt": attempt})
                    await asyncio.sleep(BACKOFF * 2 ** (attempt - 1))
                    continue
                if failure is not None:
                    self.fail(error)
                raise
        raise AssertionError("unreachable")

    def observe(self, error: BaseException | None) -> None:
        """An error seen elsewhere (handling an update): stop if the database is unusable."""
        if error is not None and self._classify(error) is Failure.PERSISTENT:
            self.fail(error)

    def fail(self, error: BaseException) -> None:
        if self.fatal.is_set():
            return
        self.reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        log.critical("database_unusable", extra={"reason": self.reason, "exit_code": EXIT_CODE})
        self.fatal.set()
