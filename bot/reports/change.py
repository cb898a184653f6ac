"""The change view: for every barrier, the share who agree in one round and in a later one,
overall and on each side, with the change and whether it is larger than chance.

It is computed from two released views (bot/reports/snapshots.py) of the same group, so it
shows nothing the disclosure rules did not already release: a side suppressed in either round
has no change, and a share shown in words ("nearly all") gives no number to subtract.

Larger than chance: the 95 % interval for the difference between two independent
proportions (Newcombe's hybrid score method, his method 10, built on the Wilson intervals
SciPy computes) leaves out zero. The rounds are treated as independent samples: people who
answered both are not paired, which makes the interval a little wider, never narrower.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.reports.model import Filter
from bot.reports.scoring import Agreement
from bot.reports.summary import BarrierResult, Summary
from bot.survey.model import Question, Survey

CONFIDENCE = 0.95


@dataclass(frozen=True, slots=True)
class Shift:
    """One group's agreement with one barrier in two rounds."""

    before: Agreement | None
    after: Agreement | None
    """None: suppressed in that round (too few answers)."""

    @property
    def comparable(self) -> bool:
        """Both rounds have a share given as a number."""
        return (
            self.before is not None
            and self.after is not None
            and self.before.answered > 0
            and self.after.answered > 0
            and self.before.extreme is None
            and self.after.extreme is None
        )

    @property
    def change(self) -> float | None:
        """After minus before, in shares (0.12: twelve points more agree)."""
        if not self.comparable:
            return None
        assert self.before is not None and self.after is not None
        return self.after.share - self.before.share

    @property
    def interval(self) -> tuple[float, float] | None:
        if not self.comparable:
            return None
        assert self.before is not None and self.after is not None
        return difference_interval(
            self.after.agreeing, self.after.answered, self.before.agreeing, self.before.answered
        )

    @property
    def beyond_chance(self) -> bool:
        interval = self.interval
        return interval is not None and (interval[0] > 0 or interval[1] < 0)


@dataclass(frozen=True, slots=True)
class BarrierChange:
    question: Question
    overall: Shift
    local: Shift
    national: Shift


@dataclass(frozen=True, slots=True)
class ChangeView:
    survey: Survey
    only: Filter | None
    before: Summary
    after: Summary
    """The two released views compared (each names its round)."""
    barriers: tuple[BarrierChange, ...]
    """Largest change (either way) first; those that cannot be compared last."""


def compare(survey: Survey, earlier: Summary, later: Summary) -> ChangeView:
    """The change view of two released views of one group (the same filter)."""
    earlier_results = {result.question.id: result for result in earlier.barriers}
    changes = []
    for result in later.barriers:
        old = earlier_results.get(result.question.id, BarrierResult(result.question, None))
        changes.append(
            BarrierChange(
                result.question,
                Shift(old.overall, result.overall),
                Shift(old.local, result.local),
                Shift(old.national, result.national),
            )
        )
    changes.sort(key=lambda c: (c.overall.change is None, -abs(c.overall.change or 0.0)))
    return ChangeView(survey, later.only, earlier, later, tuple(changes))


def difference_interval(
    agreeing_1: int, answered_1: int, agreeing_2: int, answered_2: int
) -> tuple[float, float]:
    """The interval for p1 − p2 (Newcombe 1998, method 10)."""
    p1, p2 = agreeing_1 / answered_1, agreeing_2 / answered_2
    low_1, high_1 = _wilson(agreeing_1, answered_1)
    low_2, high_2 = _wilson(agreeing_2, answered_2)
    difference = p1 - p2
    below = math.sqrt((p1 - low_1) ** 2 + (high_2 - p2) ** 2)
    above = math.sqrt((high_1 - p1) ** 2 + (p2 - low_2) ** 2)
    return difference - below, difference + above


def _wilson(agreeing: int, answered: int) -> tuple[float, float]:
    from scipy.stats import binomtest  # imported when first needed: SciPy takes a second

    interval = binomtest(min(agreeing, answered), answered).proportion_ci(
        confidence_level=CONFIDENCE, method="wilson"
    )
    return float(interval.low), float(interval.high)
