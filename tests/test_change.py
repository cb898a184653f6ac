"""The change view between two rounds, without Telegram: the interval, what is compared and
what is not, and the words."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.i18n import use_language
from bot.reports.change import Shift, compare, difference_interval
from bot.reports.model import ReportRound
from bot.reports.scoring import Agreement, Extreme
from bot.reports.summary import BarrierResult, Summary
from bot.reports.text import change_lines, plain
from bot.survey.model import ReportRole
from tests.e2e import SHIPPED_SURVEY

BARRIERS = SHIPPED_SURVEY.with_role(ReportRole.BARRIER)


def summary(*results: BarrierResult, round_: ReportRound, respondents: int = 80) -> Summary:
    return replace(
        Summary(SHIPPED_SURVEY, None, 5, respondents, None, None, (), results, (), (), None),
        round=round_,
    )


FIRST, SECOND = ReportRound(1, "Before the Amman workshop"), ReportRound(2, "Six months later")


def test_the_interval_is_newcombes():
    """Newcombe (1998), table II, example (a): 56/70 against 48/80."""
    low, high = difference_interval(56, 70, 48, 80)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_a_change_is_beyond_chance_only_when_the_interval_leaves_out_zero():
    large = Shift(Agreement(80, 30, 200), Agreement(80, 55, 280))
    small = Shift(Agreement(20, 8, 60), Agreement(20, 11, 66))
    assert large.beyond_chance and round(large.change or 0, 4) == 0.3125
    assert not small.beyond_chance and small.interval is not None


def test_suppressed_or_extreme_shares_give_no_change():
    words = Agreement(40, 40, 200, extreme=Extreme.NEARLY_ALL)
    assert Shift(None, Agreement(40, 20, 120)).change is None
    assert Shift(words, Agreement(40, 20, 120)).change is None
    assert not Shift(words, Agreement(40, 20, 120)).beyond_chance


def test_the_view_puts_the_largest_change_first_in_both_languages():
    first, second, third = BARRIERS[:3]
    before = summary(
        BarrierResult(first, Agreement(80, 40, 240)),
        BarrierResult(second, Agreement(80, 20, 200), Agreement(40, 10, 100), None),
        BarrierResult(third, None),
        round_=FIRST,
    )
    after = summary(
        BarrierResult(first, Agreement(80, 42, 244)),
        BarrierResult(second, Agreement(80, 60, 300), Agreement(40, 35, 170), None),
        BarrierResult(third, Agreement(80, 30, 240)),
        round_=SECOND,
    )
    view = compare(SHIPPED_SURVEY, before, after)
    assert [b.question.id for b in view.barriers] == [second.id, first.id, third.id]
    english = plain(change_lines(view))
    assert "from 25% to 75%, up 50 points; larger than chance (95% interval +35 to +62)" in english
    assert "local: from 25% to 88%, up 63 points" in english
    assert "national:" not in english  # suppressed in both rounds
    assert "too few answers in one of the rounds" in english
    assert "could be chance" in english
    with use_language("ar"):
        arabic = plain(change_lines(view))
    assert "من 25٪ إلى 75٪" in arabic or "من 25% إلى 75%" in arabic, arabic


@pytest.mark.parametrize("points", [1, 2, 11])
def test_points_are_counted_with_their_plural(points: int):
    before = Agreement(100, 50, 300)
    after = Agreement(100, 50 + points, 300)
    view = compare(
        SHIPPED_SURVEY,
        summary(BarrierResult(BARRIERS[0], before), round_=FIRST, respondents=100),
        summary(BarrierResult(BARRIERS[0], after), round_=SECOND, respondents=100),
    )
    line = plain(change_lines(view))
    assert f"up {points} point" + ("s" if points > 1 else "") + ";" in line
