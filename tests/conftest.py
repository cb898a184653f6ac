"""Shared fixtures: a fresh database per test on each backend, and the survey service over it.

`database` is parametrised over SQLite and PostgreSQL, so every test that touches storage
(through `database`, `storage`, `service` or `hiwar`) runs on both. The PostgreSQL server is a
throwaway cluster started once per session (tests/pgcluster.py); each test gets a new
database in it. Where no server can be started the PostgreSQL variants are skipped, saying why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.simulator import FakeBotApi
from bot.survey.service import SurveyService
from storage import Storage
from tests.e2e import SHIPPED_SURVEY, Harness, make_settings
from tests.factories import mini_survey
from tests.pgcluster import ClusterUnavailable, PgCluster, create_database, drop_database
from tests.wiring import open_test_storage, survey_service

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One PostgreSQL server for the whole session, deleted at the end."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests need asyncpg: pip install -e '.[dev]'")
    from tests.pgcluster import start_cluster

    try:
        cluster = start_cluster()
    except ClusterUnavailable as error:
        pytest.skip(f"no PostgreSQL server for the tests: {error}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hiwar.sqlite3'}"
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = cluster.new_database_name()
    url = await create_database(cluster, name)
    yield url
    await drop_database(cluster, name)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """An SQLite file, for the tests about SQLite itself."""
    return tmp_path / "hiwar.sqlite3"


@pytest.fixture
async def storage(database: str) -> AsyncIterator[Storage]:
    opened = await open_test_storage(database)
    yield opened
    await opened.close()


@pytest.fixture
def service(storage: Storage) -> SurveyService:
    return survey_service(
        storage, mini_survey(), clock=lambda: datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    )


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        api.quiet = 0.05
        yield api


@pytest.fixture
async def hiwar(fake_api: FakeBotApi, database: str) -> AsyncIterator[Harness]:
    """The real bot, over HTTP, against the fake Bot API, on a fresh database."""
    harness = Harness(fake_api, make_settings(fake_api, database), SHIPPED_SURVEY)
    await harness.start()
    yield harness
    await harness.stop()
