"""The summary as PNG charts (matplotlib, non-interactive Agg), in the current language.

Arabic is drawn in DejaVu Sans (bundled with matplotlib; it has the Arabic glyphs), and an
Arabic chart is laid out right to left: labels on the right, bars growing leftwards.

Text goes to matplotlib in logical order, unshaped. Since 3.11 matplotlib lays text out with
libraqm, which shapes Arabic and applies the bidirectional algorithm itself; shaping with
arabic-reshaper and reordering with python-bidi first (what older matplotlib needed) makes it
reverse the text a second time, so every Arabic line comes out back to front
(tests/test_reports_domain.py measures this on a rendered image).
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.core.i18n import _, current_language, is_rtl, number, percent
from bot.reports.summary import Ranking, Summary, in_words, shown_share

FONT = "DejaVu Sans"
LOCAL_COLOUR, NATIONAL_COLOUR, ALL_COLOUR = "#1b7f79", "#d9822b", "#4c6a92"
WIDTH_INCHES, ROW_INCHES, DPI = 10.0, 0.62, 120
LABEL_WIDTH = 28
_INVISIBLE = re.compile("[\u200e\u200f\u2066-\u2069]")
"""Direction marks and isolates: `_()` adds them for Telegram, a chart has no use for them."""


@dataclass(frozen=True, slots=True)
class Chart:
    filename: str
    png: bytes


def render(summary: Summary) -> list[Chart]:
    """The barrier chart, then one chart per priority question."""
    charts = [Chart("barriers.png", _barriers(summary))]
    charts += [
        Chart(f"{ranking.question.id}.png", _ranking(summary, ranking))
        for ranking in summary.priorities
        if ranking.choices
    ]
    return charts


def _shown(text: str) -> str:
    """Text as matplotlib must receive it: logical order, without direction controls."""
    return _INVISIBLE.sub("", text)


def _wrapped(text: str) -> str:
    return _shown("\n".join(textwrap.wrap(text, LABEL_WIDTH)))


def _barriers(summary: Summary) -> bytes:
    language = current_language()
    shown = [b for b in summary.barriers if b.overall is not None]
    labels = [(b.question.short_label or b.question.text).get(language) for b in shown]
    if summary.sides is not None:
        series = [
            (
                _("Local respondents"),
                LOCAL_COLOUR,
                [b.local for b in shown],
            ),
            (
                _("National respondents"),
                NATIONAL_COLOUR,
                [b.national for b in shown],
            ),
        ]
        subtitle = _("Share who agree, local and national respondents side by side")
    else:
        series = [
            (
                _("All respondents"),
                ALL_COLOUR,
                [b.overall for b in shown],
            )
        ]
        subtitle = _("Share who agree (the local–national comparison is hidden for small groups)")
    figure, axes = _figure(len(shown))
    height = 0.8 / len(series)
    for index, (name, colour, results) in enumerate(series):
        positions = [row - 0.4 + height * (index + 0.5) for row in range(len(shown))]
        values = [100 * result.share if result else 0.0 for result in results]
        axes.barh(positions, values, height=height * 0.92, color=colour, label=_shown(name))
        for position, result in zip(positions, results, strict=True):
            if result is not None:
                label = shown_share(result.share, result.extreme)
                _value_label(axes, position, 100 * result.share, label)
    _finish(
        figure,
        axes,
        labels,
        _("How far respondents agree that each barrier exists where they work"),
        subtitle,
        with_legend=len(series) > 1,
        footer=_footer(summary),
    )
    return _png(figure)


def _ranking(summary: Summary, ranking: Ranking) -> bytes:
    language = current_language()
    choices = ranking.choices
    figure, axes = _figure(len(choices))
    axes.barh(range(len(choices)), [100 * c.share for c in choices], height=0.6, color=ALL_COLOUR)
    for row, choice in enumerate(choices):
        label = (
            in_words(choice.extreme)
            if choice.extreme
            else f"{percent(choice.share)} ({number(choice.respondents)})"
        )
        _value_label(axes, row, 100 * choice.share, label)
    _finish(
        figure,
        axes,
        [c.option.label.get(language) for c in choices],
        _("What should come first to improve national–local cooperation"),
        _("Share of respondents who chose each area"),
        with_legend=False,
        footer=_footer(summary),
    )
    return _png(figure)


def _footer(summary: Summary) -> str:
    footer = _(
        "Completed responses: {respondents}. Groups of fewer than {threshold} are not shown.",
        respondents=summary.respondents,
        threshold=summary.threshold,
    )
    if summary.published_at is None:
        return footer
    moment = summary.published_at.strftime("%Y-%m-%d %H:%M")
    return footer + " " + _("Snapshot of {time} UTC.", time=moment)


def _figure(rows: int) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_INCHES, 1.9 + ROW_INCHES * max(rows, 1)), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    return figure, axes


def _value_label(axes: Axes, row: float, value: float, text: str) -> None:
    axes.text(
        value + 1.2,
        row,
        _shown(text),
        va="center",
        ha="right" if is_rtl() else "left",
        fontsize=9,
        family=FONT,
    )


def _finish(
    figure: Figure,
    axes: Axes,
    labels: Sequence[str],
    title: str,
    subtitle: str,
    *,
    with_legend: bool,
    footer: str,
) -> None:
    rtl = is_rtl()
    side = "right" if rtl else "left"
    height = figure.get_figheight()
    axes.set_yticks(
        range(len(labels)),
        [_wrapped(label) for label in labels],
        family=FONT,
        multialignment="right",
    )
    axes.invert_yaxis()
    axes.set_xlim(0, 112)
    axes.set_xticks(range(0, 101, 20), [_shown(percent(tick / 100)) for tick in range(0, 101, 20)])
    if rtl:
        axes.invert_xaxis()
        axes.yaxis.tick_right()
    for spine in ("top", "left" if rtl else "right"):
        axes.spines[spine].set_visible(False)
    axes.grid(axis="x", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    if with_legend:
        handles, names = axes.get_legend_handles_labels()
        order = slice(None, None, -1) if rtl else slice(None)
        axes.legend(
            handles[order],
            names[order],
            loc="lower right" if rtl else "lower left",
            bbox_to_anchor=(1.0 if rtl else 0.0, 1.0),
            ncol=len(handles),
            prop={"family": FONT},
            frameon=False,
            markerfirst=not rtl,
        )
    x = 0.98 if rtl else 0.02
    figure.text(x, 0.985, _shown(title), ha=side, va="top", fontsize=13, weight="bold", family=FONT)
    figure.text(
        x,
        0.985 - 0.33 / height,
        _shown(subtitle),
        ha=side,
        va="top",
        fontsize=10,
        family=FONT,
        color="#444444",
    )
    figure.text(
        x, 0.01, _shown(footer), ha=side, va="bottom", fontsize=8, family=FONT, color="#666666"
    )
    figure.tight_layout(rect=(0.02, 0.35 / height, 0.97, 1.0 - 0.75 / height))


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
