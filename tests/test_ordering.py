"""Per-user ordering under concurrency, without Telegram."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.ordering import PerUserOrderedProcessor


def update_from(user_id: int, update_id: int) -> Update:
    user = User(user_id, "U", is_bot=False)
    chat = Chat(user_id, "private")
    message = Message(update_id, datetime.now(UTC), chat, from_user=user, text=str(update_id))
    return Update(update_id, message=message)


async def test_one_users_updates_never_overtake_each_other_while_users_run_concurrently():
    processor = PerUserOrderedProcessor(max_concurrent_updates=16)
    seen: dict[int, list[int]] = {}
    running = 0
    most_running = 0
    rng = random.Random(5)

    async def handle(user_id: int, update_id: int, delay: float) -> None:
        nonlocal running, most_running
        running += 1
        most_running = max(most_running, running)
        await asyncio.sleep(delay)  # a slow first tap must still finish before the second
        seen.setdefault(user_id, []).append(update_id)
        running -= 1

    tasks = []
    for update_id in range(200):
        user_id = update_id % 10
        delay = rng.random() * 0.01
        update = update_from(user_id, update_id)
        # PTB starts one task per update, in arrival order; do the same.
        tasks.append(
            asyncio.create_task(processor.process_update(update, handle(user_id, update_id, delay)))
        )
    await asyncio.gather(*tasks)
    for user_id, order in seen.items():
        assert order == sorted(order), f"user {user_id} out of order: {order}"
    assert most_running > 1, "different users should be processed concurrently"
    assert most_running <= 10, "one user's updates must not run at the same time"
    assert processor.users_in_flight == 0
