"""Broadcast benchmark: one invitation to 10,000 recipients through the local fake Bot API.

The fake API enforces the same rate limit the bot is configured with (a 429 for any message
over the limit within a sliding second), answers a few chosen sends with an injected 429 and
some recipients with 403 (they blocked the bot). Reports the achieved rate as a share of the
limit while the bot was allowed to send (target: at least 95%; the seconds a 429 told it to
wait are reported separately), duplicates (must be 0) and losses (must be 0).

    .venv/bin/python bench/broadcast_bench.py                 # 10,000 at 100/s, ~2 minutes
    .venv/bin/python bench/broadcast_bench.py --rate 25 --recipients 1000

The bot runs as in production (`hiwar run`, in its own process, so that the fake API and the
bot do not share one CPU core); the recipients are stored through the survey's storage API
first (timed separately). The default rate is what python-telegram-bot's HTTP client and the
fake API sustain together on a small machine (about 8 ms of CPU per message between them);
above that the machine, not the rate limit, sets the pace. Exit status 1 when a target is
missed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.i18n import DEFAULT_LANGUAGE
from bot.simulator import FakeBotApi, SimulatedUser
from bot.survey.loader import DEFAULT_SURVEY_PATH, load_survey
from bot.survey.model import ReportRole, Survey
from storage import open_storage

ADMIN = 900_001
FIRST_RECIPIENT = 5_000_000


async def seed(db_path: Path, survey: Survey, recipients: int) -> None:
    """Respondents who asked for invitations, half in Arabic, half in English."""
    invitations = survey.with_role(ReportRole.INVITATIONS)[0]
    yes = next(o.id for o in invitations.options if o.opt_in)
    storage = await open_storage(db_path, default_language=DEFAULT_LANGUAGE)
    respondents = storage.respondents
    now = datetime.now(UTC)
    try:
        for index in range(recipients):
            user_id = FIRST_RECIPIENT + index
            await respondents.save_language(user_id, "ar" if index % 2 else "en", now)
            progress = await respondents.start_progress(
                user_id, survey.id, survey.version, invitations.id, now
            )
            await respondents.save_answer(progress.response_id, invitations.id, yes, None, now)
    finally:
        await storage.close()


async def invite(admin: SimulatedUser) -> None:
    """The admin's /invite wizard, up to the preview."""
    starts = datetime.now(UTC) + timedelta(days=7)
    await admin.send_command("/invite")
    for text in (
        "ورشة قياس الأداء",
        "Benchmark workshop",
        "لقاء لقياس سرعة الإرسال.",
        "A meeting to measure sending speed.",
        "UTC",
        starts.strftime("%Y-%m-%d 10:00"),
        "90",
        "https://meet.example.org/bench",
    ):
        await admin.send_text(text)
    await admin.tap("Preview", until=lambda actions: len(actions) >= 4)


def final_report(admin: SimulatedUser) -> str | None:
    return next((a.text for a in admin.messages if a.text and "Invitation sent" in a.text), None)


async def run(args: argparse.Namespace) -> int:
    survey = load_survey(DEFAULT_SURVEY_PATH)
    recipients = [FIRST_RECIPIENT + i for i in range(args.recipients)]
    blocked = set(recipients[7 :: max(1, args.recipients // args.blocked)][: args.blocked])
    throttled = [r for r in recipients[3::997] if r not in blocked][: args.retry_afters]

    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.sqlite3"
        started = time.monotonic()
        await seed(db_path, survey, args.recipients)
        print(f"stored {args.recipients:,} respondents in {time.monotonic() - started:.1f} s")

        async with FakeBotApi(auto_create_chats=True) as api:
            api.quiet = 0.05
            admin = api.make_user(ADMIN, "Admin", "en")
            bot = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                env={
                    **os.environ,
                    "HIWAR_BOT_TOKEN": api.token,
                    "HIWAR_API_BASE_URL": api.base_url,
                    "HIWAR_DB_PATH": str(db_path),
                    "HIWAR_ADMIN_IDS": str(ADMIN),
                    "HIWAR_BROADCAST_RATE": str(args.rate),
                },
            )
            try:
                async with asyncio.timeout(30):
                    while not api.requests["getUpdates"]:  # the bot is up and polling
                        await asyncio.sleep(0.1)
                await invite(admin)
                for chat_id in blocked:
                    api.block(chat_id)
                for chat_id in throttled:
                    api.fail_next(
                        "sendDocument", chat_id=chat_id, status=429, retry_after=args.retry_after
                    )
                api.rate_limit(args.rate)
                api.clear_records()
                await admin.tap("Send now")
                expected = args.recipients / args.rate + args.retry_afters * args.retry_after
                await api.wait_for(lambda: final_report(admin) is not None, timeout=expected * 3)
            finally:
                bot.send_signal(signal.SIGTERM)
                await bot.wait()

    return report(api, admin, args.rate, recipients, blocked)


def told_to_wait(api: FakeBotApi) -> float:
    """Seconds covered by 429 answers' retry_after (overlaps counted once)."""
    pauses = sorted(
        (e.timestamp, e.timestamp + float((e.description or "1").rsplit(" ", 1)[-1]))
        for e in api.errors
        if e.error_code == 429
    )
    total, covered_until = 0.0, 0.0
    for start, end in pauses:
        total += max(0.0, end - max(start, covered_until))
        covered_until = max(covered_until, end)
    return total


def report(
    api: FakeBotApi, admin: SimulatedUser, limit: int, recipients: list[int], blocked: set[int]
) -> int:
    sends = [a for a in api.actions if a.method == "sendDocument"]
    stamps = sorted(a.timestamp for a in sends)
    elapsed = stamps[-1] - stamps[0]
    waited = told_to_wait(api)
    copies = Counter(a.chat_id for a in sends)
    duplicates = sum(count - 1 for count in copies.values() if count > 1)
    lost = [r for r in recipients if r not in blocked and copies[r] == 0]
    rate = (len(stamps) - 1) / elapsed
    allowed_rate = (len(stamps) - 1) / (elapsed - waited)
    too_many = [e for e in api.errors if e.error_code == 429]
    print(f"limit {limit}/s: {len(sends):,} invitations in {elapsed:.1f} s = {rate:.1f}/s")
    print(
        f"429 answers: {len(too_many)} ({api.rate_limited} from the fake's own rate limit), "
        f"obeyed: {waited:.1f} s without sending"
    )
    print(
        f"achieved rate: {allowed_rate:.1f}/s = {allowed_rate / limit:.1%} of the limit while "
        f"allowed to send ({rate / limit:.1%} counting the waits)"
    )
    print(f"blocked (403): {sum(1 for e in api.errors if e.error_code == 403)} of {len(blocked)}")
    print(f"duplicates: {duplicates}")
    print(f"losses: {len(lost)}")
    print(f"admin's final report: {final_report(admin)!r}")
    return 0 if allowed_rate >= 0.95 * limit and duplicates == 0 and not lost else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=100, help="messages per second (default 100)")
    parser.add_argument("--blocked", type=int, default=50, help="recipients answering 403")
    parser.add_argument("--retry-afters", type=int, default=2, help="injected 429s")
    parser.add_argument("--retry-after", type=int, default=1, help="their retry_after, seconds")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
