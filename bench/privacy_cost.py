"""What the disclosure rules of snapshots cost in accuracy and in groups shown.

Simulated respondents of the shipped survey (the summary benchmark's skewed profiles, local
respondents seeing the barriers more than national ones) complete it in waves; after each
wave the service publishes a snapshot, as the bot does. For each snapshot, side by side:

- the groups it releases, against a fresh single-moment count of the same data (what the
  release history costs);
- for every agreement share shown as a number: the mean and largest distance between the
  share shown (noisy counts) and the true one, in percentage points;
- the shares said in words instead ("nearly all", "almost none": the dominance rule);
- how long publishing took (release checks, exact support programs, views).

    .venv/bin/python bench/privacy_cost.py                   # waves of 60 up to 600
    .venv/bin/python bench/privacy_cost.py --wave 200 --waves 5
    .venv/bin/python bench/privacy_cost.py --waves 3 --scope "country=jordan country=iraq" \
        --scope country=jordan                                # with two scoped coordinators
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from summary_bench import insert, respondent_rows

from bot.core.access import Access
from bot.core.i18n import DEFAULT_LANGUAGE
from bot.reports.filters import parse_filter, parse_scope
from bot.reports.model import Coordinator, Grant, Tally
from bot.reports.scoring import agreement
from bot.reports.service import ReportService
from bot.reports.snapshots import EVERYONE
from bot.reports.summary import ReleasePlan, level_sides
from bot.survey.loader import DEFAULT_SURVEY_PATH, load_survey
from bot.survey.model import Question, Side, Survey
from storage import Storage, open_storage

THRESHOLD = 5


async def add_wave(storage: Storage, survey, first: int, count: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    import random

    users, responses, answers = [], [], []
    for user, response, rows in respondent_rows(survey, count, random.Random(seed)):
        offset = first
        users.append((user[0] + offset, *user[1:]))
        responses.append(
            (response[0] + offset, response[1] + offset, response[2], response[3],
             f"{response[4]}-{seed}", "in_progress", *response[6:])
        )
        answers.extend((row[0] + offset, *row[1:]) for row in rows)
    await insert(storage, users, responses, answers)
    async with storage.database.atomic() as db:
        # Completed the way the bot completes them, so that the report tallies count them.
        await db.execute(
            "UPDATE responses SET status = 'completed' WHERE status = 'in_progress'"
        )


async def add_coordinators(storage: Storage, survey: Survey, scopes: list[str]) -> None:
    """Coordinators with these scopes (`/grant`'s filters), whose groups snapshots publish."""
    at = datetime(2026, 12, 1, tzinfo=UTC)
    for index, scope in enumerate(scopes):
        code = f"bench-{index}"
        await storage.reports.add_grant(Grant(code, 1, at, at + timedelta(days=1)))
        coordinator = Coordinator(
            5_000 + index, "Bench", 1, at, parse_scope(survey, scope.split())
        )
        await storage.reports.use_grant(code, coordinator)


async def main(wave: int, waves: int, scopes: list[str]) -> None:
    survey = load_survey(DEFAULT_SURVEY_PATH)
    with tempfile.TemporaryDirectory() as directory:
        storage = await open_storage(
            f"sqlite:///{Path(directory) / 'cost.sqlite3'}", default_language=DEFAULT_LANGUAGE
        )
        try:
            await add_coordinators(storage, survey, scopes)
            await report(storage, survey, wave, waves)
        finally:
            await storage.close()


def _true_share(tallies: list[Tally], question: Question, levels: frozenset[str] | None) -> float:
    counts: dict[str, int] = {}
    for tally in tallies:
        if tally.question_id == question.id and (levels is None or tally.level in levels):
            counts[tally.item] = counts.get(tally.item, 0) + tally.answers
    return agreement(question, counts).share


async def report(storage: Storage, survey: Survey, wave: int, waves: int) -> None:
    sides = {
        side: frozenset(level for level, s in level_sides(survey).items() if s == side)
        for side in Side
    }
    clock = [datetime(2026, 12, 1, tzinfo=UTC)]
    access = Access(storage.reports, storage.reports, set())
    reports = await ReportService.start(
        storage.reports, survey, access, THRESHOLD, lambda: clock[0]
    )
    print(f"k = {THRESHOLD}; noise: change of -2..+2 with 10/20/40/20/10 %\n")
    print(
        "respondents  groups shown  (fresh count)  share error mean / max (points)"
        "  in words  publish"
    )
    for index in range(waves):
        await add_wave(storage, survey, 1_000_000 * (index + 1), wave, 2026 + index)
        clock[0] += timedelta(days=1)
        started = time.perf_counter()
        snapshot = await reports.publish_if_due()
        took = time.perf_counter() - started
        assert snapshot is not None
        cells = await storage.reports.cells(survey.id)
        fresh = ReleasePlan(survey, cells, THRESHOLD)
        fresh_groups = 1 + len(fresh.offered()) if fresh.everyone else 0
        errors, words, numbers = [], 0, 0
        for key, view in snapshot.views.items():
            if not view.scope.everyone:
                continue  # scoped groups: counted as shown, not compared here
            only = None if key == EVERYONE else parse_filter(survey, key)
            tallies = await storage.reports.tallies(survey.id, only)
            for barrier in view.barriers:
                for shown, levels in (
                    (barrier.overall, None),
                    (barrier.local, sides[Side.LOCAL]),
                    (barrier.national, sides[Side.NATIONAL]),
                ):
                    if shown is None:
                        continue
                    if shown.extreme:
                        words += 1
                        continue
                    numbers += 1
                    truth = _true_share(tallies, barrier.question, levels)
                    errors.append(abs(shown.share - truth) * 100)
        print(
            f"{snapshot.population:>11,}  {len(snapshot.views):>12}  {fresh_groups:>13}"
            f"  {statistics.mean(errors):>15.2f} / {max(errors):<5.1f}"
            f"  {words:>4}/{words + numbers:<4}  {took:6.2f} s"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wave", type=int, default=60)
    parser.add_argument("--waves", type=int, default=10)
    parser.add_argument("--scope", action="append", default=[], help="a coordinator's scope")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.wave, arguments.waves, arguments.scope))
