"""Summary benchmark: /summary over 100,000 completed responses of the shipped survey.

Builds a fresh SQLite database (bulk SQL inserts: setup, not measured), sets up the report
tallies the way the bot does at start-up (timed separately), then times on the same data:

- the plain SQL aggregation queries that a summary runs (profile cells, answer tallies,
  responses under way), and the same aggregation computed straight from the answers, which
  is what the tallies spare;
- publishing the first snapshot: reading the counted responses, every release decision,
  and each released group's view (done in the background when due, not per look);
- /summary end to end in the domain: role check and audit entry, reading the snapshot,
  rendering into Telegram messages (first call, which loads the views, and later calls);
- a filtered summary, first read by a fresh service (another instance) and later;
- /summary through the real handler, the bot polling the local fake Bot API.

    .venv/bin/python bench/summary_bench.py                  # 100,000 responses
    .venv/bin/python bench/summary_bench.py --responses 10000

Prints the timings and the ratio of the summary to the plain queries; target: the summary
well under one second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from bot.app import running_bot
from bot.config import Settings
from bot.core.access import Access, Actor
from bot.core.i18n import DEFAULT_LANGUAGE, use_language
from bot.core.text import split_message
from bot.reports import text
from bot.reports.model import Filter
from bot.reports.service import ReportService
from bot.simulator import FakeBotApi
from bot.survey.loader import DEFAULT_SURVEY_PATH, load_survey
from bot.survey.model import QuestionType, ReportRole, Side, Survey
from storage import Storage, open_storage

ADMIN = Actor(900_001, "Bench admin")
STAMP = "2026-11-27T09:00:00+00:00"
REPEATS = 7


def respondent_rows(survey: Survey, count: int, rng: random.Random) -> Iterator[tuple]:
    """(user, response, answers) per respondent: skewed profiles, local respondents seeing
    the barriers more than national ones."""
    level = survey.with_role(ReportRole.LEVEL)[0]
    weights = {q.id: [1.0 / (i + 1) for i in range(len(q.options))] for q in survey.questions}
    for index in range(count):
        answers: dict[str, object] = {}
        for question in survey.questions:
            options = [o.id for o in question.options]
            if question.type == QuestionType.SINGLE_CHOICE:
                answers[question.id] = rng.choices(options, weights[question.id])[0]
            elif question.type == QuestionType.MULTIPLE_CHOICE:
                picks = rng.randint(1, question.max_choices or len(options))
                answers[question.id] = sorted(set(rng.choices(options, k=picks)))
            elif question.type == QuestionType.AGREEMENT_SCALE:
                side = level.option(str(answers.get(level.id))).side
                lean = {Side.LOCAL: 1, Side.NATIONAL: -1}.get(side, 0) if side else 0
                answers[question.id] = min(5, max(1, rng.randint(1, 5) + lean))
            elif question.type == QuestionType.NUMBER:
                answers[question.id] = rng.randint(0, 30)
            elif question.show_if is None and rng.random() < 0.2:
                answers[question.id] = f"Suggestion number {index}"
        yield (
            (index + 1, "en", STAMP, STAMP, STAMP),
            (
                index + 1,
                index + 1,
                survey.id,
                survey.version,
                f"R-{index:010X}",
                "completed",
                STAMP,
                STAMP,
                STAMP,
            ),
            [(index + 1, q, json.dumps(v, ensure_ascii=False), STAMP) for q, v in answers.items()],
        )


async def build(storage: Storage, survey: Survey, count: int) -> None:
    rng = random.Random(2026)
    users, responses, answers = [], [], []
    for user, response, rows in respondent_rows(survey, count, rng):
        users.append(user)
        responses.append(response)
        answers.extend(rows)
    await insert(storage, users, responses, answers)


async def insert(
    storage: Storage, users: list[tuple], responses: list[tuple], answers: list[tuple]
) -> None:
    """Bulk rows of `respondent_rows`, in one transaction (setup, not measured)."""
    async with storage.database.atomic() as db:
        await db.executemany(
            "INSERT INTO users (user_id, language, consented_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            users,
        )
        await db.executemany(
            "INSERT INTO responses (user_id, response_id, survey_id, survey_version,"
            " respondent_code, status, started_at, updated_at, completed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            responses,
        )
        await db.executemany(
            "INSERT INTO answers (response_id, question_id, value, answered_at)"
            " VALUES (?, ?, ?, ?)",
            answers,
        )


async def timed(action: Callable[[], Awaitable[object]], repeats: int = REPEATS) -> float:
    """Median wall time of `action`, in milliseconds."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def through_the_handler(db_path: Path, survey: Survey) -> float:
    """Median time from /summary sent to the last summary message received, in ms."""
    async with FakeBotApi() as api:
        api.quiet = 0.05
        settings = Settings(
            bot_token=api.token,
            api_base_url=api.base_url,
            db_path=db_path,
            admin_ids=frozenset({ADMIN.user_id}),
            survey_path=DEFAULT_SURVEY_PATH,
        )
        async with running_bot(settings, survey, api.token, poll_timeout=1):
            admin = api.make_user(ADMIN.user_id, "Admin", language_code="en")
            samples = []
            for _ in range(REPEATS):
                started = time.monotonic()
                replies = await admin.send_command("/summary", timeout=30)
                samples.append((max(r.timestamp for r in replies) - started) * 1000)
    return statistics.median(samples)


async def main(count: int) -> None:
    survey = load_survey(DEFAULT_SURVEY_PATH)
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.sqlite3"
        storage = await open_storage(db_path, default_language=DEFAULT_LANGUAGE)
        started = time.perf_counter()
        await build(storage, survey, count)
        print(
            f"setup: {count:,} completed responses inserted in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        access = Access(storage.reports, storage.reports, {ADMIN.user_id})
        reports = await ReportService.start(storage.reports, survey, access, threshold=5)
        print(f"setup: report tallies counted in {time.perf_counter() - started:.1f} s")

        tallies = storage.reports

        async def plain_queries() -> None:
            await tallies.cells(survey.id)
            await tallies.tallies(survey.id, None)
            await tallies.in_progress(survey.id, None)

        async def from_the_answers() -> None:
            await storage.database.fetchall(
                "SELECT country, sector, level, COUNT(*) FROM report_profiles"
                " WHERE survey_id = ? AND status = 'completed' GROUP BY 1, 2, 3",
                (survey.id,),
            )
            await tallies.raw_aggregates(survey.id, None)

        async def summary(filter_text: str = "", service: ReportService = reports) -> None:
            with use_language("ar"):
                result = await service.summary(ADMIN, filter_text)
                split_message(text.summary_lines(result))

        started = time.perf_counter()
        snapshot = await reports.publish_if_due()
        published = time.perf_counter() - started
        assert snapshot is not None
        started = time.perf_counter()
        await summary()
        first = (time.perf_counter() - started) * 1000
        plain = await timed(plain_queries)
        raw = await timed(from_the_answers, repeats=1)
        warm = await timed(summary)
        jordan = str(Filter(ReportRole.COUNTRY, "jordan"))
        fresh = ReportService(storage.reports, survey, access, threshold=5)
        started = time.perf_counter()
        await summary(jordan, fresh)  # the stored snapshot read back by a new instance
        filtered_first = (time.perf_counter() - started) * 1000
        filtered = await timed(lambda: summary(jordan))
        await storage.close()
        handler = await through_the_handler(db_path, survey)

    print()
    print(f"{'publishing the first snapshot (checks, views)':<52}{published:9.1f} s")
    print(f"  groups released: {len(snapshot.views)}")
    print(f"{'plain SQL aggregation queries (tallies)':<52}{plain:9.1f} ms")
    print(f"{'same aggregation straight from the answers':<52}{raw:9.1f} ms")
    print(f"{'/summary in the domain, first call':<52}{first:9.1f} ms")
    print(f"{'/summary in the domain, later calls (median)':<52}{warm:9.1f} ms")
    print(f"{'/summary country=jordan, first call':<52}{filtered_first:9.1f} ms")
    print(f"{'/summary country=jordan, later calls (median)':<52}{filtered:9.1f} ms")
    print(f"{'/summary through the handler and fake Bot API':<52}{handler:9.1f} ms")
    print()
    print(f"summary / plain queries: {warm / plain:.1f}x (first call {first / plain:.1f}x)")
    verdict = "met" if max(first, warm, handler) < 1000 else "MISSED"
    print(f"target, the summary well under one second: {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    asyncio.run(main(parser.parse_args().responses))
