"""The storage seam on both backends: what it imports, URLs, migrations, the inbox's turns
and take-overs across instances, row claiming, and `hiwar migrate-db` (SQLite ⇄ PostgreSQL
and back)."""

from __future__ import annotations

import ast
import asyncio
import graphlib
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage
from bot.cli import main
from bot.config import ConfigError, load_settings
from storage import Storage
from storage.backends import connect
from storage.copy import CopyRefused, copy_database
from storage.database import INSTANCE_LOCKS
from storage.inbox import Turn
from storage.migrations import apply_migrations, migration_files
from storage.postgres import numbered
from storage.url import BadDatabaseUrl, parse_database_url
from tests.pgcluster import PgCluster, create_database
from tests.wiring import open_test_storage

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
AMAL = 1001  # a youth worker in Amman: Arabic, and a Telegram id that needs a BIGINT soon
KARIM = 8_123_456_789  # a national coordinator in Baghdad, with a 2026-size Telegram id


@pytest.fixture(autouse=True)
def keep_logging() -> Iterator[None]:
    """`main()` configures logging onto the captured stderr: put things back afterwards."""
    handlers, level = logging.root.handlers[:], logging.root.level
    yield
    logging.root.handlers[:], logging.root.level = handlers, level


# -- what storage imports --------------------------------------------------------------------

STORAGE_DIR = Path(storage.__file__).parent


def test_storage_imports_nothing_from_telegram_the_handlers_or_the_catalogs():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, storage, storage.copy; print(*sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert [m for m in loaded if m.split(".")[0] in ("telegram", "handlers")] == []
    assert "bot.core.i18n" not in loaded and "bot.inbox" not in loaded


def test_storage_modules_import_each_other_at_the_top_and_without_cycles():
    graph: dict[str, set[str]] = {}
    for path in STORAGE_DIR.glob("*.py"):
        module = "storage" if path.stem == "__init__" else f"storage.{path.stem}"
        tree = ast.parse(path.read_text("utf-8"))
        top = {id(node) for node in tree.body}
        graph[module] = set()
        for node in ast.walk(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                if name.split(".")[0] != "storage":
                    continue
                assert id(node) in top, f"{module} imports {name} inside a function"
                graph[module].add(name)
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError


# -- URLs and settings -----------------------------------------------------------------------


def test_database_urls():
    assert parse_database_url("sqlite:///data/hiwar.sqlite3").path == Path("data/hiwar.sqlite3")
    assert parse_database_url("sqlite:////srv/hiwar.sqlite3").path == Path("/srv/hiwar.sqlite3")
    assert parse_database_url(Path("x.db")).backend == "sqlite"
    pg = parse_database_url("postgresql://hiwar:s3cret@db:5432/hiwar")
    assert pg.backend == "postgres" and "s3cret" not in str(pg)
    for bad in ("mysql://root@db/hiwar", "hiwar.sqlite3", "sqlite:///", "postgresql:///hiwar"):
        with pytest.raises(BadDatabaseUrl):
            parse_database_url(bad)


def test_a_bad_database_url_is_one_clear_line_and_never_shows_the_password():
    with pytest.raises(ConfigError, match="HIWAR_DATABASE_URL") as raised:
        load_settings({"HIWAR_DATABASE_URL": "mysql://root:hunter2@db/x"}, env_file=None)
    assert "hunter2" not in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(ConfigError, match="not both"):
        load_settings(
            {"HIWAR_DATABASE_URL": "sqlite:///a.db", "HIWAR_DB_PATH": "b.db"}, env_file=None
        )
    settings = load_settings({"HIWAR_DB_PATH": "b.db"}, env_file=None)
    assert settings.database == "sqlite:///b.db"


def test_run_with_an_unreachable_database_exits_2_with_one_line(monkeypatch, capsys):
    monkeypatch.setenv("HIWAR_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("HIWAR_DATABASE_URL", "postgresql://hiwar:pw@127.0.0.1:1/hiwar")
    monkeypatch.delenv("HIWAR_DB_PATH", raising=False)
    assert main(["run"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("hiwar: error: cannot connect to postgresql://hiwar:***@127.0.0.1")
    assert "\n" not in error and "pw@" not in error


def test_placeholders_are_numbered_outside_quoted_text():
    assert numbered("SELECT ? WHERE a = '?' AND b = ? AND \"c?\" = ?") == (
        "SELECT $1 WHERE a = '?' AND b = $2 AND \"c?\" = $3"
    )


# -- migrations ------------------------------------------------------------------------------


def test_both_backends_have_the_same_migrations():
    sqlite, postgres = (migration_files(dialect) for dialect in ("sqlite", "postgres"))
    assert [p.name for p in sqlite] == [p.name for p in postgres]


async def test_migrations_are_recorded_and_run_once(database):
    db = await connect(database)
    try:
        applied = await apply_migrations(db)
        assert applied == [p.stem for p in migration_files(db.dialect.name)]
        assert await apply_migrations(db) == []
    finally:
        await db.close()


async def test_instances_starting_together_migrate_once(pg_cluster: PgCluster):
    url = await create_database(pg_cluster)
    databases = [await connect(url) for _ in range(4)]
    try:
        applied = await asyncio.gather(*(apply_migrations(db) for db in databases))
        # Each one applied by exactly one instance (not necessarily all by the same one).
        everything = sorted(name for names in applied for name in names)
        assert everything == [p.stem for p in migration_files("postgres")]
        recorded = await databases[0].fetchall("SELECT name FROM schema_migrations")
        assert len(recorded) == len(migration_files("postgres"))
    finally:
        for db in databases:
            await db.close()


async def test_telegram_ids_beyond_32_bits_and_arabic_text(storage: Storage):
    respondents = storage.respondents
    await respondents.save_language(KARIM, "ar", NOW)
    progress = await respondents.start_progress(KARIM, "s", 1, "q", NOW)
    await respondents.save_answer(progress.response_id, "q", "تعاون وطني ومحلي", None, NOW)
    assert await storage.inbox.claim_update(2**40, NOW)
    saved = await respondents.get_progress(KARIM, "s")
    assert saved is not None and saved.answers == {"q": "تعاون وطني ومحلي"}
    assert await storage.inbox.was_processed(2**40)
    assert not await storage.inbox.claim_update(2**40, NOW)


# -- the inbox: turns, and taking over from an instance that died ----------------------------


async def test_one_users_updates_take_turns_in_update_order(storage: Storage):
    inbox = storage.inbox
    for update_id in (10, 11, 12):
        assert await inbox.inbox_add(update_id, AMAL, "{}", NOW)
    assert not await inbox.inbox_add(11, AMAL, "{}", NOW)  # a re-delivery
    assert await inbox.inbox_add(13, KARIM, "{}", NOW)
    assert await inbox.inbox_turn(11, AMAL, NOW) is Turn.WAIT  # 10 is older
    assert await inbox.inbox_turn(13, KARIM, NOW) is Turn.GO  # another user: no waiting
    assert await inbox.inbox_turn(10, AMAL, NOW) is Turn.GO
    assert await inbox.inbox_turn(11, AMAL, NOW) is Turn.WAIT  # 10 in progress
    with inbox.inbox_watch(AMAL) as changed:
        await inbox.inbox_done(10, AMAL, NOW)
        assert changed.is_set()
    assert await inbox.inbox_turn(12, AMAL, NOW) is Turn.WAIT  # 11 is older
    assert await inbox.inbox_turn(11, AMAL, NOW) is Turn.GO
    await inbox.inbox_done(11, AMAL, NOW)
    assert await inbox.inbox_turn(11, AMAL, NOW) is Turn.GONE  # done already
    assert await inbox.inbox_turn(12, AMAL, NOW) is Turn.GO


async def test_an_update_seen_by_two_instances_is_applied_once_and_in_order(
    pg_cluster: PgCluster,
):
    url = await create_database(pg_cluster)
    first, second = await open_test_storage(url), await open_test_storage(url)
    try:
        assert await first.inbox.inbox_add(20, AMAL, "{}", NOW)
        assert await second.inbox.inbox_add(21, AMAL, "{}", NOW)
        assert not await second.inbox.inbox_add(20, AMAL, "{}", NOW)  # the balancer's retry
        assert await second.inbox.inbox_turn(21, AMAL, NOW) is Turn.WAIT
        with second.inbox.inbox_watch(AMAL) as changed:
            assert await first.inbox.inbox_turn(20, AMAL, NOW) is Turn.GO
            await first.inbox.inbox_done(20, AMAL, NOW)
            await asyncio.wait_for(changed.wait(), 5)  # NOTIFY from the other instance
        assert await second.inbox.inbox_turn(21, AMAL, NOW) is Turn.GO
    finally:
        await first.close()
        await second.close()


async def test_the_updates_of_an_instance_that_died_are_taken_over(pg_cluster: PgCluster):
    url = await create_database(pg_cluster)
    survivor, crashed = await open_test_storage(url), await open_test_storage(url)
    try:
        payload = json.dumps({"update_id": 31, "text": "نعم"}, ensure_ascii=False)
        assert await crashed.inbox.inbox_add(30, AMAL, "{}", NOW)
        assert await crashed.inbox.inbox_add(31, AMAL, payload, NOW)
        assert await crashed.inbox.inbox_turn(30, AMAL, NOW) is Turn.GO  # then it dies
        assert await survivor.inbox.inbox_adopt() == []  # it is alive: nothing to take over
        await crashed.close()
        adopted = await survivor.inbox.inbox_adopt()
        assert adopted == ["{}", payload]
        assert await survivor.inbox.inbox_turn(30, AMAL, NOW) is Turn.GO  # again, first
        assert await survivor.inbox.inbox_turn(31, AMAL, NOW) is Turn.WAIT
    finally:
        await survivor.close()


async def test_an_instance_whose_connection_drops_knows_it_is_not_alive_any_more(
    pg_cluster: PgCluster,
):
    import asyncpg

    url = await create_database(pg_cluster)
    storage, admin = await open_test_storage(url), await asyncpg.connect(url)
    try:
        me = await storage.instances.current()
        assert not storage.instances.lost.is_set()
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND classid = $1 AND objid = $2",
            INSTANCE_LOCKS,
            me,
        )
        await asyncio.wait_for(storage.instances.lost.wait(), 5)  # `hiwar run` stops (exit 1)
    finally:
        await admin.close()
        await storage.close()


# -- hiwar migrate-db --------------------------------------------------------------------------


async def fill(url: str) -> None:
    storage = await open_test_storage(url)
    respondents = storage.respondents
    try:
        people = ((AMAL, "البطالة بين الشباب وغياب أماكن آمنة للقاء."), (KARIM, "Trust"))
        for user_id, text in people:
            await respondents.save_language(user_id, "ar", NOW)
            await respondents.save_consent(user_id, NOW)
            progress = await respondents.start_progress(user_id, "pcve", 1, "grievances", NOW)
            await storage.inbox.claim_update(user_id, NOW)
            await respondents.save_answer(progress.response_id, "level", "local", None, NOW)
            await respondents.save_answer(progress.response_id, "grievances", text, None, NOW)
            await respondents.complete(progress.response_id, ["level", "grievances"], NOW)
        message = json.dumps({"text": "مرحبا"}, ensure_ascii=False)
        await storage.inbox.inbox_add(77, AMAL, message, NOW)
    finally:
        await storage.close()


async def test_migrate_db_round_trip_keeps_arabic_text_intact(
    pg_cluster: PgCluster, tmp_path: Path
):
    original = f"sqlite:///{tmp_path / 'original.sqlite3'}"
    back = f"sqlite:///{tmp_path / 'back.sqlite3'}"
    await fill(original)
    postgres = await create_database(pg_cluster)
    there = await copy_database(original, postgres)
    assert {c.table: c.target for c in there}["answers"] == 4
    assert all(c.source == c.target for c in there)
    assert await copy_database(postgres, back)
    storage = await open_test_storage(back)
    try:
        progress = await storage.respondents.get_progress(AMAL, "pcve")
        assert progress is not None
        assert progress.answers["grievances"] == "البطالة بين الشباب وغياب أماكن آمنة للقاء."
        assert await storage.inbox.inbox_adopt() == ['{"text": "مرحبا"}']
    finally:
        await storage.close()
    pg_storage = await open_test_storage(postgres)  # generated ids go on after the copied ones
    try:
        await pg_storage.respondents.save_language(9, "en", NOW)
        fresh = await pg_storage.respondents.start_progress(9, "pcve", 1, "level", NOW)
        assert fresh.response_id == 3
    finally:
        await pg_storage.close()


async def test_migrate_db_refuses_a_database_in_use(pg_cluster: PgCluster, tmp_path: Path):
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    await fill(source)
    target = await create_database(pg_cluster)
    await fill(target)
    with pytest.raises(CopyRefused, match="not empty"):
        await copy_database(source, target)


def test_migrate_db_command(pg_cluster: PgCluster, tmp_path: Path, capsys):
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    asyncio.run(fill(source))
    target = asyncio.run(create_database(pg_cluster))
    assert main(["migrate-db", source, target]) == 0
    out = capsys.readouterr().out
    assert "answers" in out and "copied" in out
    assert main(["migrate-db", source, target]) == 2  # not empty any more
    error = capsys.readouterr().err.strip()
    assert error.startswith("hiwar: error: the target database is not empty")
    assert "\n" not in error
    assert main(["migrate-db", source, "mysql://db/x"]) == 2


async def test_update_ids_are_forgotten_once_telegram_cannot_send_them_again(storage):
    """Regression: processed-update ids were never pruned and inbox rows only at start-up
    (29.7 MB for 605 respondents); the database now grows with what people gave."""
    day_ago, now = (
        datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
    )
    for update_id, at in ((1, day_ago), (2, now)):
        assert await storage.inbox.inbox_add(update_id, 42, '{"update_id": 1}', at)
        await storage.inbox.inbox_done(update_id, 42, at)
        assert await storage.inbox.claim_update(update_id, at)
    assert await storage.inbox.inbox_prune(now - timedelta(days=1)) == 2
    assert await storage.inbox.was_processed(2) and not await storage.inbox.was_processed(1)
    rows = await storage.database.fetchall("SELECT update_id, payload, user_key FROM inbox")
    assert [tuple(row) for row in rows] == [(2, "", None)]  # no content, no person
