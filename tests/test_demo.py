"""`hiwar demo`, the main job on the embedded default, runs end to end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.demo import run_demo


async def test_demo_collects_answers_and_shows_the_coordinator_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert await run_demo(respondents=12, seed=1, output=tmp_path) == 0
    printed = capsys.readouterr().out
    assert "12 simulated respondents" in printed
    assert "Barriers: how many agree" in printed
    # Issue #14: a second round, the same people a little changed, and the change view.
    assert "Round 2, “Six months later”: the same 12 people answered again" in printed
    assert "Change from “Before the Amman workshop” to “Six months later”" in printed
    assert re.search(r"from \d+% to \d+%, (up|down) \d+ points?; ", printed)
    assert "\u2068" not in printed
    charts = sorted(p.name for p in tmp_path.glob("chart-*.png"))
    assert charts == ["chart-1-ar.png", "chart-1-en.png", "chart-2-ar.png", "chart-2-en.png"]
    # Issue #15: the simulated respondents answer "don't know" sometimes, and the summary
    # counts it apart.
    assert "don’t know" in printed
    # The duration the consent screen promises is the one measured at a human pace.
    measured = re.search(r"a median of ([0-9.]+) minutes .*says about ([0-9]+)\.", printed)
    assert measured is not None
    median, promised = float(measured[1]), int(measured[2])
    assert abs(median - promised) <= 2.5, (median, promised)
