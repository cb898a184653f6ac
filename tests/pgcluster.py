"""A throwaway PostgreSQL server for tests and benchmarks: initdb into a temporary folder,
start it on a free 127.0.0.1 port, hand out fresh databases, stop it and delete everything.

Needs the server binaries (`initdb`, `pg_ctl`, `postgres`): Debian's `postgresql` package
(`/usr/lib/postgresql/<version>/bin`, installed by `.ci/run` when it runs as root), any
`pg_ctl` on PATH, or the folder named by HIWAR_PG_BIN. PostgreSQL refuses to run as root,
so as root the server runs as the `postgres` system user (or `nobody`) through `runuser`.

    python -m tests.pgcluster            # prints a postgresql:// URL; Ctrl-C stops it

Durability is traded for speed (fsync off): this is for data nobody needs tomorrow.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "hiwar"
_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/opt/homebrew/opt/postgresql*/bin")


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: HIWAR_PG_BIN, PATH, or the usual places
    (the newest version first)."""
    if configured := os.environ.get("HIWAR_PG_BIN"):
        return Path(configured) if (Path(configured) / "pg_ctl").exists() else None
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent

    def version(folder: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", str(folder))) or (0,)

    found = [
        folder
        for pattern in _SEARCH
        for folder in Path("/").glob(pattern.lstrip("/"))
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists()
    ]
    return max(found, key=version) if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_user() -> str | None:
    """Who runs the server when we are root (None: ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise ClusterUnavailable("running as root, and neither a postgres nor a nobody user exists")


@dataclass
class PgCluster:
    """A running throwaway server; `stop()` removes it."""

    bin_dir: Path
    root: Path
    port: int
    run_as: str | None
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin_dir / command[0]), *command[1:]]
        if self.run_as is not None:
            argv = ["runuser", "-u", self.run_as, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ClusterUnavailable(
                f"{command[0]} failed ({result.returncode}): {result.stderr.strip()} {tail}"
            )
        return result

    def _start_server(self) -> None:
        options = " ".join(
            (
                f"-p {self.port}",
                f"-k {self.socket_dir}",
                "-c listen_addresses=127.0.0.1",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=400",
                "-c shared_buffers=64MB",
            )
        )
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.root / "server.log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server at once and delete its files."""
        with contextlib.suppress(ClusterUnavailable, OSError):
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def new_database_name(self, prefix: str = "hiwar") -> str:
        return f"{prefix}_{os.getpid()}_{next(self._counter)}"


def start_cluster(parent: Path | None = None) -> PgCluster:
    """initdb and start a server on a free port. Raises ClusterUnavailable."""
    bin_dir = find_binaries()
    if bin_dir is None:
        raise ClusterUnavailable(
            "no PostgreSQL server binaries (initdb, pg_ctl) found: install the distribution's"
            " postgresql package (.ci/run does, as root), or set HIWAR_PG_BIN"
        )
    run_as = _server_user()
    root = Path(tempfile.mkdtemp(prefix="hiwar-pg-", dir=parent))
    cluster = PgCluster(bin_dir, root, 0, run_as)
    try:
        cluster.socket_dir.mkdir()
        if run_as is not None:
            owner = pwd.getpwnam(run_as)
            for path in (root, cluster.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            os.chmod(root, 0o755)  # the server user must reach its data folder
        cluster._run(
            "initdb", "-D", str(cluster.data_dir), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        for _attempt in range(3):  # the free port may be taken before the server binds it
            cluster.port = free_port()
            try:
                cluster._start_server()
                break
            except ClusterUnavailable:
                if _attempt == 2:
                    raise
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return cluster


async def create_database(cluster: PgCluster, name: str | None = None) -> str:
    """A new, empty database on the cluster; returns its URL."""
    import asyncpg

    name = name or cluster.new_database_name()
    admin = await asyncpg.connect(cluster.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await admin.close()
    return cluster.url(name)


async def drop_database(cluster: PgCluster, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(cluster.url())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def temporary_database(parent: Path | None = None) -> AsyncIterator[str]:
    """A throwaway server with one empty database `hiwar`; yields its URL (for benchmarks:
    `async with temporary_database() as url: async with fleet(api, url, instances=2, …)`)."""
    cluster = await asyncio.to_thread(start_cluster, parent)
    try:
        yield await create_database(cluster, "hiwar")
    finally:
        await asyncio.to_thread(cluster.stop)


def main() -> int:
    """Start a cluster with one database `hiwar`, print its URL, stop on Ctrl-C or SIGTERM."""
    try:
        cluster = start_cluster()
    except ClusterUnavailable as error:
        print(f"pgcluster: {error}", file=sys.stderr)
        return 2
    try:
        url = asyncio.run(create_database(cluster, "hiwar"))
        print(url, flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
