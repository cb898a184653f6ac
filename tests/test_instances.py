"""Several `hiwar run` processes on one PostgreSQL database behind a round-robin load
balancer (tests/fleet.py): each update applied once and in order per user, even with
duplicated deliveries and an instance killed mid-burst; a broadcast shared without copies."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.access import Access, Actor
from bot.demo import make_personas, take_part
from bot.invitations.model import Rsvp
from bot.invitations.service import InvitationService, Launched
from bot.simulator import FakeBotApi
from bot.survey.state import Status
from storage import Storage
from storage import invitations as invitation_storage
from tests.e2e import ADMIN_ID, SHIPPED_SURVEY
from tests.fleet import fleet
from tests.pgcluster import PgCluster, create_database, drop_database
from tests.test_invitations_domain import ready_draft
from tests.wiring import open_test_storage

SURVEY_ORDER = {question.id: index for index, question in enumerate(SHIPPED_SURVEY.questions)}


@pytest.fixture
async def shared_database(pg_cluster: PgCluster) -> AsyncIterator[str]:
    """A fresh PostgreSQL database (these tests are about PostgreSQL only)."""
    name = pg_cluster.new_database_name("fleet")
    url = await create_database(pg_cluster, name)
    yield url
    await drop_database(pg_cluster, name)


async def answers_in_order(storage: Storage, user_id: int) -> list[str]:
    rows = await storage.database.fetchall(
        "SELECT a.question_id FROM answers a JOIN responses r ON r.response_id = a.response_id"
        " WHERE r.user_id = ? AND r.survey_id = ? ORDER BY a.answered_at",
        (user_id, SHIPPED_SURVEY.id),
    )
    return [row[0] for row in rows]


@pytest.mark.timeout(600)
async def test_two_instances_a_burst_with_duplicates_and_a_kill_each_answer_once_in_order(
    shared_database: str, tmp_path: Path
):
    async with FakeBotApi() as api:
        api.reply_timeout = 120
        api.quiet = 0.05
        async with fleet(
            api, shared_database, instances=2, workdir=tmp_path, duplicate_every=5
        ) as deployment:
            personas = make_personas(SHIPPED_SURVEY, 200, random.Random(7))
            burst = asyncio.gather(
                *(take_part(api, SHIPPED_SURVEY, p, random.Random(p.user_id)) for p in personas)
            )
            # About a third of the way through, one instance dies without any clean-up.
            await api.wait_for(lambda: api.requests["answerCallbackQuery"] > 1200, 300)
            deployment.instances[0].kill()
            answered = await asyncio.wait_for(burst, 400)
            stats = deployment.balancer.stats
            logs = deployment.instances[1].log
    assert stats.duplicated > 100 and stats.retried > 0, stats
    assert '"updates_adopted"' in logs or '"update_taken_over"' in logs or stats.retried > 0
    assert not [a for a in api.actions if a.text and "went wrong" in a.text]
    storage = await open_test_storage(shared_database)
    try:
        for persona, count in zip(personas, answered, strict=True):
            progress = await storage.respondents.get_progress(persona.user_id, SHIPPED_SURVEY.id)
            assert progress is not None and progress.status == Status.COMPLETED, persona
            assert len(progress.answers) == count, persona
            assert progress.answers["level"] == persona.level
            order = [SURVEY_ORDER[q] for q in await answers_in_order(storage, persona.user_id)]
            assert order == sorted(order), persona  # applied in the order they were given
        unfinished = await storage.database.fetchall(
            "SELECT update_id FROM inbox WHERE done_at IS NULL"
        )
        assert unfinished == []
    finally:
        await storage.close()


async def seed_recipients(storage: Storage, count: int) -> list[int]:
    """Respondents who asked for invitations (opted in), half in Arabic."""
    now = datetime.now(UTC)
    invitations = next(q for q in SHIPPED_SURVEY.questions if q.id == "invitations")
    yes = next(o.id for o in invitations.options if o.opt_in)
    users = [5_000_000 + index for index in range(count)]
    async with storage.database.atomic() as db:
        await db.executemany(
            "INSERT INTO users (user_id, language, consented_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [(u, "ar" if u % 2 else "en", now.isoformat(), now.isoformat(), now.isoformat())
             for u in users],
        )  # fmt: skip
    respondents = storage.respondents
    for user_id in users:
        progress = await respondents.start_progress(
            user_id, SHIPPED_SURVEY.id, SHIPPED_SURVEY.version, invitations.id, now
        )
        await respondents.save_answer(progress.response_id, invitations.id, yes, None, now)
        await respondents.complete(progress.response_id, [invitations.id], now)
    return users


@pytest.mark.timeout(300)
async def test_a_broadcast_to_1000_shared_by_two_instances_reaches_each_once(
    shared_database: str, tmp_path: Path
):
    storage = await open_test_storage(shared_database)
    try:
        users = await seed_recipients(storage, 1000)
        launched = await launch(storage)
        assert launched.recipients == 1000
    finally:
        await storage.close()
    async with FakeBotApi(auto_create_chats=True) as api:
        env = {"HIWAR_ADMIN_IDS": str(ADMIN_ID), "HIWAR_BROADCAST_RATE": "250"}
        async with fleet(api, shared_database, instances=2, workdir=tmp_path, env=env):
            await api.wait_for(lambda: api.requests["sendDocument"] >= 1000, 120)
            await asyncio.sleep(1.0)  # anything sent twice would arrive by now
    received = [a.chat_id for a in api.actions if a.method == "sendDocument" and a.ok]
    assert sorted(received) == users  # every recipient, exactly once
    progress = [a for a in api.actions if a.method == "sendMessage" and a.chat_id == ADMIN_ID]
    assert len(progress) == 1  # one instance reports, editing one message
    storage = await open_test_storage(shared_database)
    try:
        senders = await storage.database.fetchall(
            "SELECT claimed_by, COUNT(*) FROM invitation_deliveries WHERE state = 'sent'"
            " GROUP BY claimed_by"
        )
    finally:
        await storage.close()
    assert len(senders) == 2 and sum(count for _i, count in senders) == 1000, senders


async def launch(storage: Storage) -> Launched:
    """The admin sends a ready invitation to everyone who asked for invitations."""
    access = Access(storage.reports, storage.reports, {ADMIN_ID})
    service = InvitationService(storage.invitations, SHIPPED_SURVEY, access, timedelta(hours=24))
    await storage.invitations.save_draft(ADMIN_ID, ready_draft(), datetime.now(UTC))
    return await service.launch(Actor(ADMIN_ID, "Admin"), "en")


async def launch_to(storage: Storage, recipients: int) -> int:
    await seed_recipients(storage, recipients)
    return (await launch(storage)).invitation_id


async def test_what_a_dead_instance_was_sending_is_sent_by_the_others(
    shared_database: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(invitation_storage, "RECLAIM_EVERY", 0.0)  # look at every claim
    survivor = await open_test_storage(shared_database)
    crashed = await open_test_storage(shared_database)
    try:
        await launch_to(survivor, 10)
        now = datetime.now(UTC)
        taken = await crashed.invitations.claim_deliveries(now, 4)
        others = await survivor.invitations.claim_deliveries(now, 100)
        assert len(taken) == 4 and len(others) == 6  # disjoint: SKIP LOCKED, then state
        await crashed.close()  # kill -9 before any of its 4 was sent
        again = await survivor.invitations.claim_deliveries(datetime.now(UTC), 100)
        assert sorted(d.user_id for d in again) == sorted(d.user_id for d in taken)
    finally:
        await survivor.close()


async def test_each_reminder_is_claimed_by_one_instance_only(shared_database: str):
    storages = [await open_test_storage(shared_database) for _ in range(3)]
    try:
        invitation_id = await launch_to(storages[0], 60)
        now = datetime.now(UTC)
        rsvps = storages[0].invitations
        due = now - timedelta(minutes=1)
        for user_id in range(5_000_000, 5_000_060):
            await rsvps.save_rsvp(invitation_id, user_id, Rsvp.ATTENDING, due, now)

        async def claim_all(storage: Storage) -> list[int]:
            claimed, invitations = [], storage.invitations
            while (row := await invitations.claim_reminder(datetime.now(UTC))) is not None:
                claimed.append(row.user_id)
            return claimed

        shares = await asyncio.gather(*(claim_all(storage) for storage in storages))
        everyone = [user_id for share in shares for user_id in share]
        assert sorted(everyone) == list(range(5_000_000, 5_000_060))
        assert sum(1 for share in shares if share) >= 2  # really shared
    finally:
        for storage in storages:
            await storage.close()
