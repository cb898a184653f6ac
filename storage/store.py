"""The application's store on either backend: respondents, progress, the update inbox, and
which process ("instance") is alive. All SQL here is shared by SQLite and PostgreSQL.

Several instances on one PostgreSQL database (see README, "Several instances"):

- Each instance inserts a row in `instances` and holds an advisory lock on its number for as
  long as it lives; `live_instances` lists the numbers whose lock is held (on SQLite it is a
  temporary table holding this process only). Work claimed by an instance that is not live
  any more (a crash) is taken over by the others: inbox rows, invitation messages, reminders.
- The inbox's update_id primary key makes a re-delivered update a no-op on every instance.
- An update is applied only when it is its user's turn: no other update of that user is in
  progress, and none with a smaller update_id is waiting. Taking the turn is one
  transaction under a per-user transaction lock, so two instances never both take it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
from collections.abc import Collection, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

from bot.inbox import Turn
from bot.survey.state import AnswerValue, Progress, Respondent, Status
from storage.database import Connection, Database, Dialect, Params, Row, connect
from storage.migrations import apply_migrations
from storage.url import DatabaseUrl

log = logging.getLogger(__name__)

INSTANCE_LOCKS = 0x68697761
"""Advisory lock namespace (PostgreSQL) of live instances; migrations/postgres/0005 too."""
USER_LOCKS = INSTANCE_LOCKS + 1
"""Transaction locks serialising the turns of one user's updates."""


def _ts(at: datetime) -> str:
    return at.isoformat()


def _dt(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def new_respondent_code() -> str:
    """A pseudonymous id for exports: random, never derived from the Telegram id."""
    return "R-" + secrets.token_hex(5).upper()


def lock_key(value: int) -> int:
    """A 32-bit advisory lock key for any Telegram id (collisions only serialise more)."""
    return value % 2**31


class Store:
    """Implements bot.survey.ports.SurveyStore and bot.inbox.InboxStore on a `Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._instance: int | None = None
        self._registering = asyncio.Lock()
        self._waiters: dict[int, set[asyncio.Event]] = {}

    @classmethod
    async def on(cls, db: Database) -> Self:
        """The store on an open database, its migrations applied."""
        try:
            await apply_migrations(db)
        except BaseException:
            await db.close()
            raise
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    # -- the database, for the other stores of storage/ ----------------------------------

    @property
    def dialect(self) -> Dialect:
        return self._db.dialect

    @property
    def shared(self) -> bool:
        """True when other processes may use the database at the same time (PostgreSQL)."""
        return self._db.shared

    @property
    def database(self) -> Database:
        return self._db

    @property
    def instance_lost(self) -> asyncio.Event:
        """Set if this process stopped counting as a live instance (PostgreSQL connection
        lost): it must stop, since the others are taking over its work."""
        return self._db.lost

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """The caller's atomic block if there is one (joined without a savepoint), else a
        new transaction."""
        return self._db.atomic(savepoint=False)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._db.fetchall(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return await self._db.fetchone(sql, params)

    @staticmethod
    async def claim_update(db: Connection, update_id: int | None, at: datetime) -> bool:
        if update_id is None:
            return True
        inserted = await db.execute(
            "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?)"
            " ON CONFLICT (update_id) DO NOTHING",
            (update_id, _ts(at)),
        )
        return inserted == 1

    # -- this process among the instances ------------------------------------------------

    async def instance(self) -> int:
        """This process's instance number, registered (and kept alive) on first use."""
        if self._instance is None:
            async with self._registering:
                if self._instance is None:
                    async with self.transaction() as db:
                        row = await db.fetchone(
                            "INSERT INTO instances (started_at, host, pid) VALUES (?, ?, ?)"
                            " RETURNING instance",
                            (_ts(datetime.now(UTC)), socket.gethostname(), os.getpid()),
                        )
                    assert row is not None
                    await self._db.hold_instance(row[0])
                    await self._db.watch(self._wake)
                    self._instance = row[0]
                    log.info("instance_registered", extra={"instance": row[0]})
        return self._instance

    # -- respondents -------------------------------------------------------------------

    async def get_respondent(self, user_id: int) -> Respondent | None:
        row = await self.fetchone(
            "SELECT user_id, language, consented_at FROM users WHERE user_id = ?", (user_id,)
        )
        return Respondent(row[0], row[1], _dt(row[2])) if row else None

    async def save_language(self, user_id: int, language: str, at: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO users (user_id, language, created_at, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,"
                " updated_at = excluded.updated_at",
                (user_id, language, _ts(at), _ts(at)),
            )

    async def save_consent(self, user_id: int, at: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO users (user_id, consented_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET"
                " consented_at = excluded.consented_at, updated_at = excluded.updated_at",
                (user_id, _ts(at), _ts(at), _ts(at)),
            )

    async def delete_respondent(self, user_id: int) -> bool:
        async with self.transaction() as db:
            return await db.execute("DELETE FROM users WHERE user_id = ?", (user_id,)) > 0

    # -- progress ----------------------------------------------------------------------

    async def was_processed(self, update_id: int) -> bool:
        row = await self.fetchone(
            "SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)
        )
        return row is not None

    async def get_progress(self, user_id: int, survey_id: str) -> Progress | None:
        row = await self.fetchone(
            "SELECT response_id, survey_version, respondent_code, status, current_question,"
            " draft, started_at, completed_at FROM responses WHERE user_id = ? AND survey_id = ?",
            (user_id, survey_id),
        )
        if row is None:
            return None
        answers = await self.fetchall(
            "SELECT question_id, value FROM answers WHERE response_id = ?", (row[0],)
        )
        return Progress(
            response_id=row[0],
            user_id=user_id,
            survey_id=survey_id,
            survey_version=row[1],
            respondent_code=row[2],
            status=Status(row[3]),
            current=row[4],
            draft=None if row[5] is None else tuple(json.loads(row[5])),
            answers={q: None if v is None else json.loads(v) for q, v in answers},
            started_at=_dt(row[6]),
            completed_at=_dt(row[7]),
        )

    async def start_progress(
        self,
        user_id: int,
        survey_id: str,
        survey_version: int,
        first_question: str,
        at: datetime,
    ) -> Progress:
        async with self.transaction() as db:
            await db.execute(
                "DELETE FROM responses WHERE user_id = ? AND survey_id = ?", (user_id, survey_id)
            )
            await db.execute(
                "INSERT INTO responses (user_id, survey_id, survey_version, respondent_code,"
                " status, current_question, started_at, updated_at)"
                " VALUES (?, ?, ?, ?, 'in_progress', ?, ?, ?)",
                (
                    user_id,
                    survey_id,
                    survey_version,
                    new_respondent_code(),
                    first_question,
                    _ts(at),
                    _ts(at),
                ),
            )
        progress = await self.get_progress(user_id, survey_id)
        assert progress is not None
        return progress

    async def save_answer(
        self,
        response_id: int,
        question_id: str,
        value: AnswerValue,
        next_question: str | None,
        at: datetime,
        update_id: int | None,
    ) -> bool:
        async with self.transaction() as db:
            if not await self.claim_update(db, update_id, at):
                return False
            await db.execute(
                "INSERT INTO answers (response_id, question_id, value, answered_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (response_id, question_id) DO UPDATE SET"
                " value = excluded.value, answered_at = excluded.answered_at",
                (
                    response_id,
                    question_id,
                    None if value is None else json.dumps(value, ensure_ascii=False),
                    _ts(at),
                ),
            )
            await db.execute(
                "UPDATE responses SET current_question = ?, draft = NULL, status = 'in_progress',"
                " updated_at = ? WHERE response_id = ?",
                (next_question, _ts(at), response_id),
            )
            return True

    async def save_draft(
        self, response_id: int, draft: tuple[str, ...], at: datetime, update_id: int | None
    ) -> bool:
        async with self.transaction() as db:
            if not await self.claim_update(db, update_id, at):
                return False
            await db.execute(
                "UPDATE responses SET draft = ?, updated_at = ? WHERE response_id = ?",
                (json.dumps(list(draft)), _ts(at), response_id),
            )
            return True

    async def move_to(self, response_id: int, question_id: str, at: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE responses SET current_question = ?, draft = NULL, status = 'in_progress',"
                " updated_at = ? WHERE response_id = ?",
                (question_id, _ts(at), response_id),
            )

    async def set_status(self, response_id: int, status: Status, at: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE responses SET status = ?, updated_at = ? WHERE response_id = ?",
                (status.value, _ts(at), response_id),
            )

    async def complete(self, response_id: int, keep: Collection[str], at: datetime) -> None:
        async with self.transaction() as db:
            kept = list(keep)
            # `IN ()` is SQLite only: with nothing to keep, say so without a list.
            others = f" AND question_id NOT IN ({','.join('?' * len(kept))})" if kept else ""
            await db.execute(
                f"DELETE FROM answers WHERE response_id = ?{others}", (response_id, *kept)
            )
            await db.execute(
                "UPDATE responses SET status = 'completed', current_question = NULL,"
                " draft = NULL, completed_at = ?, updated_at = ? WHERE response_id = ?",
                (_ts(at), _ts(at), response_id),
            )

    # -- inbox of updates --------------------------------------------------------------

    async def inbox_add(
        self, update_id: int, user_key: int | None, payload: str, at: datetime
    ) -> bool:
        """Record an arriving update as this instance's; False when it was seen before (a
        re-delivery, to this instance or another one)."""
        owner = await self.instance()
        async with self.transaction() as db:
            inserted = await db.execute(
                "INSERT INTO inbox (update_id, user_key, owner, payload, received_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (update_id) DO NOTHING",
                (update_id, user_key, owner, payload, _ts(at)),
            )
            return inserted == 1

    async def inbox_turn(self, update_id: int, user_key: int | None, at: datetime) -> Turn:
        """Start this instance's update if it is its user's turn (see the module docstring)."""
        owner = await self.instance()
        async with self.transaction() as db:
            if user_key is not None:
                await db.lock(USER_LOCKS, lock_key(user_key))
            started = await db.execute(
                "UPDATE inbox SET started_at = ?"
                " WHERE update_id = ? AND owner = ? AND done_at IS NULL AND NOT EXISTS ("
                " SELECT 1 FROM inbox o WHERE o.user_key = ? AND o.done_at IS NULL"
                " AND o.update_id <> ? AND (o.update_id < ? OR o.started_at IS NOT NULL))",
                (_ts(at), update_id, owner, user_key, update_id, update_id),
            )
            if started:
                return Turn.GO
            row = await db.fetchone(
                "SELECT owner, done_at FROM inbox WHERE update_id = ?", (update_id,)
            )
        if row is None or row[1] is not None or row[0] != owner:
            return Turn.GONE  # handled already, or taken over by another instance
        return Turn.WAIT

    @contextmanager
    def inbox_watch(self, user_key: int) -> Iterator[asyncio.Event]:
        """An event set when an update of this user is done, here or in another instance."""
        event = asyncio.Event()
        self._waiters.setdefault(user_key, set()).add(event)
        try:
            yield event
        finally:
            waiting = self._waiters[user_key]
            waiting.discard(event)
            if not waiting:
                del self._waiters[user_key]

    def _wake(self, user_key: int) -> None:
        for event in self._waiters.get(user_key, ()):
            event.set()

    async def inbox_done(self, update_id: int, user_key: int | None, at: datetime) -> None:
        async with self.transaction() as db:
            await db.execute(
                "UPDATE inbox SET done_at = ? WHERE update_id = ?", (_ts(at), update_id)
            )
        if user_key is not None:
            self._wake(user_key)

    async def inbox_adopt(self) -> list[str]:
        """Take over the updates received but not finished by instances no longer alive
        (after a crash: a previous run of this one); their payloads, oldest first."""
        owner = await self.instance()
        async with self.transaction() as db:
            rows = await db.fetchall(
                "UPDATE inbox SET owner = ?, started_at = NULL"
                " WHERE done_at IS NULL AND (owner IS NULL"
                " OR owner NOT IN (SELECT instance FROM live_instances))"
                " RETURNING update_id, payload",
                (owner,),
            )
        return [payload for _update_id, payload in sorted(rows)]

    async def inbox_prune(self, before: datetime) -> int:
        async with self.transaction() as db:
            return await db.execute(
                "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (_ts(before),)
            )


async def open_store(url: str | Path | DatabaseUrl) -> Store:
    """The store for a database URL (`sqlite:///file`, `postgresql://…`, or a file path),
    its migrations applied. Raises storage.database.StorageError, storage.url.BadDatabaseUrl."""
    return await Store.on(await connect(url))

