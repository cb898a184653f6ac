"""Several `hiwar run` processes on one database, behind a round-robin load balancer, taking
webhook deliveries from the fake Bot API: a production deployment in miniature, for the
multi-instance tests and the throughput benchmark.

    async with FakeBotApi() as api, fleet(api, database_url, instances=2, workdir=tmp) as f:
        ...                      # simulated users talk to the bot as usual
        f.instances[0].kill()    # kill -9 one of them; the balancer retries on the others

`tests.pgcluster` starts a throwaway PostgreSQL server for `database_url`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.simulator import FakeBotApi

SECRET = "fleet-secret_0123456789"
WEBHOOK_PATH = "hiwar-hook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class BalancerStats:
    forwarded: int = 0
    retried: int = 0
    """Requests a backend failed (connection refused or reset, 5xx) and another one took."""
    duplicated: int = 0
    """Requests also sent to a second backend (as if a response had been lost)."""
    per_backend: dict[str, int] = field(default_factory=dict)


class RoundRobinBalancer:
    """A tiny HTTP load balancer: each request goes to the next backend in turn; when one
    fails it is retried on the next (nginx's `proxy_next_upstream`). With `duplicate_every=n`
    every n-th request is also delivered, at the same time, to another backend."""

    def __init__(self, backends: list[str], *, duplicate_every: int = 0) -> None:
        self.backends = backends
        self.duplicate_every = duplicate_every
        self.stats = BalancerStats()
        self.port = 0
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._extra: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{WEBHOOK_PATH}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def stop(self) -> None:
        for task in self._extra:
            task.cancel()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _post(self, backend: str, body: bytes, headers: Mapping[str, str]) -> int:
        assert self._session is not None
        async with self._session.post(backend, data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")
        }
        number = next(self._turn)
        first = number % len(self.backends)
        if self.duplicate_every and number % self.duplicate_every == 0 and len(self.backends) > 1:
            other = self.backends[(first + 1) % len(self.backends)]
            self.stats.duplicated += 1
            task = asyncio.create_task(self._quietly(other, body, headers))
            self._extra.add(task)
            task.add_done_callback(self._extra.discard)
        for attempt in range(len(self.backends)):
            backend = self.backends[(first + attempt) % len(self.backends)]
            try:
                status = await self._post(backend, body, headers)
            except (aiohttp.ClientError, OSError, TimeoutError):
                status = 502
            if status < 500:
                self.stats.forwarded += 1
                self.stats.per_backend[backend] = self.stats.per_backend.get(backend, 0) + 1
                return web.Response(status=status)
            self.stats.retried += 1
        return web.Response(status=502)

    async def _quietly(self, backend: str, body: bytes, headers: Mapping[str, str]) -> None:
        with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
            await self._post(backend, body, headers)


class HiwarInstance:
    """`hiwar run` in webhook mode in its own process; its logs go to `log_path`."""

    def __init__(
        self,
        api: FakeBotApi,
        database_url: str,
        webhook_url: str,
        workdir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.api = api
        self.workdir = workdir
        self.log_path = workdir / f"hiwar-{self.port}.log"
        self.env = {
            **os.environ,
            "HIWAR_BOT_TOKEN": api.token,
            "HIWAR_API_BASE_URL": api.base_url,
            "HIWAR_DATABASE_URL": database_url,
            "HIWAR_WEBHOOK_URL": webhook_url,
            "HIWAR_WEBHOOK_SECRET": SECRET,
            "HIWAR_WEBHOOK_LISTEN": "127.0.0.1",
            "HIWAR_WEBHOOK_PORT": str(self.port),
            **(env or {}),
        }
        self.env.pop("HIWAR_DB_PATH", None)
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        """Where the balancer sends this instance's share of the updates."""
        return f"http://127.0.0.1:{self.port}/{WEBHOOK_PATH}"

    async def start(self, timeout: float = 60) -> None:
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run",
                cwd=self.workdir, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        async with asyncio.timeout(timeout):
            while True:  # ready once its webhook server accepts connections
                if self.process.returncode is not None:
                    raise RuntimeError(f"hiwar exited with {self.process.returncode}: {self.log}")
                with contextlib.suppress(OSError):
                    _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                    writer.close()
                    return
                await asyncio.sleep(0.05)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """kill -9: no clean-up at all."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self, timeout: float = 30) -> int:
        """SIGTERM (a clean stop) if it still runs; returns its exit status."""
        assert self.process is not None
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout)


@dataclass
class Fleet:
    balancer: RoundRobinBalancer
    instances: list[HiwarInstance]


@asynccontextmanager
async def fleet(
    api: FakeBotApi,
    database_url: str,
    *,
    instances: int,
    workdir: Path,
    duplicate_every: int = 0,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[Fleet]:
    """`instances` bot processes on one database behind one balancer, webhook mode."""
    balancer = RoundRobinBalancer([], duplicate_every=duplicate_every)
    await balancer.start()
    started: list[HiwarInstance] = []
    try:
        for _ in range(instances):
            instance = HiwarInstance(api, database_url, balancer.url, workdir, env)
            balancer.backends.append(instance.url)
            await instance.start()
            started.append(instance)
        yield Fleet(balancer, started)
    finally:
        for instance in started:
            with contextlib.suppress(Exception):
                await instance.stop()
        await balancer.stop()
