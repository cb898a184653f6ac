"""Faults injected against a real `hiwar run` process (README, "Nothing lost, nothing twice").

Policy: a transient database error (another process's write lock) is waited out and the
bot keeps serving; a persistent one (a full disk, a read-only file system) makes the process
log one clear line and exit with code 3 promptly, having confirmed to Telegram only what it
stored, so that after a restart nothing a person saw confirmed is lost or doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.faults import EXIT_CODE
from bot.health import STALE, check
from bot.simulator import FakeBotApi, SimulatedUser
from tests.e2e import ADMIN_ID, Harness, hiwar_command
from tests.test_instances import launch, seed_recipients
from tests.test_lifecycle import BotProcess, free_port, progress_of
from tests.wiring import open_test_storage

SURVEY_ID = "pcve-cooperation"
TAPS = ["A:sector:academia", "A:level:national", "A:country:iraq"]


def events(bot: BotProcess) -> list[dict]:
    return [json.loads(line) for line in bot.logs[-1].decode().splitlines() if line.startswith("{")]


def hold_write_lock(path: Path, seconds: float, locked: threading.Event | None = None) -> None:
    """Another process's write transaction on the file (a backup, a migration…)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    if locked is not None:
        locked.set()
    time.sleep(seconds)
    other.execute("ROLLBACK")
    other.close()


async def consent(user: SimulatedUser) -> None:
    await user.send_command("/start")
    await user.tap("English")
    await user.tap("I agree")


@contextlib.contextmanager
def small_file_system(path: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path` (root only: the tests skip elsewhere)."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


async def test_a_write_lock_held_for_10_seconds_is_waited_out(fake_api: FakeBotApi, tmp_path: Path):
    database = f"sqlite:///{tmp_path / 'hiwar.sqlite3'}"
    fake_api.reply_timeout = 40
    bot = BotProcess(fake_api, database, tmp_path)
    await bot.start()
    people = [fake_api.make_user(6000 + i, f"P{i}", language_code="en") for i in range(3)]
    for person in people:
        await consent(person)
    locked = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(tmp_path / "hiwar.sqlite3", 10, locked))
    holder.start()
    locked.wait()
    started = time.monotonic()
    await asyncio.gather(*(p.tap(tap) for p in people for tap in TAPS[:1]))
    assert time.monotonic() - started >= 5  # they waited for the lock…
    holder.join()
    for person in people:  # …and the bot kept serving
        for tap in TAPS[1:]:
            await person.tap(tap)
    assert await bot.stop(signal.SIGTERM) == 0
    progress = await progress_of(database, [p.id for p in people])
    for person in people:
        assert progress[person.id].answers == {
            "sector": "academia",
            "level": "national",
            "country": "iraq",
        }


def fill(folder: Path) -> None:
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    (folder / "filler").write_bytes(b"\0" * max(free - 4096, 0))


def unfill(folder: Path) -> None:
    (folder / "filler").unlink()


def refuse_writes(folder: Path) -> None:
    """The database and its log become immutable: every write fails (EPERM: SQLite's disk
    I/O error), as on a file system that turned read-only under the process."""
    for name in ("hiwar.sqlite3", "hiwar.sqlite3-wal"):
        subprocess.run(["chattr", "+i", str(folder / name)], check=True)


def allow_writes(folder: Path) -> None:
    for name in ("hiwar.sqlite3", "hiwar.sqlite3-wal"):
        subprocess.run(["chattr", "-i", str(folder / name)], check=False)


@contextlib.contextmanager
def plain_folder(path: Path) -> Iterator[Path]:
    path.mkdir()
    probe = path / "probe"
    probe.touch()
    if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode != 0:
        pytest.skip("cannot make files immutable here (chattr needs root)")
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    try:
        yield path
    finally:
        allow_writes(path)


async def answers_of(database: str, people: list[SimulatedUser]) -> dict[int, dict]:
    progress = await progress_of(database, [p.id for p in people])
    return {uid: dict(saved.answers) if saved else {} for uid, saved in progress.items()}


@pytest.mark.parametrize(
    ("place", "break_it", "repair"),
    [(small_file_system, fill, unfill), (plain_folder, refuse_writes, allow_writes)],
    ids=["disk full", "writes refused"],
)
async def test_a_broken_disk_stops_the_bot_with_one_line_and_loses_nothing(
    fake_api: FakeBotApi, tmp_path: Path, place, break_it, repair
):
    fake_api.reply_timeout = 20
    mount = tmp_path / "disk"
    with place(mount):
        database = f"sqlite:///{mount / 'hiwar.sqlite3'}"
        bot = BotProcess(fake_api, database, tmp_path)
        await bot.start()
        people = [fake_api.make_user(7000 + i, f"P{i}", language_code="en") for i in range(3)]
        for person in people:
            await consent(person)
            await person.tap(TAPS[0])
        break_it(mount)
        started = time.monotonic()
        for person in people:  # nobody gets an answer now: the bot cannot store the taps
            with contextlib.suppress(TimeoutError):
                await person.tap(TAPS[1], timeout=2)
        code = await bot.exited(timeout=40)
        assert code == EXIT_CODE and time.monotonic() - started < 40, bot.logs[-1].decode()[-3000:]
        critical = [e["event"] for e in events(bot) if e["level"] == "CRITICAL"]
        assert critical == ["database_unusable"]
        assert fake_api.token not in bot.logs[-1].decode()

        repair(mount)  # the operator makes room (or remounts); the supervisor restarts it
        await bot.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the taps Telegram delivers again are applied
            stored = await answers_of(database, people)
            if all("level" in answers for answers in stored.values()):
                break
            await asyncio.sleep(0.5)
        assert await bot.stop(signal.SIGTERM) == 0
    for answers in stored.values():
        assert answers == {"sector": "academia", "level": "national"}


async def test_an_unparsable_update_is_kept_once_and_polling_goes_on(
    fake_api: FakeBotApi, database: str, tmp_path: Path
):
    """Regression: one update PTB could not parse (a field missing) made it log the whole
    batch, names and texts, hundreds of times a second, and no later update was handled."""
    bot = BotProcess(fake_api, database, tmp_path)
    await bot.start()
    broken = {  # a chat without its type: PTB cannot build the message
        "message_id": 1,
        "date": 0,
        "chat": {"id": 6100},
        "from": {"id": 6100, "is_bot": False, "first_name": "Brokenname"},
        "text": "secret words",
    }
    update_id = fake_api.push_update({"message": broken})
    replies = await fake_api.make_user(6101, "Huda", language_code="en").send_command("/start")
    assert replies  # the next update is handled
    assert fake_api.is_consumed(update_id)  # and the broken one was confirmed, not refetched
    assert await bot.stop(signal.SIGTERM) == 0
    storage = await open_test_storage(database)
    try:
        kept = await storage.database.fetchall(
            "SELECT update_id, user_key, error, payload FROM unparsable_updates"
        )
    finally:
        await storage.close()
    assert [tuple(row[:3]) for row in kept] == [(update_id, 6100, "TypeError")]
    assert "Brokenname" not in kept[0][3]  # kept as it came, less the name
    log = bot.logs[-1].decode()
    assert [e["event"] for e in events(bot)].count("update_unparsable") == 1
    assert "secret words" not in log and "Brokenname" not in log


async def hiwar_health(env: dict[str, str], cwd: Path) -> tuple[int, dict]:
    finished = await hiwar_command("health", env, cwd)
    return finished.code, json.loads(finished.out)


async def test_health_says_whether_updates_flow_and_the_database_is_writable(
    fake_api: FakeBotApi, tmp_path: Path
):
    database = f"sqlite:///{tmp_path / 'hiwar.sqlite3'}"
    bot = BotProcess(fake_api, database, tmp_path)
    port = free_port()
    bot.env["HIWAR_HEALTH_PORT"] = str(port)
    await bot.start()
    await asyncio.sleep(0.5)  # the first heartbeat
    code, verdict = await hiwar_health(bot.env, tmp_path)
    assert code == 0 and verdict["healthy"] and verdict["telegram_age_s"] < 15
    url = f"http://127.0.0.1:{port}/healthz"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200 and (await response.json())["healthy"]
    assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL
    storage = await open_test_storage(database)
    try:
        later = await check(storage.instances, datetime.now(UTC) + STALE + timedelta(seconds=1))
    finally:
        await storage.close()
    assert not later.healthy and "no recent heartbeat" in later.reason


async def test_a_lock_during_a_broadcast_strands_nothing_and_sends_nothing_twice(
    tmp_path: Path,
):
    """Regression: a 10 s lock left a row `sending` for good ("Remaining: 1"), and it was
    sent a second time after a restart, with no crash involved."""
    database = f"sqlite:///{tmp_path / 'hiwar.sqlite3'}"
    storage = await open_test_storage(database)
    try:
        users = await seed_recipients(storage, 150)
        await launch(storage)
    finally:
        await storage.close()
    async with FakeBotApi(auto_create_chats=True) as api:
        api.reply_timeout = 60
        bot = BotProcess(api, database, tmp_path)
        bot.env.update({"HIWAR_ADMIN_IDS": str(ADMIN_ID), "HIWAR_BROADCAST_RATE": "20"})
        await bot.start()
        await api.wait_for(lambda: api.requests["sendDocument"] >= 20, 30)
        holder = threading.Thread(target=hold_write_lock, args=(tmp_path / "hiwar.sqlite3", 10))
        holder.start()
        await asyncio.to_thread(holder.join)
        await api.wait_for(lambda: api.requests["sendDocument"] >= len(users), 60)
        assert await bot.stop(signal.SIGTERM) == 0
        await bot.start()  # a restart sends nothing again
        await asyncio.sleep(2)
        assert await bot.stop(signal.SIGTERM) == 0
    received = sorted(a.chat_id for a in api.actions if a.method == "sendDocument" and a.ok)
    assert received == users  # each exactly once
    storage = await open_test_storage(database)
    try:
        states = await storage.database.fetchall(
            "SELECT state, COUNT(*) FROM invitation_deliveries GROUP BY state"
        )
    finally:
        await storage.close()
    assert [tuple(row) for row in states] == [("sent", len(users))]


async def test_a_tap_without_a_message_and_other_odd_updates_are_handled(hiwar: Harness):
    """Fuzzed updates that ended in unhandled exceptions: a tap with no message (an inline
    message), an oversized number in button data, a group tap."""
    user = {"id": 6200, "is_bot": False, "first_name": "Odd", "language_code": "en"}
    odd = [
        {"callback_query": {"id": "q1", "from": user, "chat_instance": "1",
                            "inline_message_id": "abc", "data": "A:sector:academia"}},
        {"callback_query": {"id": "q2", "from": user, "chat_instance": "1",
                            "message": {"message_id": 1, "date": 0,
                                        "chat": {"id": 6200, "type": "private"}},
                            "data": "Kr:99999999999999999999999999"}},
        {"callback_query": {"id": "q3", "from": user, "chat_instance": "1",
                            "message": {"message_id": 1, "date": 0,
                                        "chat": {"id": -6201, "type": "group", "title": "G"}},
                            "data": "X:1"}},
    ]  # fmt: skip
    for update in odd:
        await hiwar.api.wait_consumed(hiwar.api.push_update(update))
    replies = await hiwar.user(6200, "Odd", "en").send_command("/help")
    assert replies  # still serving
    assert not [a for a in hiwar.api.actions if a.text and "went wrong" in a.text]
