"""Completed responses as CSV (UTF-8 with a BOM, so Excel reads Arabic) and XLSX + codebook.

One row per respondent under a random code made afresh for every export (two exports cannot
be matched row by row to find who answered in between), ordered by that code (not by time);
never a Telegram id, name or username. Headers, option labels and the codebook are in the
current language. Privacy measures beyond the summaries' rules:
- free-text answers are left out (read them with /comments, where nothing links them to a
  profile);
- numbers (years of experience) are given as bands, not exactly;
- the bands, then country, sector, level, gender and age group are hidden in the rows whose
  combination of all of them is shared by fewer than `threshold` respondents of the same
  round (k-anonymity, within each round), so a rare profile cannot be picked out.
The last column is the round each response was started in (0: none was open; the numbers are
those of /rounds). A person who answered two rounds has two rows, under unrelated codes.
Scale answers are scored as in every report (bot/reports/scoring.py): reversed statements
turned round, "don't know" written as text; the codebook says so for each column.
"""

from __future__ import annotations

import csv
import io
import random
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook

from bot.core.i18n import _, current_language, is_rtl
from bot.reports.model import DIMENSIONS
from bot.reports.scoring import is_dont_know, score
from bot.survey.model import Option, Question, QuestionType, ReportRole, ScaleLabels, Survey
from bot.survey.state import AnswerValue

Cell = str | int | float | None
Respondent = tuple[str, int, dict[str, AnswerValue]]
"""A completed response: its code, its round (0: none) and its answers."""
PROTECTED = (*DIMENSIONS, ReportRole.PROFILE)
"""The answers that together could single someone out, hidden in rare combinations."""


class _Hidden:
    """Marks a profile answer hidden in the export."""


HIDDEN = _Hidden()


@dataclass(frozen=True, slots=True)
class ExportFiles:
    csv: bytes
    xlsx: bytes
    respondents: int


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    question: Question | None
    """None: the respondent code, or the round."""
    option: Option | None = None
    """Set on the one-column-per-option columns of a multiple-choice question."""


def columns(survey: Survey) -> list[Column]:
    language = current_language()
    found = [Column(_("Respondent code"), None)]
    for question in survey.questions:
        name = (question.short_label or question.text).get(language)
        if question.type == QuestionType.FREE_TEXT:
            continue
        if question.type == QuestionType.MULTIPLE_CHOICE:
            found += [
                Column(f"{name}: {option.label.get(language)}", question, option)
                for option in question.options
            ]
        else:
            found.append(Column(name, question))
    return [*found, Column(_("Round"), None)]


def rows(survey: Survey, respondents: Sequence[Respondent], threshold: int) -> list[list[Cell]]:
    """The table under `columns(survey)`, profiles protected as described above."""
    rounds: dict[int, list[dict[str, AnswerValue | _Hidden]]] = {}
    for _code, round_id, answers in respondents:
        rounds.setdefault(round_id, []).append(dict(answers))
    protected = {
        round_id: iter(_protect(survey, group, threshold)) for round_id, group in rounds.items()
    }
    answer_columns = columns(survey)[1:-1]
    table: list[list[Cell]] = []
    for code, round_id, _answers in respondents:
        answers = next(protected[round_id])  # in the same order as they were grouped
        table.append([code, *(_cell(column, answers) for column in answer_columns), round_id])
    return table


BANDS = (0, 5, 10, 20, 30)
"""Where the bands of a number start: 0–4, 5–9, 10–19, 20–29, 30 and more."""


def band(value: float) -> str:
    """A number as its band, so that a rare exact value does not single anyone out."""
    start = max((b for b in BANDS if value >= b), default=BANDS[0])
    following = [b for b in BANDS if b > start]
    return f"{start}–{following[0] - 1}" if following else f"{start}+"


def fresh_codes(count: int) -> list[str]:
    """Random codes for one export, sorted: they say nothing about who or when."""
    codes: set[str] = set()
    while len(codes) < count:
        codes.add("X-" + secrets.token_hex(4).upper())
    return sorted(codes)


def build(survey: Survey, respondents: Sequence[Respondent], threshold: int) -> ExportFiles:
    """The files of one export: every respondent under a new random code (the stored codes
    never leave the database)."""
    shuffled = list(respondents)
    random.SystemRandom().shuffle(shuffled)
    coded = [
        (code, round_id, answers)
        for code, (_stored, round_id, answers) in zip(
            fresh_codes(len(shuffled)), shuffled, strict=True
        )
    ]
    header = [column.header for column in columns(survey)]
    table = rows(survey, coded, threshold)
    return ExportFiles(csv_bytes(header, table), _xlsx(survey, header, table), len(table))


def _protect(
    survey: Survey, answers: list[dict[str, AnswerValue | _Hidden]], threshold: int
) -> list[dict[str, AnswerValue | _Hidden]]:
    numbers = [q for q in survey.questions if q.type == QuestionType.NUMBER]
    for row in answers:
        for question in numbers:
            value = row.get(question.id)
            if isinstance(value, int | float):
                row[question.id] = band(value)
    profile = [*numbers, *(q for role in PROTECTED for q in survey.with_role(role))]

    def key(row: dict[str, AnswerValue | _Hidden]) -> tuple[str, ...]:
        return tuple(repr(row.get(q.id)) for q in profile)

    for question in profile:
        counts = Counter(key(row) for row in answers)
        for row in answers:
            if counts[key(row)] < threshold:
                row[question.id] = HIDDEN
    # The rows hidden entirely are a group too: fewer than k of them, and a filtered summary
    # minus the visible rows of that filter would point at one. Hide the smallest visible
    # profile with them until they are k (or every row is hidden).
    hidden_key = tuple(repr(HIDDEN) for _q in profile)
    while 0 < (counts := Counter(key(row) for row in answers))[hidden_key] < threshold:
        visible = [k for k in counts if k != hidden_key]
        if not visible:
            break
        smallest = min(visible, key=lambda k: (counts[k], k))
        for row in answers:
            if key(row) == smallest:
                row.update({q.id: HIDDEN for q in profile})
    return answers


def _cell(column: Column, answers: dict[str, AnswerValue | _Hidden]) -> Cell:
    assert column.question is not None
    value = answers.get(column.question.id)
    if isinstance(value, _Hidden):
        return _("(hidden)")
    if value is None:
        return None
    if column.option is not None:
        return int(isinstance(value, list) and column.option.id in value)
    if column.question.type == QuestionType.AGREEMENT_SCALE:
        # Scored as in every report (reversed statements turned round); "don't know" as
        # text, which spreadsheet averages leave out.
        return _("(don’t know)") if is_dont_know(column.question, value) else score(
            column.question, value
        )
    if column.question.type == QuestionType.SINGLE_CHOICE:
        option = column.question.option(str(value))
        return option.label.get(current_language()) if option else str(value)
    if isinstance(value, list):
        return ", ".join(value)
    return value


def csv_bytes(header: list[str], table: list[list[Cell]]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(["" if value is None else value for value in row] for row in table)
    return text.getvalue().encode("utf-8-sig")


def _xlsx(survey: Survey, header: list[str], table: list[list[Cell]]) -> bytes:
    workbook = Workbook(write_only=True)
    answers = workbook.create_sheet(_("Responses"))
    codebook = workbook.create_sheet(_("Codebook"))
    for sheet in (answers, codebook):
        sheet.sheet_view.rightToLeft = is_rtl()
    answers.append(header)
    for row in table:
        answers.append(row)
    codebook.append([_("Column"), _("Question"), _("Values")])
    for column in columns(survey):
        codebook.append([column.header, *_describe(column)])
    codebook.append([])
    codebook.append([_("Free-text answers are not exported: read them with /comments.")])
    codebook.append(
        [_("Rows are in the order of the codes, which says nothing about when anyone answered.")]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _scale_coding(question: Question) -> list[str]:
    """How a scale question's column is coded (bot/reports/scoring.py), sentence by sentence."""
    if question.scale == ScaleLabels.QUALITY:
        coding = [
            _(
                "1 = very poorly, 2 = poorly, 3 = neither well nor poorly, 4 = well, "
                "5 = very well; empty = not asked."
            )
        ]
    elif question.reversed:
        coding = [
            _(
                "Reverse-coded: the statement is worded the other way round, so the value is "
                "6 minus the answer: 1 = strongly agree, 2 = agree, 3 = neither agree nor "
                "disagree, 4 = disagree, 5 = strongly disagree; empty = not asked. As for every "
                "barrier, a higher value means the barrier is seen as present."
            )
        ]
    else:
        coding = [
            _(
                "1 = strongly disagree, 2 = disagree, 3 = neither agree nor disagree, 4 = agree, "
                "5 = strongly agree; empty = not asked."
            )
        ]
    if question.dont_know:
        coding.append(
            _(
                "“(don’t know)” = don’t know or not applicable: not a point on the scale, left "
                "out of shares and means."
            )
        )
    return coding


def _describe(column: Column) -> tuple[str, str]:
    question = column.question
    if question is None and column.header == _("Round"):
        return (
            "",
            _(
                "The round the response was started in, numbered as in /rounds; 0 = no round "
                "was open. Someone who answered two rounds has two rows, with unrelated codes."
            ),
        )
    if question is None:
        return (
            "",
            _(
                "A random code per respondent, new in every export; never their Telegram id, "
                "name or username."
            ),
        )
    text = question.text.get(current_language())
    if column.option is not None:
        return text, _("1 = chosen, 0 = not chosen; empty = not answered or not asked")
    if question.type == QuestionType.AGREEMENT_SCALE:
        return text, " ".join(_scale_coding(question))
    if question.type == QuestionType.NUMBER:
        return text, _(
            "A range (0–4, 5–9, 10–19, 20–29, 30+), not the exact number; “(hidden)” where it "
            "would single someone out; empty = skipped or not asked"
        )
    labels = " / ".join(option.label.get(current_language()) for option in question.options)
    if question.report in PROTECTED:
        return text, labels + " — " + _(
            "“(hidden)” where this profile is shared by fewer respondents than the smallest group shown"
        )
    return text, labels
