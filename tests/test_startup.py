"""`hiwar run` refusing to start: one clear line, exit code 2, no traceback, never the token.

Each case runs the real command in a process of its own, as a supervisor would.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.simulator import FakeBotApi
from tests.e2e import hiwar_command
from tests.wiring import open_test_storage


async def hiwar_run(env: dict[str, str], cwd: Path) -> tuple[int, list[str]]:
    finished = await hiwar_command("run", env, cwd)
    return finished.code, finished.err.splitlines()


def garbage(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


async def truncated(path: Path) -> None:
    storage = await open_test_storage(f"sqlite:///{path}")
    await storage.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def zeroed_header(path: Path) -> None:
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    data = bytearray(path.read_bytes())
    data[:100] = bytes(100)
    path.write_bytes(bytes(data))


def newer_schema(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    db.execute("INSERT INTO schema_migrations VALUES ('0999_from_the_future', 'x')")
    db.commit()


def foreign(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (name TEXT)")
    db.commit()


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (garbage, "file is not a database"),
        (zeroed_header, "file is not a database"),
        (newer_schema, "written by a newer Hiwar"),
        (foreign, "does not hold Hiwar's schema"),
    ],
)
async def test_a_database_that_cannot_be_used(
    fake_api: FakeBotApi, tmp_path: Path, prepare: Callable[[Path], None], expected: str
):
    path = tmp_path / "hiwar.sqlite3"
    prepare(path)
    env = {
        "HIWAR_BOT_TOKEN": fake_api.token,
        "HIWAR_API_BASE_URL": fake_api.base_url,
        "HIWAR_DATABASE_URL": f"sqlite:///{path}",
    }
    code, lines = await hiwar_run(env, tmp_path)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("hiwar: error: ") and expected in lines[0]


async def test_a_truncated_database(fake_api: FakeBotApi, tmp_path: Path):
    path = tmp_path / "hiwar.sqlite3"
    await truncated(path)
    env = {
        "HIWAR_BOT_TOKEN": fake_api.token,
        "HIWAR_API_BASE_URL": fake_api.base_url,
        "HIWAR_DATABASE_URL": f"sqlite:///{path}",
    }
    code, lines = await hiwar_run(env, tmp_path)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("hiwar: error: ")


@pytest.mark.parametrize("case", ["wrong token", "unreachable"])
async def test_telegram_that_cannot_be_used(fake_api: FakeBotApi, tmp_path: Path, case: str):
    token = "654321:SECRET-never-printed" if case == "wrong token" else fake_api.token
    base_url = fake_api.base_url if case == "wrong token" else "http://127.0.0.1:9/bot"
    env = {
        "HIWAR_BOT_TOKEN": token,
        "HIWAR_API_BASE_URL": base_url,
        "HIWAR_DATABASE_URL": f"sqlite:///{tmp_path / 'hiwar.sqlite3'}",
    }
    code, lines = await hiwar_run(env, tmp_path)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("hiwar: error: "), lines
    assert token not in lines[0] and token.split(":")[1] not in lines[0]
    assert ("refused the bot token" if case == "wrong token" else "cannot reach") in lines[0]
