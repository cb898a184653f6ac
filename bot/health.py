"""Is the bot serving? `hiwar health` and `/healthz` (HIWAR_HEALTH_PORT) answer it.

A running instance writes a heartbeat every `BEAT_EVERY` seconds, which proves the database
is writable, with the time it last heard from Telegram (a getUpdates answer), which proves
updates are flowing. Healthy: a heartbeat younger than `STALE`, from an instance that heard
from Telegram within `STALE` (webhook instances are not asked to: Telegram calls them).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from aiohttp import web

from bot.core.clock import Clock
from storage.instances import Instances

BEAT_EVERY = timedelta(seconds=10)
STALE = timedelta(seconds=45)


@dataclass(frozen=True, slots=True)
class Health:
    healthy: bool
    reason: str
    heartbeat_age_s: float | None = None
    telegram_age_s: float | None = None

    def json(self) -> str:
        return json.dumps(asdict(self))


async def check(instances: Instances, now: datetime) -> Health:
    beat = await instances.latest_beat()
    if beat is None:
        return Health(False, "no instance has written a heartbeat")
    heartbeat, heard = beat
    beat_age = (now - heartbeat).total_seconds()
    heard_age = (now - heard).total_seconds() if heard is not None else None
    if now - heartbeat > STALE:
        return Health(False, "no recent heartbeat: the bot is down or cannot write", beat_age)
    if heard is not None and now - heard > STALE:
        return Health(False, "nothing heard from Telegram recently", beat_age, heard_age)
    return Health(True, "serving", beat_age, heard_age)


async def serve(instances: Instances, clock: Clock, port: int) -> web.AppRunner:
    """GET /healthz on `port`: 200 with the check as JSON when healthy, else 503."""

    async def healthz(_request: web.Request) -> web.Response:
        health = await check(instances, clock())
        status = 200 if health.healthy else 503
        return web.Response(text=health.json(), status=status, content_type="application/json")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    return runner
