"""End-to-end harness: the real PTB Application polling a fake Bot API on 127.0.0.1.

async def test_something(hiwar):            # fixture from tests/conftest.py
    amal = hiwar.user(1001, "Amal", "ar")
    await amal.send_command("/start")
    await hiwar.restart()                    # same database file, new Application
"""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from telegram.ext import Application

from bot.app import running_bot
from bot.config import Settings
from bot.simulator import FakeBotApi, SimulatedUser
from bot.survey.loader import DEFAULT_SURVEY_PATH, load_survey
from bot.survey.model import Survey
from storage.database import Row
from tests.wiring import open_test_storage

ADMIN_ID = 900_001
SHIPPED_SURVEY = load_survey(DEFAULT_SURVEY_PATH)


class Harness:
    """The fake Bot API plus Hiwar running against it; the bot can be stopped and restarted."""

    def __init__(self, api: FakeBotApi, settings: Settings, survey: Survey) -> None:
        self.api = api
        self.settings = settings
        self.survey = survey
        self.application: Application | None = None
        self._stack: AsyncExitStack | None = None

    async def start(self) -> Application:
        assert self._stack is None, "the bot is already running"
        self._stack = AsyncExitStack()
        self.application = await self._stack.enter_async_context(
            running_bot(self.settings, self.survey, self.api.token, poll_timeout=1)
        )
        return self.application

    async def stop(self) -> None:
        if self._stack is not None:
            stack, self._stack, self.application = self._stack, None, None
            await stack.aclose()

    async def restart(self) -> Application:
        await self.stop()
        return await self.start()

    async def query(self, sql: str) -> list[Row]:
        """Rows straight from the bot's database, as an auditor would read them."""
        storage = await open_test_storage(self.settings.database)
        try:
            return await storage.database.fetchall(sql)
        finally:
            await storage.close()

    def user(self, user_id: int, name: str = "Test", language: str | None = "en") -> SimulatedUser:
        return self.api.make_user(user_id, name, language_code=language)

    def admin(self, language: str = "en") -> SimulatedUser:
        return self.user(ADMIN_ID, "Admin", language)


@dataclass(frozen=True, slots=True)
class Finished:
    code: int
    out: str
    err: str


async def hiwar_command(
    command: str, env: dict[str, str], cwd: Path, *arguments: str | Path
) -> Finished:
    """`hiwar COMMAND [ARGUMENTS…]` in a process of its own, as an operator or a supervisor
    runs it; it must end within 30 s (never a hang)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", command, *map(str, arguments),
        env={**os.environ, **env}, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())


def make_settings(api: FakeBotApi, database: str | Path, **overrides: object) -> Settings:
    """`database`: a URL (the `database` fixture), or an SQLite file."""
    base = Settings(
        bot_token=api.token,
        api_base_url=api.base_url,
        db_path=database if isinstance(database, Path) else Path("hiwar.sqlite3"),
        database_url=database if isinstance(database, str) else None,
        admin_ids=frozenset({ADMIN_ID}),
        survey_path=DEFAULT_SURVEY_PATH,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]
