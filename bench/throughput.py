"""Throughput, latency and memory of Hiwar against a bare PTB bot, in one run.

    .venv/bin/python bench/throughput.py [--respondents 500] [--memory-respondents 10000]

Both bots run as their own process polling the same kind of local fake Bot API (this process
hosts the API and the simulated people). Phase 1: N respondents complete the shipped survey
at the same time through Hiwar. Phase 2: N people send the same number of messages to the
bare bot, which only replies. Phase 3: 10,000 respondents each stop in the middle of the
survey, and the peak memory of Hiwar's process is read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.demo import make_personas, moved_past, take_part
from bot.i18n import _, use_language
from bot.simulator import BotAction, FakeBotApi, SimulatedUser
from bot.survey.loader import DEFAULT_SURVEY_PATH, load_survey
from handlers.views import LANGUAGE_NAMES

ROOT = Path(__file__).resolve().parent.parent
SURVEY = load_survey(DEFAULT_SURVEY_PATH)


@dataclass
class Result:
    name: str
    updates: int
    seconds: float
    latencies_ms: list[float]
    peak_rss_mb: float
    bot_cpu: float
    """CPU seconds the bot's process used."""
    driver_cpu: float
    """CPU seconds this process (fake Bot API and simulated people) used."""

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def percentile(self, share: int) -> float:
        return statistics.quantiles(self.latencies_ms, n=100)[share - 1]


class BotProcess:
    def __init__(self, command: list[str], api: FakeBotApi, workdir: Path) -> None:
        self.command = command
        self.env = {
            **os.environ,
            "HIWAR_BOT_TOKEN": api.token,
            "HIWAR_API_BASE_URL": api.base_url,
            "HIWAR_DB_PATH": str(workdir / "bench.sqlite3"),
        }
        self.workdir = workdir
        self.api = api
        self.process: asyncio.subprocess.Process | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    async def __aenter__(self) -> BotProcess:
        polls = self.api.requests["getUpdates"]
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            cwd=self.workdir,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(60):
            while self.api.requests["getUpdates"] <= polls:
                await asyncio.sleep(0.05)
        return self

    def peak_rss_mb(self) -> float:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kilobytes = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")
        )
        return kilobytes / 1024

    def cpu_seconds(self) -> float:
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.process is not None
        self.process.terminate()
        await self.process.wait()


REPLIES = frozenset({"sendMessage", "editMessageText"})


def latencies(api: FakeBotApi, since: int) -> list[float]:
    """Per update: from being available to the bot to the bot's reply, its next new or edited
    message in that chat before the person's next update."""
    pushes: dict[int, list[float]] = {}
    for _update_id, chat_id, pushed_at in api.pushed[since:]:
        if chat_id is not None:
            pushes.setdefault(chat_id, []).append(pushed_at)
    result = []
    for chat_id, times in pushes.items():
        replies = [a.timestamp for a in api.chat(chat_id).actions if a.method in REPLIES]
        for pushed_at, next_push in zip(times, [*times[1:], float("inf")], strict=True):
            reply = next((t for t in replies if pushed_at <= t < next_push), None)
            if reply is not None:
                result.append((reply - pushed_at) * 1000)
    return result


async def crowd(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def limited(index: int) -> None:
        async with gate:
            await one(index)

    await asyncio.gather(*(limited(i) for i in range(count)))


async def measure(
    name: str,
    api: FakeBotApi,
    bot: BotProcess | FleetProcesses,
    count: int,
    concurrency: int,
    one: Callable[[int], Awaitable[None]],
) -> Result:
    since = len(api.pushed)
    started, bot_cpu, own_cpu = time.perf_counter(), bot.cpu_seconds(), time.process_time()
    await crowd(count, concurrency, one)
    seconds = time.perf_counter() - started
    return Result(
        name,
        len(api.pushed) - since,
        seconds,
        latencies(api, since),
        bot.peak_rss_mb(),
        bot.cpu_seconds() - bot_cpu,
        time.process_time() - own_cpu,
    )


def _any_message(actions: list[BotAction]) -> bool:
    return any(a.method == "sendMessage" for a in actions)


async def hiwar_phase(api: FakeBotApi, workdir: Path, respondents: int, concurrency: int) -> Result:
    personas = make_personas(SURVEY, respondents, random.Random(1))
    async with BotProcess([sys.executable, "-m", "bot.cli", "run"], api, workdir) as bot:

        async def one(index: int) -> None:
            persona = personas[index]
            await take_part(api, SURVEY, persona, random.Random(persona.user_id))

        return await measure("Hiwar", api, bot, respondents, concurrency, one)


class FleetProcesses:
    """The instances of a fleet measured as one bot: CPU and peak memory summed."""

    def __init__(self, members: list[BotProcess]) -> None:
        self.members = members

    def cpu_seconds(self) -> float:
        return sum(m.cpu_seconds() for m in self.members)

    def peak_rss_mb(self) -> float:
        return sum(m.peak_rss_mb() for m in self.members)


async def fleet_phase(
    api: FakeBotApi, workdir: Path, respondents: int, concurrency: int, instances: int
) -> Result:
    """Hiwar on PostgreSQL: `instances` webhook processes behind a round-robin balancer."""
    sys.path.insert(0, str(ROOT))  # tests/ is not installed: run as a script, find it here
    from tests.fleet import fleet
    from tests.pgcluster import temporary_database

    personas = make_personas(SURVEY, respondents, random.Random(1))
    workdir.mkdir(parents=True, exist_ok=True)
    async with (
        temporary_database() as url,
        fleet(api, url, instances=instances, workdir=workdir) as running,
    ):
        members = []
        for instance in running.instances:
            member = BotProcess([], api, workdir)
            member.process = instance.process
            members.append(member)

        async def one(index: int) -> None:
            persona = personas[index]
            await take_part(api, SURVEY, persona, random.Random(persona.user_id))

        return await measure(
            f"Hiwar, PostgreSQL x{instances}", api, FleetProcesses(members), respondents,
            concurrency, one,
        )


async def paced_phase(api: FakeBotApi, workdir: Path, respondents: int, think: float) -> Result:
    """Latency when the bot is not saturated: people pause `think` seconds on average."""
    personas = make_personas(SURVEY, respondents, random.Random(2))
    async with BotProcess([sys.executable, "-m", "bot.cli", "run"], api, workdir) as bot:

        async def one(index: int) -> None:
            persona = personas[index]
            rng = random.Random(persona.user_id)
            await asyncio.sleep(rng.random() * think)
            await take_part(api, SURVEY, persona, rng, think=lambda: rng.expovariate(1 / think))

        return await measure(f"Hiwar, {think:g} s pauses", api, bot, respondents, respondents, one)


async def bare_phase(
    api: FakeBotApi, workdir: Path, people: int, messages_each: int, concurrency: int
) -> Result:
    async with BotProcess(
        [sys.executable, str(ROOT / "bench" / "bare_bot.py")], api, workdir
    ) as bot:

        async def one(index: int) -> None:
            user = api.make_user(900_000 + index, "Bare")
            for number in range(messages_each):
                await user.send_text(f"message {number}", until=_any_message)

        return await measure("bare PTB", api, bot, people, concurrency, one)


async def memory_phase(
    api: FakeBotApi, workdir: Path, respondents: int, concurrency: int
) -> Result:
    """Respondents who stop after the first answers: all of them are mid-survey at the end."""
    async with BotProcess([sys.executable, "-m", "bot.cli", "run"], api, workdir) as bot:

        async def one(index: int) -> None:
            user: SimulatedUser = api.make_user(500_000 + index, "Mid", "ar" if index % 2 else "en")
            language = user.language_code or "en"
            await user.send_command("/start", until=_any_message)
            await user.tap(LANGUAGE_NAMES[language], until=_any_message)
            with use_language(language):
                await user.tap(_("I agree"), until=_any_message)
            await user.tap("A:sector:civil_society", until=moved_past("sector"))

        return await measure("Hiwar, mid-survey", api, bot, respondents, concurrency, one)


def report(hiwar: Result, bare: Result, paced: Result, memory: Result) -> None:
    print(
        f"{'':20}{'updates':>8}{'seconds':>8}{'upd/s':>8}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'p99 ms':>8}{'peak MB':>8}{'bot CPU':>8}{'drv CPU':>8}"
    )
    for r in (hiwar, bare, paced, memory):
        print(
            f"{r.name:20}{r.updates:>8}{r.seconds:>8.1f}{r.rate:>8.1f}{r.percentile(50):>8.1f}"
            f"{r.percentile(95):>8.1f}{r.percentile(99):>8.1f}{r.peak_rss_mb:>8.1f}"
            f"{r.bot_cpu:>8.1f}{r.driver_cpu:>8.1f}"
        )
    print(f"\nHiwar / bare throughput: {hiwar.rate / bare.rate:.2f} (target ≥ 0.5)")
    print(
        f"Hiwar p95: {paced.percentile(95):.1f} ms with pauses, {hiwar.percentile(95):.1f} ms "
        "saturated (target < 100 ms)"
    )
    print(
        f"Peak memory with {memory.updates // 4} respondents mid-survey: "
        f"{memory.peak_rss_mb:.0f} MB (target < 200 MB)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=500)
    parser.add_argument("--memory-respondents", type=int, default=10_000)
    parser.add_argument("--paced-respondents", type=int, default=100)
    parser.add_argument(
        "--database", choices=("sqlite", "postgres"), default="sqlite",
        help="postgres: only the saturated run, on a throwaway server",
    )
    parser.add_argument(
        "--instances", type=int, default=1,
        help="with --database postgres: webhook instances behind a round-robin balancer",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=3.0,
        help="mean pause between a paced respondent's answers, seconds",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=500,
        help="simulated people acting at the same time (default: all of them)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        if args.database == "postgres":
            async with FakeBotApi(token="781:BENCH") as api:
                api.reply_timeout = 300
                api.quiet = 0.0
                result = await fleet_phase(
                    api, workdir / "pg", args.respondents, args.concurrency, args.instances
                )
            print(
                f"{result.name}: {result.rate:.1f} updates/s, p50 {result.percentile(50):.0f} "
                f"ms, p95 {result.percentile(95):.0f} ms, p99 {result.percentile(99):.0f} ms, "
                f"bot CPU {result.bot_cpu:.1f} s, peak memory {result.peak_rss_mb:.0f} MB"
            )
            return
        async with FakeBotApi(token="777:BENCH") as api:
            api.reply_timeout = 300
            api.quiet = 0.0
            hiwar = await hiwar_phase(api, workdir / "h", args.respondents, args.concurrency)
            print(
                f"Hiwar: {hiwar.updates} updates from {args.respondents} respondents "
                f"in {hiwar.seconds:.1f} s"
            )
        per_person = max(1, round(hiwar.updates / args.respondents))
        async with FakeBotApi(token="778:BENCH") as api:
            api.reply_timeout = 300
            api.quiet = 0.0
            bare = await bare_phase(
                api, workdir / "b", args.respondents, per_person, args.concurrency
            )
        async with FakeBotApi(token="780:BENCH") as api:
            api.reply_timeout = 300
            api.quiet = 0.0
            paced = await paced_phase(api, workdir / "p", args.paced_respondents, args.think)
        async with FakeBotApi(token="779:BENCH") as api:
            api.reply_timeout = 600
            api.quiet = 0.0
            memory = await memory_phase(
                api, workdir / "m", args.memory_respondents, args.concurrency
            )
    report(hiwar, bare, paced, memory)


if __name__ == "__main__":
    asyncio.run(main())
