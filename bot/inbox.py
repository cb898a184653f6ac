"""A durable update queue: every update is stored before Telegram learns it arrived.

PTB's updater confirms updates to Telegram with the next getUpdates offset (or the webhook's
200) right after putting them in `Application.update_queue`. Making that queue's `put` write
the update to the database first means a crash after the confirmation loses nothing: pending
updates are replayed at the next start, before new ones. Updates are marked done after
handling (see PerUserOrderedProcessor), and a re-delivered update is not queued twice.

When several instances share the database (PostgreSQL), an update is stored as the receiving
instance's, and applied when it is its user's turn across all instances (`take_turn`); the
updates of an instance that died are taken over by the others within `ADOPT_EVERY`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from telegram import Bot, MaybeInaccessibleMessage, Message, MessageEntity, Update, User

from bot.faults import Faults
from bot.ordering import ordering_key
from storage.inbox import Turn

log = logging.getLogger(__name__)

KEEP_DONE = timedelta(days=1)
"""Telegram keeps an unconfirmed update for 24 hours, so remembering done ids longer is moot."""
PRUNE_EVERY = timedelta(hours=1)
ADOPT_EVERY = 1.0
"""Seconds between looks for updates left by an instance that died (shared databases)."""
RECHECK_TURN = 0.5
"""Seconds a waiting update re-checks its turn even without being woken (a safety net)."""


def stored_form(update: Update) -> dict[str, Any]:
    """What the inbox keeps of an update until it is handled: what the handlers read, and
    nothing else. Names and usernames are never written (a replayed update has an empty
    first name); a tap keeps its card's ids but not the card's text; other entities than
    commands (mentions carry names) and forwarded or quoted messages are left out. Built
    from the parsed update's fields (its `to_dict()` costs a millisecond per update)."""
    kept: dict[str, Any] = {"update_id": update.update_id}
    if update.message is not None:
        kept["message"] = _message(update.message, with_text=True)
    if update.edited_message is not None:
        kept["edited_message"] = _message(update.edited_message, with_text=True)
    query = update.callback_query
    if query is not None:
        stored: dict[str, Any] = {
            "id": query.id,
            "from": _person(query.from_user),
            "chat_instance": query.chat_instance,
        }
        if query.data is not None:
            stored["data"] = query.data
        if query.message is not None:
            stored["message"] = _message(query.message, with_text=False)
        kept["callback_query"] = stored
    return kept


def _person(user: User) -> dict[str, Any]:
    kept: dict[str, Any] = {"id": user.id, "is_bot": user.is_bot, "first_name": ""}
    if user.language_code is not None:
        kept["language_code"] = user.language_code
    return kept


def _message(message: MaybeInaccessibleMessage, with_text: bool) -> dict[str, Any]:
    kept: dict[str, Any] = {
        "message_id": message.message_id,
        "date": int(message.date.timestamp()),
        "chat": {"id": message.chat.id, "type": message.chat.type},
    }
    if not isinstance(message, Message):
        return kept  # inaccessible: only its ids
    if message.from_user is not None:
        kept["from"] = _person(message.from_user)
    if message.edit_date is not None:
        kept["edit_date"] = int(message.edit_date.timestamp())
    if with_text and message.text is not None:
        kept["text"] = message.text
        commands = [e.to_dict() for e in message.entities if e.type == MessageEntity.BOT_COMMAND]
        if commands:
            kept["entities"] = commands
    return kept


_NAMES = frozenset({"first_name", "last_name", "username", "title"})


def _nameless(value: Any) -> Any:
    """A raw update with every name, username and chat title left out, at any depth."""
    if isinstance(value, dict):
        return {k: _nameless(v) for k, v in value.items() if k not in _NAMES}
    if isinstance(value, list):
        return [_nameless(item) for item in value]
    return value


def _sender(raw: dict[str, Any]) -> int | None:
    """The Telegram id of whoever sent a raw update, if it can be found (for /delete)."""
    for body in raw.values():
        if isinstance(body, dict):
            for holder in (body.get("from"), body.get("user"), body.get("chat")):
                if isinstance(holder, dict) and isinstance(holder.get("id"), int):
                    return holder["id"]
    return None


class InboxStore(Protocol):
    async def inbox_add(
        self, update_id: int, user_key: int | None, payload: str, at: datetime
    ) -> bool: ...
    async def inbox_turn(self, update_id: int, user_key: int | None, at: datetime) -> Turn: ...
    def inbox_watch(self, user_key: int) -> AbstractContextManager[asyncio.Event]: ...
    async def inbox_done(self, update_id: int, user_key: int | None, at: datetime) -> None: ...
    async def inbox_adopt(self) -> list[str]: ...
    async def inbox_prune(self, before: datetime) -> int: ...
    async def quarantine(
        self, update_id: int, user_key: int | None, payload: str, error: str, at: datetime
    ) -> bool: ...


class DurableUpdateQueue(asyncio.Queue[object]):
    def __init__(
        self,
        store: InboxStore,
        faults: Faults,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__()
        self._store = store
        self._faults = faults
        self._clock = clock
        self._adopting: asyncio.Task[None] | None = None

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            payload = json.dumps(stored_form(item), ensure_ascii=False)
            key = ordering_key(item)
            # Raises when it cannot be stored: PTB then does not confirm it to Telegram.
            added = await self._faults.retrying(
                "store_update",
                lambda: self._store.inbox_add(item.update_id, key, payload, self._clock()),
            )
            if not added:
                log.info("update_redelivered", extra={"update_id": item.update_id})
                return
        await super().put(item)

    async def quarantine(self, update_id: int, raw: str, error: str) -> None:
        """An update PTB cannot parse (bot/http.py): kept as it came, less names and
        usernames (which are never written), once; logged without content."""
        update = json.loads(raw)
        payload = json.dumps(_nameless(update), ensure_ascii=False)
        sender = _sender(update)
        stored = await self._faults.retrying(
            "keep_unparsable",
            lambda: self._store.quarantine(update_id, sender, payload, error, self._clock()),
        )
        if stored:
            log.warning("update_unparsable", extra={"update_id": update_id, "error": error})

    async def prune(self) -> int:
        """Forget the ids of updates Telegram can no longer deliver again (run hourly, so
        that the database grows with what people gave, not with the traffic)."""
        return await self._store.inbox_prune(self._clock() - KEEP_DONE)

    async def replay_pending(self, bot: Bot) -> int:
        """Queue the updates a previous run stored but did not finish; returns how many."""
        await self.prune()
        replayed = await self._adopt(bot)
        if replayed:
            log.info("updates_replayed", extra={"count": replayed})
        return replayed

    async def _adopt(self, bot: Bot) -> int:
        pending = await self._store.inbox_adopt()
        for payload in pending:
            await super().put(Update.de_json(json.loads(payload), bot))
        return len(pending)

    def start_adopting(self, bot: Bot, every: float = ADOPT_EVERY) -> None:
        """Shared database: keep taking over the updates of instances that died."""

        async def adopt_forever() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    if adopted := await self._adopt(bot):
                        log.warning("updates_adopted", extra={"count": adopted})
                except Exception:
                    log.exception("update_adoption_failed")

        self._adopting = asyncio.create_task(adopt_forever(), name="inbox-adoption")

    async def stop_adopting(self) -> None:
        if self._adopting is not None:
            self._adopting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._adopting
            self._adopting = None

    async def take_turn(self, update: object) -> bool:
        """Wait until it is this update's turn among its user's (across instances); False
        when another instance applied it or took it over."""
        if not isinstance(update, Update):
            return True
        key = ordering_key(update)
        while True:
            if key is None:
                turn = await self._store.inbox_turn(update.update_id, key, self._clock())
                return turn is Turn.GO
            with self._store.inbox_watch(key) as changed:
                turn = await self._store.inbox_turn(update.update_id, key, self._clock())
                if turn is not Turn.WAIT:
                    if turn is Turn.GONE:
                        log.info("update_taken_over", extra={"update_id": update.update_id})
                    return turn is Turn.GO
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), RECHECK_TURN)

    async def mark_done(self, update: object) -> None:
        """Handled (or failed for good): the row keeps only the id. If even that cannot be
        written the update is replayed after the restart the fault policy brings."""
        if not isinstance(update, Update):
            return
        key = ordering_key(update)
        with contextlib.suppress(Exception):
            await self._faults.retrying(
                "finish_update",
                lambda: self._store.inbox_done(update.update_id, key, self._clock()),
            )
