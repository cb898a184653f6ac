"""Throughput, latency, CPU and memory of Hiwar against a bare PTB bot, side by side in one run.

    .venv/bin/python bench/throughput.py [--respondents 100,500] [--memory-respondents 10000]

For each respondent count N (default 100 and 500, everyone acting at once):

1. Hiwar: N simulated respondents complete the shipped survey at the same time. What each
   person sends (typed texts, button taps, in order) is recorded, and so are the cards
   (question text and inline keyboard) Hiwar shows.
2. bare PTB (bench/bare_bot.py): N people replay exactly those scripts against a bot that
   makes the same Bot API calls per update as Hiwar and nothing else: a tap is answered by
   editing the tapped message into the next card and answering the callback query, a typed
   text by sending one card as a new message (as Hiwar sends the next question after a
   typed answer). Its cards are Hiwar's own, so request and response sizes match; the
   "calls/upd" column and the card-size line check that the two workloads are alike.
   The bare bot runs twice: on PTB's default HTTP transport (httpx: a stock PTB bot) and on
   the aiohttp transport Hiwar uses (bot/http.py). httpx costs several times the CPU per Bot
   API call of aiohttp, so against stock PTB the ratios mostly compare HTTP libraries; the
   aiohttp run is the like-for-like baseline, and its ratios are what Hiwar's own work costs.

Then, once: Hiwar at a human pace (respondents pausing --think seconds between answers; its
p95 is the latency people would feel), and 10,000 respondents who each stop in the middle of
the survey, for the peak memory of Hiwar's process.

Where the CPU goes. Each bot runs as its own process (`bot.cli run`, or bench/bare_bot.py),
polling a local fake Bot API that runs in this benchmark's process together with the simulated
people. "CPU ms/upd" is the bot process's own CPU time (user + system, all its threads, from
/proc/<pid>/stat; the database work of SQLite is in it, a PostgreSQL server's is not) over
the measured phase only (sampled once the bot polls, so start-up is excluded), divided by the
updates it handled. The fake Bot API's and simulated people's CPU is this process's
(`time.process_time`), shown apart as "drv CPU s"; on a shared 2-core machine it competes
with the bot for the cores, so compare ratios within one run rather than across runs.
/proc counts CPU in clock ticks (10 ms), far below the seconds a phase takes.

Updates/s, p50/p95/p99 are saturated figures: everyone answers as soon as the previous reply
arrives, so latency is mostly queueing. Latency of an update is from its being made available
to the bot to the bot's reply (new or edited message) in that chat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.i18n import _, use_language
from bot.demo import make_personas, moved_past, take_part
from bot.simulator import BotAction, FakeBotApi, SimulatedUser, keyboard_rows
from bot.survey.loader import DEFAULT_SURVEY_PATH, load_survey
from bot.survey.views import LANGUAGE_NAMES

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
    calls: int
    """Bot API calls the bot made (getUpdates and start-up calls not counted)."""
    card_chars: float
    """Mean length of the text of the bot's replies that carry an inline keyboard."""
    card_buttons: float
    """Mean number of buttons on those replies."""
    failed_calls: int
    """Bot API calls the fake API refused (a bot that fails its calls does less work)."""

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_ms_per_update(self) -> float:
        return self.bot_cpu * 1000 / self.updates

    @property
    def calls_per_update(self) -> float:
        return self.calls / self.updates

    def percentile(self, share: int) -> float:
        return statistics.quantiles(self.latencies_ms, n=100)[share - 1]


class BotProcess:
    def __init__(
        self,
        command: list[str],
        api: FakeBotApi,
        workdir: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.command = command
        self.env = {
            **os.environ,
            "HIWAR_BOT_TOKEN": api.token,
            "HIWAR_API_BASE_URL": api.base_url,
            "HIWAR_DB_PATH": str(workdir / "bench.sqlite3"),
            **(env or {}),
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
NOT_PER_UPDATE = frozenset({"getUpdates", "getMe", "setMyCommands", "deleteWebhook", "setWebhook"})
"""Bot API methods that are not a reaction to an update."""

Step = tuple[str, str | None]
"""What a person sent: ("text", the text) or ("tap", None)."""


class RecordingApi(FakeBotApi):
    """The fake Bot API, also noting what each simulated person sent, in order, per chat."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scripts: dict[int, list[Step]] = {}

    async def exchange(self, payload: dict[str, Any], **kwargs: Any) -> list[BotAction]:
        if "callback_query" in payload:
            chat_id, step = payload["callback_query"]["message"]["chat"]["id"], ("tap", None)
        else:
            message = payload["message"]
            chat_id, step = message["chat"]["id"], ("text", message.get("text"))
        self.scripts.setdefault(chat_id, []).append(step)
        return await super().exchange(payload, **kwargs)


def cards_shown(actions: list[BotAction]) -> list[BotAction]:
    """The bot's new or edited messages that carry an inline keyboard."""
    return [a for a in actions if a.method in REPLIES and a.text and keyboard_rows(a.reply_markup)]


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
    since, actions_since, requests = len(api.pushed), len(api.actions), Counter(api.requests)
    errors_since = len(api.errors)
    started, bot_cpu, own_cpu = time.perf_counter(), bot.cpu_seconds(), time.process_time()
    await crowd(count, concurrency, one)
    seconds = time.perf_counter() - started
    bot_cpu, own_cpu = bot.cpu_seconds() - bot_cpu, time.process_time() - own_cpu
    made = api.requests - requests
    calls = sum(count for method, count in made.items() if method not in NOT_PER_UPDATE)
    cards = cards_shown(api.actions[actions_since:])
    return Result(
        name,
        len(api.pushed) - since,
        seconds,
        latencies(api, since),
        bot.peak_rss_mb(),
        bot_cpu,
        own_cpu,
        calls,
        statistics.fmean(len(a.text or "") for a in cards) if cards else 0.0,
        statistics.fmean(sum(map(len, keyboard_rows(a.reply_markup))) for a in cards)
        if cards
        else 0.0,
        len(api.errors) - errors_since,
    )


def _any_message(actions: list[BotAction]) -> bool:
    return any(a.method == "sendMessage" for a in actions)


async def hiwar_phase(
    api: FakeBotApi, workdir: Path, respondents: int, concurrency: int, synchronous: str = "full"
) -> Result:
    personas = make_personas(SURVEY, respondents, random.Random(1))
    database = f"sqlite:///{workdir / 'bench.sqlite3'}?synchronous={synchronous}"
    env = {"HIWAR_DATABASE_URL": database, "HIWAR_DB_PATH": ""}
    command = [sys.executable, "-m", "bot.cli", "run"]
    async with BotProcess(command, api, workdir, env) as bot:

        async def one(index: int) -> None:
            persona = personas[index]
            await take_part(api, SURVEY, persona, random.Random(persona.user_id))

        name = f"Hiwar, {respondents} at once" + ("" if synchronous == "full" else ", NORMAL")
        return await measure(name, api, bot, respondents, concurrency, one)


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

        return await measure(
            f"Hiwar, {respondents} pausing {think:g} s", api, bot, respondents, respondents, one
        )


def _edited(actions: list[BotAction]) -> bool:
    return any(a.method == "editMessageText" for a in actions)


def write_cards(actions: list[BotAction], path: Path) -> Path:
    """Hiwar's distinct cards (HTML text and keyboard), for the bare bot to show."""
    cards: dict[str, list[list[tuple[str, str]]]] = {}
    for action in cards_shown(actions):
        cards.setdefault(action.text or "", keyboard_rows(action.reply_markup))
    path.write_text(
        json.dumps([{"text": text, "rows": rows} for text, rows in cards.items()]),
        encoding="utf-8",
    )
    return path


async def bare_phase(
    api: FakeBotApi,
    workdir: Path,
    scripts: list[list[Step]],
    cards: Path,
    concurrency: int,
    http: str,
) -> Result:
    """People replay the Hiwar respondents' scripts: the same texts, and a tap wherever one of
    them tapped (on a button of the newest card, each waiting for the edit, as Hiwar's
    respondents wait for the card to turn into the next question)."""
    env = {"HIWAR_BENCH_CARDS": str(cards), "HIWAR_BENCH_HTTP": http}
    async with BotProcess(
        [sys.executable, str(ROOT / "bench" / "bare_bot.py")], api, workdir, env
    ) as bot:

        async def one(index: int) -> None:
            user = api.make_user(900_000 + index, "Bare")
            rng = random.Random(index)
            for kind, text in scripts[index]:
                if kind == "tap":
                    buttons = [data for row in user.buttons() for _label, data in row]
                    await user.tap(rng.choice(buttons), until=_edited)
                else:
                    await user.send_text(text or "…", until=_any_message)

        return await measure(
            f"bare PTB {http}, {len(scripts)} at once", api, bot, len(scripts), concurrency, one
        )


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

        return await measure(
            f"Hiwar, {respondents} mid-survey", api, bot, respondents, concurrency, one
        )


COLUMNS = (
    f"{'':30}{'updates':>8}{'seconds':>8}{'upd/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
    f"{'CPU ms/upd':>11}{'calls/upd':>10}{'peak MB':>8}{'bot CPU s':>10}{'drv CPU s':>10}"
)


def row(r: Result) -> str:
    refused = f"  ({r.failed_calls} Bot API calls refused)" if r.failed_calls else ""
    return (
        f"{r.name:30}{r.updates:>8}{r.seconds:>8.1f}{r.rate:>8.1f}{r.percentile(50):>8.1f}"
        f"{r.percentile(95):>8.1f}{r.percentile(99):>8.1f}{r.cpu_ms_per_update:>11.2f}"
        f"{r.calls_per_update:>10.2f}{r.peak_rss_mb:>8.1f}{r.bot_cpu:>10.1f}{r.driver_cpu:>10.1f}"
        + refused
    )


def report(
    runs: list[tuple[int, Result, list[tuple[str, Result]]]],
    paced: Result | None,
    memory: Result | None,
    durable: Result | None = None,
) -> None:
    """The ratios of each side-by-side run, and the human-pace and memory figures."""
    print("\nHiwar / bare PTB, the same updates side by side (throughput target ≥ 0.8):")
    print(
        f"{'respondents':>12}  {'bare on':<9}{'upd/s':>7}{'p50':>7}{'p95':>7}{'CPU/upd':>9}"
        f"{'Hiwar CPU/upd':>15}{'bare CPU/upd':>14}"
    )
    for respondents, hiwar, bares in runs:
        for transport, bare in bares:
            print(
                f"{respondents:>12}  {transport:<9}{hiwar.rate / bare.rate:>7.2f}"
                f"{hiwar.percentile(50) / bare.percentile(50):>7.2f}"
                f"{hiwar.percentile(95) / bare.percentile(95):>7.2f}"
                f"{hiwar.cpu_ms_per_update / bare.cpu_ms_per_update:>9.2f}"
                f"{hiwar.cpu_ms_per_update:>12.2f} ms{bare.cpu_ms_per_update:>11.2f} ms"
            )
    _respondents, hiwar, bares = runs[-1]
    if bares:
        bare = bares[0][1]
        print(
            f"Same work per update: Hiwar {hiwar.calls_per_update:.2f} Bot API calls, cards of "
            f"{hiwar.card_chars:.0f} characters and {hiwar.card_buttons:.1f} buttons on average; "
            f"bare PTB {bare.calls_per_update:.2f} calls, {bare.card_chars:.0f} characters and "
            f"{bare.card_buttons:.1f} buttons"
        )
    if paced is not None:
        print(
            f"Hiwar p95 at a human pace: {paced.percentile(95):.1f} ms "
            f"(p50 {paced.percentile(50):.1f} ms; target < 50 ms); saturated: "
            + ", ".join(f"{h.percentile(95):.0f} ms at {n}" for n, h, _bares in runs)
        )
    if durable is not None:
        full = runs[0][1]
        print(
            f"synchronous=FULL (answers survive a power cut) against NORMAL, {runs[0][0]} at "
            f"once: {full.rate:.1f} against {durable.rate:.1f} updates/s (ratio "
            f"{full.rate / durable.rate:.2f}), p95 {full.percentile(95):.0f} against "
            f"{durable.percentile(95):.0f} ms"
        )
    if memory is not None:
        print(
            f"Peak memory with {memory.updates // 4} respondents mid-survey: "
            f"{memory.peak_rss_mb:.0f} MB (target < 200 MB)"
        )


TRANSPORTS = ("httpx", "aiohttp")


def transport_list(value: str) -> list[str]:
    chosen = [part.strip() for part in value.split(",") if part.strip()]
    if not chosen or not set(chosen) <= set(TRANSPORTS):
        raise argparse.ArgumentTypeError(f"choose from {', '.join(TRANSPORTS)}: {value!r}")
    return chosen


def respondent_counts(value: str) -> list[int]:
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {value!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"need at least one positive number: {value!r}")
    return counts


def for_benchmark(api: FakeBotApi, reply_timeout: float = 300) -> FakeBotApi:
    """Patient simulated people, who act again as soon as the bot has replied."""
    api.reply_timeout = reply_timeout
    api.quiet = 0.0
    return api


async def side_by_side(
    workdir: Path, respondents: int, concurrency: int, transports: list[str]
) -> tuple[int, Result, list[tuple[str, Result]]]:
    """Hiwar with `respondents` at once, then the bare bot (on each HTTP transport) replaying
    what they sent."""
    async with RecordingApi(token="777:BENCH") as api:
        for_benchmark(api)
        hiwar = await hiwar_phase(api, workdir / "h", respondents, concurrency)
        print(row(hiwar), flush=True)
        scripts = [api.scripts[chat_id] for chat_id in sorted(api.scripts)]
        cards = write_cards(api.actions, workdir / "cards.json")
    bares = []
    for http in transports:
        async with for_benchmark(FakeBotApi(token="778:BENCH")) as api:
            bare = await bare_phase(api, workdir / http, scripts, cards, concurrency, http)
            print(row(bare), flush=True)
        bares.append((http, bare))
    return respondents, hiwar, bares


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--respondents",
        type=respondent_counts,
        default=[100, 500],
        help="respondents acting at once, one side-by-side run each (default: 100,500)",
    )
    parser.add_argument("--memory-respondents", type=int, default=10_000,
                        help="0 skips the memory run")
    parser.add_argument("--paced-respondents", type=int, default=100,
                        help="0 skips the human-pace run")
    parser.add_argument(
        "--database", choices=("sqlite", "postgres"), default="sqlite",
        help="postgres: only the saturated Hiwar runs, on a throwaway server",
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
        help="at most this many simulated people acting at the same time",
    )
    parser.add_argument(
        "--bare-http",
        type=transport_list,
        default=list(TRANSPORTS),
        help="the bare bot's HTTP transports, one bare run each: PTB's default (httpx) and "
        "Hiwar's (aiohttp, bot/http.py); default: httpx,aiohttp",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        if args.database == "postgres":
            for respondents in args.respondents:
                async with for_benchmark(FakeBotApi(token="781:BENCH")) as api:
                    result = await fleet_phase(
                        api, workdir / f"pg{respondents}", respondents, args.concurrency,
                        args.instances,
                    )
                print(
                    f"{result.name}, {respondents} at once: {result.rate:.1f} updates/s, "
                    f"p50 {result.percentile(50):.0f} ms, p95 {result.percentile(95):.0f} ms, "
                    f"p99 {result.percentile(99):.0f} ms, {result.cpu_ms_per_update:.2f} CPU ms "
                    f"per update (bot CPU {result.bot_cpu:.1f} s), peak memory "
                    f"{result.peak_rss_mb:.0f} MB",
                    flush=True,
                )
            return
        print(COLUMNS, flush=True)
        runs = [
            await side_by_side(workdir / str(n), n, args.concurrency, args.bare_http)
            for n in args.respondents
        ]
        paced = memory = durable = None
        if args.respondents:  # what synchronous=FULL costs, against NORMAL, side by side
            async with for_benchmark(RecordingApi(token="782:BENCH")) as api:
                durable = await hiwar_phase(
                    api, workdir / "normal", args.respondents[0], args.concurrency, "normal"
                )
                print(row(durable), flush=True)
        if args.paced_respondents:
            async with for_benchmark(FakeBotApi(token="780:BENCH")) as api:
                paced = await paced_phase(api, workdir / "p", args.paced_respondents, args.think)
                print(row(paced), flush=True)
        if args.memory_respondents:
            async with for_benchmark(FakeBotApi(token="779:BENCH"), 600) as api:
                memory = await memory_phase(
                    api, workdir / "m", args.memory_respondents, args.concurrency
                )
                print(row(memory), flush=True)
    report(runs, paced, memory, durable)


if __name__ == "__main__":
    asyncio.run(main())
