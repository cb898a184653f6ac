"""A snapshot's aggregate tables for coordinators: CSV (UTF-8 with a BOM) and XLSX + codebook.

The same numbers as the snapshot's summaries, one row per figure: nothing a coordinator
could not read in /summary, but in a form a spreadsheet can work with. Headers and labels
are in the current language.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook

from bot.core.i18n import _, current_language, is_rtl
from bot.reports.export import Cell, ExportFiles, csv_bytes
from bot.reports.filters import group_name
from bot.reports.summary import Agreement, Choice, Summary, coarse_mean, in_words
from bot.survey.model import Question


def build_tables(views: Sequence[Summary], threshold: int) -> ExportFiles:
    """Every released group of one snapshot, everyone first."""
    header = [
        _("Group"),
        _("Side"),
        _("Question"),
        _("Answer"),
        _("Respondents"),
        _("Share"),
        _("Mean"),
    ]
    table: list[list[Cell]] = []
    for view in views:
        table += _rows(view)
    published = views[0].published_at if views else None
    codebook = [
        [_("Snapshot"), published.strftime("%Y-%m-%d %H:%M UTC") if published else ""],
        [_("Group"), _("Everyone, or the respondents of one country, sector or level.")],
        [_("Side"), _("All, or the local or the national respondents of the group.")],
        [
            _("Respondents"),
            _(
                "Counts carry a small random change (at most 2 either way), the same every "
                "time the same figure is shown; groups of fewer than {threshold} are never "
                "shown.",
                threshold=threshold,
            ),
        ],
        [
            _("Share"),
            _(
                "Between 0 and 1, from the changed counts; “nearly all” or “almost none” where "
                "all or all but one of the group gave the same answer."
            ),
        ],
        [
            _("Mean"),
            _(
                "Agreement from 1 (strongly disagree) to 5 (strongly agree), to the nearest "
                "half below {count} answers; empty where it would tell each answer.",
                count=4 * threshold,
            ),
        ],
    ]
    return ExportFiles(csv_bytes(header, table), _xlsx(header, table, codebook), len(views))


def _rows(view: Summary) -> list[list[Cell]]:
    language = current_language()
    group = group_name(view.survey, view.only, view.scope)
    everyone = _("all")
    rows: list[list[Cell]] = [[group, everyone, _("Completed responses"), "", view.respondents]]
    if view.sides is not None:
        rows += [
            [group, _("local"), _("Completed responses"), "", view.sides[0]],
            [group, _("national"), _("Completed responses"), "", view.sides[1]],
        ]
    for breakdown in view.breakdowns:
        label = _label(breakdown.question)
        rows += [
            [group, everyone, label, r.option.label.get(language) if r.option else "", r.respondents]
            for r in breakdown.rows
        ]
        if breakdown.hidden:
            rows.append([group, everyone, label, _("(hidden)"), breakdown.hidden])
    if view.sources is not None:
        label = _("Respondents by source")
        rows += [
            [group, everyone, label, source or _("without a link"), n]
            for source, n in view.sources.rows
        ]
        if view.sources.hidden:
            rows.append([group, everyone, label, _("(hidden)"), view.sources.hidden])
    for barrier in view.barriers:
        label = _label(barrier.question)
        for side, result in (
            (everyone, barrier.overall),
            (_("local"), barrier.local),
            (_("national"), barrier.national),
        ):
            if result is not None:
                rows.append([group, side, label, _("agree"), *_agreement(result, view.threshold)])
    for ranking in (*view.priorities, *view.formats):
        label = _label(ranking.question)
        rows += [[group, everyone, label, *_choice(c)] for c in ranking.choices]
    return rows


def _label(question: Question) -> str:
    return (question.short_label or question.text).get(current_language())


def _agreement(result: Agreement, threshold: int) -> list[Cell]:
    share: Cell = in_words(result.extreme) if result.extreme else round(result.share, 3)
    return [result.answered, share, None if result.uniform else coarse_mean(result, threshold)]


def _choice(choice: Choice) -> list[Cell]:
    if choice.extreme:
        return [choice.option.label.get(current_language()), "", in_words(choice.extreme)]
    return [choice.option.label.get(current_language()), choice.respondents, round(choice.share, 3)]


def _xlsx(header: list[str], table: list[list[Cell]], codebook: list[list[str]]) -> bytes:
    workbook = Workbook(write_only=True)
    figures = workbook.create_sheet(_("Tables"))
    notes = workbook.create_sheet(_("Codebook"))
    for sheet in (figures, notes):
        sheet.sheet_view.rightToLeft = is_rtl()
    figures.append(header)
    for row in table:
        figures.append(row)
    notes.append([_("Column"), _("Meaning")])
    for row in codebook:
        notes.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
