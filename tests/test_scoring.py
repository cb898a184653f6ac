"""How scale answers are scored in every report (bot/reports/scoring.py), with known data."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.reports.scoring import Agreement, agreement, is_dont_know, score
from bot.survey import engine
from bot.survey.errors import StaleQuestion
from tests.e2e import SHIPPED_SURVEY

PLAIN = SHIPPED_SURVEY.question("barrier_goals")
"""Agreeing means the barrier is there."""
REVERSED = SHIPPED_SURVEY.question("barrier_trust")
"""“There is mutual trust”: agreeing means the barrier is absent."""


def test_the_shipped_questions_are_what_these_tests_assume():
    assert (PLAIN.reversed, PLAIN.dont_know) == (False, True)
    assert (REVERSED.reversed, REVERSED.dont_know) == (True, True)


@pytest.mark.parametrize(("value", "plain", "reversed_"), [(1, 1, 5), (2, 2, 4), (3, 3, 3),
                                                           (4, 4, 2), (5, 5, 1), (0, None, None),
                                                           (None, None, None), (True, None, None),
                                                           (6, None, None)])  # fmt: skip
def test_each_answer_is_scored_and_reversed_items_turned_round(value, plain, reversed_):
    assert score(PLAIN, value) == plain
    assert score(REVERSED, value) == reversed_


def test_dont_know_is_only_zero_on_a_question_that_offers_it():
    assert is_dont_know(PLAIN, 0)
    assert not is_dont_know(PLAIN, 3) and not is_dont_know(PLAIN, None)
    assert not is_dont_know(PLAIN, False)  # a boolean is not an answer
    assert not is_dont_know(replace(PLAIN, dont_know=False), 0)


def test_shares_and_means_leave_dont_know_out():
    # 2 × strongly disagree, 1 × neither, 3 × agree, 1 × strongly agree, 3 × don't know.
    counts = {"1": 2, "3": 1, "4": 3, "5": 1, "0": 3}
    result = agreement(PLAIN, counts)
    assert result == Agreement(answered=7, agreeing=4, score_total=2 + 3 + 12 + 5, dont_know=3)
    assert (result.share, result.mean) == (4 / 7, 22 / 7)


def test_a_reversed_statement_counts_disagreement_as_seeing_the_barrier():
    counts = {"1": 2, "3": 1, "4": 3, "5": 1, "0": 3}
    result = agreement(REVERSED, counts)
    # Scored: 1 → 5 (twice), 3 → 3, 4 → 2 (three times), 5 → 1.
    assert result == Agreement(answered=7, agreeing=2, score_total=10 + 3 + 6 + 1, dont_know=3)
    assert (result.share, result.mean) == (2 / 7, 20 / 7)


def test_without_a_dont_know_option_a_stray_zero_counts_nowhere():
    result = agreement(replace(PLAIN, dont_know=False), {"0": 4, "5": 1})
    assert result == Agreement(answered=1, agreeing=1, score_total=5, dont_know=0)


def test_dont_know_is_a_button_only_where_the_question_offers_it():
    assert engine.parse_scale("0", dont_know=True) == engine.DONT_KNOW
    assert engine.parse_scale("5", dont_know=True) == 5
    for raw, offered in (("0", False), ("6", True), ("-1", True), ("x", True)):
        with pytest.raises(StaleQuestion):
            engine.parse_scale(raw, dont_know=offered)
