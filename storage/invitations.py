"""All SQL of the invitations feature (bot/invitations/ports.py describes each method).

One SQL text for both backends (storage/database.py). Messages being sent carry the number
of the instance sending them (`claimed_by`); what a crashed instance left `sending` is
taken over by the live ones (`requeue_interrupted` at start-up, and every few seconds while
claiming, so that the instances still running carry on without a restart). One live
instance at a time reports a broadcast's progress (it holds the broadcast's advisory lock),
so the admin sees one progress message however many instances send.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.invitations.audience import Selection
from bot.invitations.model import (
    Audience,
    BroadcastStatus,
    Delivery,
    DeliveryFigures,
    Dimension,
    Event,
    Invitation,
    InvitationSummary,
    OptOut,
    Rsvp,
    SendState,
)
from bot.invitations.ports import Settlement
from bot.invitations.wizard import Draft, Step
from bot.survey.model import Text
from storage.database import PROGRESS_LOCKS, Connection, Database, Dialect
from storage.instances import Instances

_INVITATION_COLUMNS = (
    "invitation_id, created_by, admin_language, title_ar, title_en, description_ar,"
    " description_en, starts_at, time_zone, duration_minutes, place, audience,"
    " remind_before_minutes, status, progress_message_id, created_at"
)
OUTBOX_TABLES = ("invitation_deliveries", "invitation_reminders", "survey_reminders")
"""Every table of messages the delivery engine sends, one row per message."""
RECLAIM_EVERY = 2.0
"""Seconds between looks, while claiming, for messages left `sending` by a dead instance."""


class _Recipient(Protocol):
    @property
    def user_id(self) -> int: ...


Sent = TypeVar("Sent", bound=_Recipient)
"""An outbox row that was sent (an invitation's delivery or reminder, a survey reminder)."""


def settled_rows(
    settled: Sequence[tuple[Sent, Settlement]],
    at: datetime,
    key: Callable[[Sent], tuple[object, ...]],
) -> list[tuple[object, ...]]:
    """The parameters of an UPDATE that settles outbox rows: the outcome of each send
    attempt (state, attempts, retry time, message id, error, when), then the row's `key`."""
    return [
        (
            settlement.state.value,
            settlement.attempts,
            _ts(settlement.retry_at) if settlement.retry_at else None,
            settlement.message_id,
            settlement.error,
            _ts(at),
            *key(row),
        )
        for row, settlement in settled
    ]


async def opt_out_blocked(
    db: Connection, settled: Sequence[tuple[Sent, Settlement]], at: datetime
) -> None:
    """Whoever blocked the bot gets nothing more: they are opted out of every message."""
    for row, settlement in settled:
        if settlement.state == SendState.BLOCKED:
            await Invitations.opt_out_in(db, row.user_id, OptOut.BLOCKED, at)


def _ts(at: datetime) -> str:
    """UTC with microseconds always present, so that timestamps compare correctly as text."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _in_zone(raw: str, zone: str) -> datetime:
    return datetime.fromisoformat(raw).astimezone(ZoneInfo(zone))


def _audience_json(audience: Audience) -> str:
    return json.dumps({d.value: sorted(v) for d, v in audience.filters.items()})


def _audience(raw: str) -> Audience:
    filters = json.loads(raw)
    return Audience({d: frozenset(filters[d.value]) for d in Dimension if d.value in filters})


def _invitation(row: Sequence[Any]) -> Invitation:
    zone = row[8]
    return Invitation(
        id=row[0],
        created_by=row[1],
        admin_language=row[2],
        event=Event(
            title=Text(ar=row[3], en=row[4]),
            description=Text(ar=row[5], en=row[6]),
            starts_at=_in_zone(row[7], zone),
            duration=timedelta(minutes=row[9]),
            place=row[10],
        ),
        audience=_audience(row[11]),
        remind_before=timedelta(minutes=row[12]),
        status=BroadcastStatus(row[13]),
        progress_message_id=row[14],
        created_at=datetime.fromisoformat(row[15]),
    )


def _draft_json(draft: Draft) -> str:
    return json.dumps(
        {
            "title_ar": draft.title_ar,
            "title_en": draft.title_en,
            "description_ar": draft.description_ar,
            "description_en": draft.description_en,
            "time_zone": draft.time_zone,
            "start": _ts(draft.start) if draft.start else None,
            "duration_minutes": draft.duration_minutes,
            "place": draft.place,
            "audience": _audience_json(draft.audience),
            "editing": draft.editing.value if draft.editing else None,
        },
        ensure_ascii=False,
    )


def _draft(step: str, raw: str) -> Draft:
    data = json.loads(raw)
    start, editing = data.pop("start"), data.pop("editing")
    return Draft(
        step=Step(step),
        start=_in_zone(start, data["time_zone"]) if start else None,
        audience=_audience(data.pop("audience")),
        editing=Dimension(editing) if editing else None,
        **data,
    )


def _recipients(
    selection: Selection, dialect: Dialect, default_language: str
) -> tuple[str, list[object]]:
    """A query of the people a selection means, as rows (user_id, lang)."""
    sql = (
        "SELECT u.user_id, COALESCE(u.language, ?) AS lang FROM users u"
        " JOIN responses r ON r.user_id = u.user_id AND r.survey_id = ?"
        " WHERE NOT EXISTS (SELECT 1 FROM invitation_optouts o WHERE o.user_id = u.user_id)"
    )
    params: list[object] = [default_language, selection.survey_id]
    for condition in selection.conditions:
        marks = ",".join("?" * len(condition.option_ids))
        sql += (
            " AND EXISTS (SELECT 1 FROM answers a WHERE a.response_id = r.response_id"
            f" AND a.question_id = ? AND {dialect.json_text('a.value')} IN ({marks}))"
        )
        params += [condition.question_id, *condition.option_ids]
    if selection.languages is not None:
        sql += f" AND COALESCE(u.language, ?) IN ({','.join('?' * len(selection.languages))})"
        params += [default_language, *selection.languages]
    return sql, params


def _delivery(row: Sequence[Any]) -> Delivery:
    return Delivery(invitation_id=row[0], user_id=row[1], language=row[2], attempts=row[3])


class Invitations:
    """Implements bot.invitations.ports.InvitationStore (either backend)."""

    def __init__(self, database: Database, instances: Instances, default_language: str) -> None:
        """`default_language`: the language of people who never chose one."""
        self._db = database
        self._instances = instances
        self._default_language = default_language
        self._next_reclaim = 0.0

    # -- drafts ------------------------------------------------------------------------

    async def get_draft(self, admin_id: int) -> Draft | None:
        row = await self._db.fetchone(
            "SELECT step, data FROM invitation_drafts WHERE admin_id = ?", (admin_id,)
        )
        return _draft(row[0], row[1]) if row else None

    async def save_draft(self, admin_id: int, draft: Draft, at: datetime) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "INSERT INTO invitation_drafts (admin_id, step, data, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (admin_id) DO UPDATE SET step = excluded.step,"
                " data = excluded.data, updated_at = excluded.updated_at",
                (admin_id, draft.step.value, _draft_json(draft), _ts(at)),
            )

    async def delete_draft(self, admin_id: int) -> bool:
        async with self._db.atomic(savepoint=False) as db:
            return (
                await db.execute("DELETE FROM invitation_drafts WHERE admin_id = ?", (admin_id,))
                > 0
            )

    # -- recipients and launching ------------------------------------------------------

    async def count_recipients(self, selection: Selection) -> Mapping[str, int]:
        recipients, params = _recipients(selection, self._db.dialect, self._default_language)
        rows = await self._db.fetchall(
            f"SELECT lang, COUNT(*) FROM ({recipients}) AS recipients GROUP BY lang", params
        )
        return {language: count for language, count in rows}

    async def launch(
        self,
        admin_id: int,
        admin_language: str,
        event: Event,
        audience: Audience,
        selection: Selection,
        remind_before: timedelta,
        at: datetime,
    ) -> tuple[int, int] | None:
        recipients, params = _recipients(selection, self._db.dialect, self._default_language)
        async with self._db.atomic(savepoint=False) as db:
            consumed = await db.execute(
                "DELETE FROM invitation_drafts WHERE admin_id = ? AND step = ?",
                (admin_id, Step.PREVIEW.value),
            )
            if consumed == 0:
                return None
            created = await db.fetchone(
                f"INSERT INTO invitations ({_INVITATION_COLUMNS.partition(', ')[2]})"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sending', NULL, ?)"
                " RETURNING invitation_id",
                (
                    admin_id,
                    admin_language,
                    event.title.ar,
                    event.title.en,
                    event.description.ar,
                    event.description.en,
                    _ts(event.starts_at),
                    event.time_zone,
                    int(event.duration.total_seconds() // 60),
                    event.place,
                    _audience_json(audience),
                    int(remind_before.total_seconds() // 60),
                    _ts(at),
                ),
            )
            assert created is not None
            invitation_id = created[0]
            listed = await db.execute(
                "INSERT INTO invitation_deliveries (invitation_id, user_id, language, state,"
                " next_attempt_at, updated_at)"
                f" SELECT CAST(? AS BIGINT), user_id, lang, 'pending', ?, ?"
                f" FROM ({recipients}) AS recipients",
                (invitation_id, _ts(at), _ts(at), *params),
            )
            return invitation_id, listed

    # -- recipients' answers and opting out --------------------------------------------

    async def invitation_sent_to(self, invitation_id: int, user_id: int) -> Invitation | None:
        columns = ", ".join(f"i.{c.strip()}" for c in _INVITATION_COLUMNS.split(","))
        row = await self._db.fetchone(
            f"SELECT {columns} FROM invitations i JOIN invitation_deliveries d"
            " ON d.invitation_id = i.invitation_id"
            " WHERE i.invitation_id = ? AND d.user_id = ? AND d.state IN ('sent', 'sending')",
            (invitation_id, user_id),
        )
        return _invitation(row) if row else None

    async def save_rsvp(
        self,
        invitation_id: int,
        user_id: int,
        answer: Rsvp,
        remind_at: datetime | None,
        at: datetime,
    ) -> bool:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "INSERT INTO invitation_rsvps (invitation_id, user_id, answer, answered_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (invitation_id, user_id) DO UPDATE SET"
                " answer = excluded.answer, answered_at = excluded.answered_at",
                (invitation_id, user_id, answer.value, _ts(at)),
            )
            if remind_at is None:
                await db.execute(
                    "UPDATE invitation_reminders SET state = 'cancelled', updated_at = ?"
                    " WHERE invitation_id = ? AND user_id = ? AND state = 'pending'",
                    (_ts(at), invitation_id, user_id),
                )
                return False
            # A reminder already sent (or failed) is never scheduled again, nor one for
            # someone who unsubscribed.
            scheduled = await db.execute(
                "INSERT INTO invitation_reminders (invitation_id, user_id, due_at, state,"
                " updated_at) SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), ?, 'pending', ?"
                " WHERE NOT EXISTS"
                " (SELECT 1 FROM invitation_optouts WHERE user_id = ?)"
                " ON CONFLICT (invitation_id, user_id) DO UPDATE SET state = 'pending',"
                " due_at = excluded.due_at, attempts = 0, updated_at = excluded.updated_at"
                " WHERE invitation_reminders.state IN ('pending', 'cancelled')",
                (invitation_id, user_id, _ts(remind_at), _ts(at), user_id),
            )
        return scheduled == 1

    async def opt_out(self, user_id: int, reason: OptOut, at: datetime) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await self.opt_out_in(db, user_id, reason, at)

    @staticmethod
    async def opt_out_in(db: Connection, user_id: int, reason: OptOut, at: datetime) -> None:
        """In the caller's transaction: opt the person out and cancel what is queued for them
        (invitations, their reminders, and reminders to finish the survey)."""
        await db.execute(
            "INSERT INTO invitation_optouts (user_id, reason, at)"
            " SELECT user_id, ?, ? FROM users WHERE user_id = ? ON CONFLICT (user_id) DO NOTHING",
            (reason.value, _ts(at), user_id),
        )
        for table in OUTBOX_TABLES:
            await db.execute(
                f"UPDATE {table} SET state = 'cancelled', updated_at = ?"
                " WHERE user_id = ? AND state = 'pending'",
                (_ts(at), user_id),
            )

    async def opt_in(self, user_id: int) -> bool:
        async with self._db.atomic(savepoint=False) as db:
            return (
                await db.execute("DELETE FROM invitation_optouts WHERE user_id = ?", (user_id,))
                > 0
            )

    async def summaries(self, limit: int) -> list[InvitationSummary]:
        rows = await self._db.fetchall(
            f"SELECT {_INVITATION_COLUMNS} FROM invitations ORDER BY invitation_id DESC LIMIT ?",
            (limit,),
        )
        summaries = []
        for row in rows:
            invitation = _invitation(row)
            answers = await self._db.fetchall(
                "SELECT answer, COUNT(*) FROM invitation_rsvps WHERE invitation_id = ?"
                " GROUP BY answer",
                (invitation.id,),
            )
            summaries.append(
                InvitationSummary(
                    invitation,
                    await self.figures(invitation.id),
                    {Rsvp(answer): count for answer, count in answers},
                )
            )
        return summaries

    # -- the delivery engine -----------------------------------------------------------

    async def requeue_interrupted(self) -> int:
        await self._instances.current()  # registered, so this process counts as live
        async with self._db.atomic(savepoint=False) as db:
            return await self._requeue_orphans(db)

    @staticmethod
    async def _requeue_orphans(db: Connection) -> int:
        requeued = 0
        for table in OUTBOX_TABLES:
            requeued += await db.execute(
                f"UPDATE {table} SET state = 'pending', claimed_by = NULL"
                " WHERE state = 'sending' AND (claimed_by IS NULL"
                " OR claimed_by NOT IN (SELECT instance FROM live_instances))"
            )
        return requeued

    async def _reclaim_now_and_then(self, db: Connection) -> None:
        """While claiming: what an instance that died meanwhile left `sending` goes back to
        `pending`, so the instances still running send it (nobody restarts to requeue it)."""
        if time.monotonic() >= self._next_reclaim:
            self._next_reclaim = time.monotonic() + RECLAIM_EVERY
            await self._requeue_orphans(db)

    async def claim_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        instance = await self._instances.current()
        lock = self._db.dialect.lock_rows("invitation_deliveries")
        async with self._db.atomic(savepoint=False) as db:
            await self._reclaim_now_and_then(db)
            rows = await db.fetchall(
                "UPDATE invitation_deliveries SET state = 'sending', claimed_by = ?,"
                " updated_at = ? WHERE (invitation_id, user_id) IN (SELECT invitation_id,"
                " user_id FROM invitation_deliveries WHERE state = 'pending'"
                " AND next_attempt_at <= ? ORDER BY next_attempt_at, invitation_id, user_id"
                f" LIMIT ?{lock})"
                " RETURNING invitation_id, user_id, language, attempts, next_attempt_at",
                (instance, _ts(now), _ts(now), limit),
            )
        # RETURNING follows no order (PostgreSQL): the due order is restored here.
        return [_delivery(row) for row in sorted(rows, key=lambda r: (r[4], r[0], r[1]))]

    async def release_deliveries(self, rows: Sequence[Delivery]) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.executemany(
                "UPDATE invitation_deliveries SET state = 'pending', claimed_by = NULL"
                " WHERE invitation_id = ? AND user_id = ? AND state = 'sending'",
                [(row.invitation_id, row.user_id) for row in rows],
            )

    async def settle_deliveries(
        self, settled: Sequence[tuple[Delivery, Settlement]], at: datetime
    ) -> None:
        await self._settle("invitation_deliveries", "next_attempt_at", settled, at)

    async def settle_reminders(
        self, settled: Sequence[tuple[Delivery, Settlement]], at: datetime
    ) -> None:
        await self._settle("invitation_reminders", "due_at", settled, at)

    async def _settle(
        self,
        table: str,
        retry_column: str,
        settled: Sequence[tuple[Delivery, Settlement]],
        at: datetime,
    ) -> None:
        """Outcomes of send attempts; a person who blocked the bot is opted out with them."""
        async with self._db.atomic(savepoint=False) as db:
            await db.executemany(
                f"UPDATE {table} SET state = ?, attempts = ?,"
                f" {retry_column} = COALESCE(?, {retry_column}), message_id = ?, error = ?,"
                " updated_at = ? WHERE invitation_id = ? AND user_id = ? AND state = 'sending'",
                settled_rows(settled, at, lambda row: (row.invitation_id, row.user_id)),
            )
            await opt_out_blocked(db, settled, at)

    async def claim_reminder(self, now: datetime) -> Delivery | None:
        instance = await self._instances.current()
        lock = self._db.dialect.lock_rows("m")
        async with self._db.atomic(savepoint=False) as db:
            await self._reclaim_now_and_then(db)
            row = await db.fetchone(
                "UPDATE invitation_reminders SET state = 'sending', claimed_by = ?,"
                " updated_at = ? WHERE (invitation_id, user_id) IN (SELECT m.invitation_id,"
                " m.user_id FROM invitation_reminders m JOIN invitations i"
                " ON i.invitation_id = m.invitation_id"
                " WHERE m.state = 'pending' AND m.due_at <= ? AND i.starts_at > ?"
                f" ORDER BY m.due_at LIMIT 1{lock}) RETURNING invitation_id, user_id,"
                " (SELECT COALESCE(language, ?) FROM users u WHERE u.user_id ="
                " invitation_reminders.user_id), attempts",
                (instance, _ts(now), _ts(now), _ts(now), self._default_language),
            )
        return _delivery(row) if row else None

    async def expire_reminders(self, now: datetime) -> int:
        async with self._db.atomic(savepoint=False) as db:
            return await db.execute(
                "UPDATE invitation_reminders SET state = 'expired', updated_at = ?"
                " WHERE state = 'pending' AND invitation_id IN"
                " (SELECT invitation_id FROM invitations WHERE starts_at <= ?)",
                (_ts(now), _ts(now)),
            )

    async def get_invitation(self, invitation_id: int) -> Invitation | None:
        row = await self._db.fetchone(
            f"SELECT {_INVITATION_COLUMNS} FROM invitations WHERE invitation_id = ?",
            (invitation_id,),
        )
        return _invitation(row) if row else None

    async def active_broadcasts(self) -> list[Invitation]:
        """The unfinished broadcasts whose progress this instance reports: all of them,
        except those another live instance reports (it holds their lock)."""
        rows = await self._db.fetchall(
            f"SELECT {_INVITATION_COLUMNS} FROM invitations WHERE status = 'sending'"
            " ORDER BY invitation_id"
        )
        return [_invitation(row) for row in rows if await self._db.try_hold(PROGRESS_LOCKS, row[0])]

    async def figures(self, invitation_id: int) -> DeliveryFigures:
        rows = await self._db.fetchall(
            "SELECT state, COUNT(*) FROM invitation_deliveries WHERE invitation_id = ?"
            " GROUP BY state",
            (invitation_id,),
        )
        return DeliveryFigures(**{state: count for state, count in rows})

    async def set_progress_message(self, invitation_id: int, message_id: int) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "UPDATE invitations SET progress_message_id = ? WHERE invitation_id = ?",
                (message_id, invitation_id),
            )

    async def finish_broadcast(self, invitation_id: int, at: datetime) -> None:
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "UPDATE invitations SET status = 'done', finished_at = ?"
                " WHERE invitation_id = ? AND status = 'sending'",
                (_ts(at), invitation_id),
            )
