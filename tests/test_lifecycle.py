"""Running for real: webhook mode and its secret, per-user order under load, SIGTERM and
kill -9 in the middle of a burst of answers, each followed by a restart losing nothing."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.demo import make_personas, take_part
from bot.simulator import FakeBotApi
from bot.survey.state import Status
from tests.e2e import SHIPPED_SURVEY, Harness, make_settings
from tests.wiring import open_test_storage

SURVEY_ID = SHIPPED_SURVEY.id
SECRET = "s3cret_token-123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def progress_of(database: str, user_ids: list[int]) -> dict[int, object]:
    storage = await open_test_storage(database)
    try:
        return {uid: await storage.respondents.get_progress(uid, SURVEY_ID) for uid in user_ids}
    finally:
        await storage.close()


# -- webhook ------------------------------------------------------------------------------


@pytest.fixture
async def webhook_bot(fake_api: FakeBotApi, database: str) -> AsyncIterator[Harness]:
    port = free_port()
    settings = make_settings(
        fake_api,
        database,
        webhook_url=f"http://127.0.0.1:{port}/hiwar-hook",
        webhook_secret=SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    harness = Harness(fake_api, settings, SHIPPED_SURVEY)
    await harness.start()
    yield harness
    await harness.stop()


async def post_update(url: str, payload: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=json.dumps(payload), headers=headers) as response,
    ):
        return response.status


async def test_webhook_with_the_right_secret_serves_respondents(webhook_bot: Harness):
    amal = webhook_bot.user(2001, "Amal", "ar")
    replies = await amal.send_command("/start")  # the fake API POSTs it with the secret
    assert replies[-1].text.startswith("يُرجى اختيار لغتك")
    assert webhook_bot.api.webhook_deliveries >= 1


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
async def test_webhook_without_the_right_secret_is_rejected_and_changes_nothing(
    webhook_bot: Harness, secret: str | None
):
    url = webhook_bot.settings.webhook_url
    start = {
        "update_id": 999_001,
        "message": {
            "message_id": 1,
            "date": 1_764_000_000,
            "text": "/start",
            "chat": {"id": 2002, "type": "private", "first_name": "Eve"},
            "from": {"id": 2002, "is_bot": False, "first_name": "Eve", "language_code": "en"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    assert await post_update(url, start, secret) == 403
    await asyncio.sleep(0.2)
    assert not webhook_bot.api.has_chat(2002) or not webhook_bot.api.chat(2002).actions
    assert await post_update(url, start, SECRET) == 200  # the same request, rightly signed


# -- per-user order under concurrency ------------------------------------------------------


async def test_many_users_at_once_each_in_order(hiwar: Harness):
    """Forty respondents answer at the same time; nobody's answers get mixed up or lost."""
    personas = make_personas(SHIPPED_SURVEY, 40, random.Random(11))
    hiwar.api.reply_timeout = 60
    answered = await asyncio.gather(
        *(take_part(hiwar.api, SHIPPED_SURVEY, p, random.Random(p.user_id)) for p in personas)
    )
    progress = await progress_of(hiwar.settings.database, [p.user_id for p in personas])
    for persona, count in zip(personas, answered, strict=True):
        saved = progress[persona.user_id]
        assert saved.status == Status.COMPLETED
        assert len(saved.answers) == count
        assert saved.answers["level"] == persona.level


async def test_rapid_taps_from_one_user_are_applied_in_order(hiwar: Harness):
    rami = hiwar.user(2003, "Rami", "en")
    await rami.send_command("/start")
    await rami.tap("English")
    await rami.tap("I agree")
    message = rami.chat.latest_keyboard_message()
    # Four taps sent back to back, without waiting for any reply: only the arrival order
    # makes the level question current when the level tap is handled.
    taps = ["A:sector:academia", "A:level:national", "A:country:iraq", "S:years"]
    ids = []
    for data in taps:
        ids.append(
            hiwar.api.push_update(
                {
                    "callback_query": {
                        "id": hiwar.api.new_callback_query_id(),
                        "from": rami.user_json,
                        "message": dict(message),
                        "chat_instance": "1",
                        "data": data,
                    }
                }
            )
        )
    for update_id in ids:
        await hiwar.api.wait_consumed(update_id, timeout=10)
    await hiwar.api.wait_for(lambda: "S:city" in str(rami.last_message), timeout=10)
    saved = (await progress_of(hiwar.settings.database, [2003]))[2003]
    assert saved.answers == {
        "sector": "academia",
        "level": "national",
        "country": "iraq",
        "years": None,
    }


# -- stopping a real process -----------------------------------------------------------------


class BotProcess:
    """`hiwar run` in its own process, polling the fake Bot API."""

    def __init__(self, api: FakeBotApi, database: str, workdir: Path) -> None:
        self.env = {
            **os.environ,
            "HIWAR_BOT_TOKEN": api.token,
            "HIWAR_API_BASE_URL": api.base_url,
            "HIWAR_DATABASE_URL": database,
        }
        self.workdir = workdir
        self.api = api
        self.process: asyncio.subprocess.Process | None = None
        self.logs: list[bytes] = []

    async def start(self) -> None:
        polls_before = self.api.requests["getUpdates"]
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=self.workdir,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(30):  # polling requests are not reactions: poll for them
            while self.api.requests["getUpdates"] <= polls_before:
                await asyncio.sleep(0.05)

    async def stop(self, signum: int) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        return await self.exited()

    async def exited(self, timeout: float = 30) -> int:
        """Wait for the process to end by itself; its exit code (its stderr is kept)."""
        assert self.process is not None
        _out, err = await asyncio.wait_for(self.process.communicate(), timeout)
        self.logs.append(err)
        return self.process.returncode


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
async def test_stopped_mid_burst_then_restarted_loses_and_repeats_nothing(
    fake_api: FakeBotApi, database: str, tmp_path: Path, signum: int
):
    fake_api.reply_timeout = 60
    bot = BotProcess(fake_api, database, tmp_path)
    await bot.start()
    personas = make_personas(SHIPPED_SURVEY, 12, random.Random(5))
    burst = asyncio.gather(
        *(take_part(fake_api, SHIPPED_SURVEY, p, random.Random(p.user_id)) for p in personas)
    )
    await fake_api.wait_for(lambda: fake_api.requests["answerCallbackQuery"] > 60, 60)
    code = await bot.stop(signum)
    assert code == (0 if signum == signal.SIGTERM else -signal.SIGKILL)
    await bot.start()  # the same database; respondents carry on
    answered = await asyncio.wait_for(burst, 120)
    await bot.stop(signal.SIGTERM)
    progress = await progress_of(database, [p.user_id for p in personas])
    for persona, count in zip(personas, answered, strict=True):
        saved = progress[persona.user_id]
        assert saved.status == Status.COMPLETED, (persona, saved.current)
        assert len(saved.answers) == count, persona
    apologies = [a for a in fake_api.actions if a.text and "went wrong" in a.text]
    assert not apologies
    if signum == signal.SIGTERM:
        log_lines = [json.loads(line) for line in bot.logs[0].decode().splitlines()]
        events = [line["event"] for line in log_lines]
        assert "shutdown_requested" in events and "bot_stopped" in events
        text = bot.logs[0].decode()
        assert "Respondent" not in text and fake_api.token not in text
