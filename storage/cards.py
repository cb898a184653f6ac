"""Which card of a chat's flow has live buttons (the Telegram layer's LiveCards port)."""

from __future__ import annotations

from storage.database import Database


class LiveCards:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def replace_live_card(self, chat_id: int, flow: str, message_id: int) -> int | None:
        """Most calls edit the live card itself: then only a read, no write transaction.
        One person's updates are handled one at a time, so the read cannot be overtaken."""
        row = await self._db.fetchone(
            "SELECT message_id FROM live_cards WHERE chat_id = ? AND flow = ?", (chat_id, flow)
        )
        if row is not None and row[0] == message_id:
            return None
        async with self._db.atomic(savepoint=False) as db:
            await db.execute(
                "INSERT INTO live_cards (chat_id, flow, message_id) VALUES (?, ?, ?)"
                " ON CONFLICT (chat_id, flow) DO UPDATE SET message_id = excluded.message_id",
                (chat_id, flow, message_id),
            )
        return row[0] if row is not None else None
