"""The catalog of published surveys on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.survey.document import document
from storage import Storage
from tests.e2e import SHIPPED_SURVEY
from tests.wiring import open_test_storage

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def test_instances_starting_together_publish_their_file_once(database: str):
    """Regression: two instances starting at once both inserted the file's survey; the
    second hit the unique index and stopped, leaving one instance to do all the work."""
    first, second = await open_test_storage(database), await open_test_storage(database)
    try:
        shipped = document(SHIPPED_SURVEY)
        published = await asyncio.gather(
            first.surveys.publish_directly(shipped, "a.yaml", NOW),
            second.surveys.publish_directly(shipped, "b.yaml", NOW),
        )
        assert sorted(published) == [False, True]
        assert await first.surveys.publish_directly(shipped, "a.yaml", NOW) is False
        assert len(await first.surveys.versions()) == 1
    finally:
        await first.close()
        await second.close()


async def test_an_upload_is_published_or_cancelled_once(storage: Storage):
    catalog = storage.surveys
    await catalog.publish_directly(document(SHIPPED_SURVEY), "shipped.yaml", NOW)
    shipped = SHIPPED_SURVEY.version
    later = {**document(SHIPPED_SURVEY), "version": shipped + 1}
    upload = await catalog.add_upload(later, "v2.yaml", 900_001, NOW)
    pending = await catalog.pending_upload(upload)
    assert pending is not None and pending.document == later
    assert await catalog.active_document() == document(SHIPPED_SURVEY)  # not yet
    await catalog.publish(upload, NOW.replace(hour=10))
    assert await catalog.pending_upload(upload) is None
    assert await catalog.active_document() == later
    assert await catalog.document(SHIPPED_SURVEY.id, shipped) == document(SHIPPED_SURVEY)
    newer = {**later, "version": shipped + 2}
    cancelled = await catalog.add_upload(newer, "v3.yaml", 900_001, NOW)
    await catalog.cancel(cancelled)
    assert await catalog.pending_upload(cancelled) is None
    assert [(v.version, v.file_name) for v in await catalog.versions()] == [
        (shipped + 1, "v2.yaml"),
        (shipped, "shipped.yaml"),
    ]
