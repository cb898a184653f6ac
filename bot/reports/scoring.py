"""How agreement-scale answers are scored in every report: summary, gap, charts and exports.

Pure functions, no storage. A scale question's answers are counted per scale item, as the
report tallies store them: "1" to "5", and "0" for "don't know / not applicable" (the stored
answer `bot.survey.engine.DONT_KNOW`). Two rules:

- "Don't know" is counted apart and left out of every share and mean: a respondent who cannot
  judge a statement does not pull its average towards the middle.
- A reversed statement (`reversed: true`, worded so that agreeing means the barrier is
  absent) is scored 6 − the answer, so that for every statement a higher score, and agreeing
  after scoring, means the same thing: the barrier is present.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.survey.engine import DONT_KNOW, SCALE_VALUES
from bot.survey.model import Question
from bot.survey.state import AnswerValue

DONT_KNOW_ITEM: Final = str(DONT_KNOW)
"""The tally item of a "don't know" answer."""
AGREEING: Final = frozenset({4, 5})
"""Scores counted as agreement (after reverse coding): agree and strongly agree."""
_REVERSE: Final = min(SCALE_VALUES) + max(SCALE_VALUES)


class Extreme(StrEnum):
    """The dominance rule: a share of a released group that all, or all but one, of its
    members share is never shown exactly (it would tell each member's answer)."""

    NEARLY_ALL = "nearly_all"
    ALMOST_NONE = "almost_none"


@dataclass(frozen=True, slots=True)
class Agreement:
    """One group's answers to one scale question, scored."""

    answered: int
    """Respondents who gave a view (1 to 5); "don't know" is not among them."""
    agreeing: int
    """Of those, how many scored 4 or 5."""
    score_total: int
    dont_know: int = 0
    """Respondents who answered "don't know / not applicable"."""
    extreme: Extreme | None = None
    """Set when (nearly) all or (nearly) none agree: the share is then shown in words."""
    uniform: bool = False
    """All or all but one gave the same scale value: the mean would tell it, so it is not
    shown."""

    @property
    def share(self) -> float:
        return min(self.agreeing / self.answered, 1.0) if self.answered else 0.0

    @property
    def mean(self) -> float:
        return self.score_total / self.answered if self.answered else 0.0


def score(question: Question, value: AnswerValue) -> int | None:
    """The scored value of one answer: 1..5, reversed where the question is; None for
    "don't know", a skip, or anything that is not a scale value."""
    if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE_VALUES:
        return None
    return _REVERSE - value if question.reversed else value


def is_dont_know(question: Question, value: AnswerValue) -> bool:
    return question.dont_know and value == DONT_KNOW and not isinstance(value, bool)


def agreement(question: Question, counts: Mapping[str, int]) -> Agreement:
    """Scored counts of a scale question: `counts` maps tally items ("0" to "5") to how many
    respondents gave each; other items are ignored."""
    by_score = {score(question, value): counts.get(str(value), 0) for value in SCALE_VALUES}
    return Agreement(
        answered=sum(by_score.values()),
        agreeing=sum(n for value, n in by_score.items() if value in AGREEING),
        score_total=sum((value or 0) * n for value, n in by_score.items()),
        dont_know=counts.get(DONT_KNOW_ITEM, 0) if question.dont_know else 0,
    )
