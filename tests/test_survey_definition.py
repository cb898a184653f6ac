"""The shipped survey file and the loader's checks of survey definitions."""

from __future__ import annotations

import copy
import os
import pickle
import random
import textwrap
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.survey.loader import (
    DEFAULT_SURVEY_PATH,
    MAX_LABEL_LENGTH,
    SurveyFileError,
    load_survey,
)
from bot.survey.model import QuestionType, ReportRole, ScaleLabels, Side, Survey, Text


@pytest.fixture(scope="module")
def shipped() -> Survey:
    return load_survey(DEFAULT_SURVEY_PATH)


def all_texts(survey: Survey) -> Iterator[tuple[str, Text]]:
    yield "title", survey.title
    yield "introduction", survey.introduction
    for q in survey.questions:
        yield f"{q.id}.text", q.text
        if q.short_label is not None:
            yield f"{q.id}.short_label", q.short_label
        for o in q.options:
            yield f"{q.id}.{o.id}", o.label


def is_arabic_letter(char: str) -> bool:
    return unicodedata.category(char).startswith("L") and "ARABIC" in unicodedata.name(char, "")


def first_letter(text: str) -> str:
    return next(c for c in text if unicodedata.category(c).startswith("L"))


# --- The shipped survey ---------------------------------------------------------------------


def test_shipped_survey_is_package_data():
    assert DEFAULT_SURVEY_PATH.is_file()
    assert DEFAULT_SURVEY_PATH.parts[-4:] == ("bot", "survey", "data", "pcve_cooperation.yaml")


def test_shipped_survey_loads_with_expected_shape(shipped: Survey):
    assert shipped.id == "pcve-cooperation"
    assert shipped.version >= 1
    assert 40 <= len(shipped.questions) <= 45
    assert shipped.minutes is not None
    for role in (ReportRole.SECTOR, ReportRole.LEVEL, ReportRole.COUNTRY, ReportRole.INVITATIONS):
        (question,) = shipped.with_role(role)
        assert question.type == QuestionType.SINGLE_CHOICE


def test_shipped_profile_questions(shipped: Survey):
    (sector,) = shipped.with_role(ReportRole.SECTOR)
    assert len(sector.options) == 12
    assert {
        "national_gov", "local_gov", "civil_society", "law_enforcement", "faith_based",
        "women_youth", "media", "frontline", "other",
    } <= {o.id for o in sector.options}  # fmt: skip
    # Issue #15: roles ("community leader or parent") are not sectors.
    assert sector.option("community") is None
    (level,) = shipped.with_role(ReportRole.LEVEL)
    sides = [o.side for o in level.options]
    assert sides.count(Side.LOCAL) == 2
    assert sides.count(Side.NATIONAL) == 1
    assert None in sides  # regional/international is neither side of the gap
    (country,) = shipped.with_role(ReportRole.COUNTRY)
    assert len(country.options) == 23  # the 22 member states of the Arab League, and "other"
    assert [o.id for o in country.options[:3]] == ["jordan", "iraq", "lebanon"]
    assert country.options[-1].id == "other"
    typed = shipped.question("country_other")
    assert typed.type == QuestionType.FREE_TEXT and typed.optional
    assert typed.show_if is not None and typed.show_if.any_of == ("other",)
    years = shipped.question("years")
    assert years.type == QuestionType.NUMBER
    assert (years.min_value, years.max_value, years.integer, years.optional) == (0, 60, True, True)


def test_shipped_barriers(shipped: Survey):
    barriers = shipped.with_role(ReportRole.BARRIER)
    assert len(barriers) == 20
    for q in barriers:
        assert q.type == QuestionType.AGREEMENT_SCALE
        assert q.dont_know, f"{q.id}: every agreement item offers “don’t know”"
        assert q.short_label is not None
        assert len(q.short_label.ar) <= MAX_LABEL_LENGTH
        assert len(q.short_label.en) <= MAX_LABEL_LENGTH
    assert len({q.short_label for q in barriers}) == 20
    # Against acquiescence, a good share is worded the other way round (agree = absent).
    reversed_ids = {q.id for q in barriers if q.reversed}
    assert 7 <= len(reversed_ids) <= 13
    assert {"barrier_consensus", "barrier_trust"} <= reversed_ids
    assert not shipped.question("barrier_channels").reversed  # its follow-up asks on 4 or 5


def test_shipped_survey_covers_the_articles_themes_one_idea_each(shipped: Survey):
    """Issue #15: the themes the first version missed, each its own statement; the
    double-barrelled statements split ("… and …" joined two ideas)."""
    ids = {q.id for q in shipped.questions}
    assert {
        "barrier_families", "barrier_leaders", "barrier_youth", "barrier_tension",
        "barrier_information", "barrier_duplication", "barrier_capacity", "barrier_sensitive",
        "barrier_prevention", "barrier_security", "barrier_knowledge", "barrier_excluded",
        "barrier_vocabulary", "barrier_goals", "barrier_monitoring",
    } <= ids  # fmt: skip
    assert not {"barrier_split", "barrier_language"} & ids
    for question in shipped.with_role(ReportRole.BARRIER):
        assert " and national government focuses" not in question.text.en
        assert ", yet " not in question.text.en and ", while " not in question.text.en


def test_shipped_survey_asks_how_well_each_area_is_done_today(shipped: Survey):
    (priorities,) = shipped.with_role(ReportRole.PRIORITY)
    rated = [q for q in shipped.questions if q.scale == ScaleLabels.QUALITY]
    assert [q.id for q in rated] == [f"done_{o.id}" for o in priorities.options]
    assert all(q.type == QuestionType.AGREEMENT_SCALE and q.dont_know for q in rated)
    assert all(shipped.index_of(q.id) < shipped.index_of("priorities") for q in rated)


def test_shipped_context_questions(shipped: Survey):
    for question_id in ("strategy", "contact"):
        assert shipped.question(question_id).type == QuestionType.SINGLE_CHOICE
    for question_id in ("city", "example"):
        question = shipped.question(question_id)
        assert question.type == QuestionType.FREE_TEXT and question.optional
    for question_id in ("gender", "age"):
        question = shipped.question(question_id)
        assert question.optional and question.report == ReportRole.PROFILE


def test_every_shipped_question_has_a_short_label(shipped: Survey):
    """Issue #15: the end-of-survey summary and /mydata name each answer by a short label,
    not by the whole question."""
    for question in shipped.questions:
        assert question.short_label is not None, question.id
        assert len(question.short_label.en) <= 40 and len(question.short_label.ar) <= 40


def test_no_shipped_question_repeats_its_hint(shipped: Survey):
    """The hint under a multiple choice says how many to choose; the text must not too."""
    for question in shipped.with_role(ReportRole.PRIORITY) + shipped.with_role(ReportRole.FORMATS):
        assert "choose" not in question.text.en.casefold(), question.id
        assert "اختر" not in question.text.ar, question.id


def test_shipped_priorities_formats_comments_invitations(shipped: Survey):
    (priority,) = shipped.with_role(ReportRole.PRIORITY)
    assert priority.type == QuestionType.MULTIPLE_CHOICE
    assert priority.max_choices == 2
    assert len(priority.options) == 5
    (formats,) = shipped.with_role(ReportRole.FORMATS)
    assert formats.type == QuestionType.MULTIPLE_CHOICE
    assert formats.max_choices is not None and 2 <= formats.max_choices <= len(formats.options)
    comments = shipped.with_role(ReportRole.COMMENT)
    assert {"grievances", "one_step"} <= {q.id for q in comments}
    assert all(q.optional and q.max_length is not None for q in comments)
    (invitations,) = shipped.with_role(ReportRole.INVITATIONS)
    assert [o.opt_in for o in invitations.options] == [True, False]
    assert shipped.questions[-1] is invitations


def test_shipped_skip_logic_covers_choice_and_scale(shipped: Survey):
    conditional = [q for q in shipped.questions if q.show_if is not None]
    target_types = set()
    for q in conditional:
        assert q.show_if is not None
        target = shipped.question(q.show_if.question)
        assert shipped.index_of(target.id) < shipped.index_of(q.id)
        target_types.add(target.type)
    assert QuestionType.SINGLE_CHOICE in target_types
    assert QuestionType.AGREEMENT_SCALE in target_types
    police = shipped.question("police_trust")
    assert police.show_if is not None
    assert police.show_if.question == "sector"
    assert police.show_if.any_of == ("law_enforcement",)
    channel = shipped.question("missing_channel")
    assert channel.show_if is not None
    assert channel.show_if.question == "barrier_channels"
    assert channel.show_if.any_of == ("4", "5")


def test_shipped_texts_are_bilingual(shipped: Survey):
    for where, text in all_texts(shipped):
        assert text.ar.strip() and text.en.strip(), where
        assert any(is_arabic_letter(c) for c in text.ar), f"{where}: ar has no Arabic letters"
        assert not any(is_arabic_letter(c) for c in text.en), f"{where}: en has Arabic letters"


def test_shipped_arabic_texts_start_with_arabic(shipped: Survey):
    """Regression: Telegram picks direction from the first strong character, so an Arabic
    text that opens with a Latin word would be shown left-to-right."""
    for where, text in all_texts(shipped):
        assert is_arabic_letter(first_letter(text.ar)), where


def test_shipped_ids_fit_telegram_callback_data(shipped: Survey):
    for q in shipped.questions:
        for o in q.options or ():
            assert len(f"hiwar:{shipped.id}:{q.id}:{o.id}".encode()) <= 64


def test_shipped_loader_accepts_str_path():
    assert load_survey(str(DEFAULT_SURVEY_PATH)).id == "pcve-cooperation"


# --- Validation rules -----------------------------------------------------------------------

HEADER = """\
id: test-survey
version: 1
title: {ar: "عنوان", en: "Title"}
introduction: {ar: "مقدمة", en: "Introduction"}
questions:
"""

Q1_CHOICE = """\
  - id: q1
    type: single_choice
    text: {ar: "سؤال", en: "Question"}
    options:
      - {id: a, label: {ar: "أ", en: "A"}}
      - {id: b, label: {ar: "ب", en: "B"}}
"""

Q_SCALE = """\
  - id: scale
    type: agreement_scale
    text: {ar: "عبارة", en: "Statement"}
"""

Q_FREE = """\
  - id: free
    type: free_text
    text: {ar: "نص", en: "Text"}
"""

Q_NUMBER = """\
  - id: num
    type: number
    min: 0
    max: 10
    text: {ar: "رقم", en: "Number"}
"""


def write(tmp_path: Path, body: str, name: str = "survey.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def error_of(path: Path) -> SurveyFileError:
    with pytest.raises(SurveyFileError) as caught:
        load_survey(path)
    return caught.value


def problems_of(path: Path) -> list[str]:
    return error_of(path).problems


def test_minimal_valid_survey_loads(tmp_path):
    survey = load_survey(write(tmp_path, HEADER + Q1_CHOICE + Q_SCALE + Q_FREE + Q_NUMBER))
    assert [q.id for q in survey.questions] == ["q1", "scale", "free", "num"]
    assert survey.question("free").max_length == 1000  # default
    assert survey.question("num").integer is True


def test_scale_options_load_and_default_off(tmp_path):
    flags = "    dont_know: true\n    reversed: true\n    scale: quality\n"
    body = HEADER.replace("version: 1", "version: 1\nminutes: 9") + Q_SCALE + flags
    survey = load_survey(write(tmp_path, body + Q_SCALE.replace("id: scale", "id: plain")))
    flagged, plain = survey.question("scale"), survey.question("plain")
    assert (flagged.dont_know, flagged.reversed, flagged.scale) == (True, True, "quality")
    assert (plain.dont_know, plain.reversed, plain.scale) == (False, False, "agreement")
    assert survey.minutes == 9
    zero = write(
        tmp_path, HEADER.replace("version: 1", "version: 1\nminutes: 0") + Q_FREE, "z.yaml"
    )
    assert any("minutes: should be at least 1" in p for p in problems_of(zero))


def test_yaml_1_2_booleans_keep_yes_and_no_as_texts(tmp_path):
    body = HEADER + textwrap.indent(
        textwrap.dedent("""\
        - id: invitations
          type: single_choice
          report: invitations
          text: {ar: "دعوة؟", en: "Invite?"}
          options:
            - {id: yes, label: {ar: "نعم", en: Yes}, opt_in: true}
            - {id: no, label: {ar: "لا", en: No}}
        """),
        "  ",
    )
    question = load_survey(write(tmp_path, body)).question("invitations")
    assert [(o.id, o.label.en, o.opt_in) for o in question.options] == [
        ("yes", "Yes", True),
        ("no", "No", False),
    ]


def test_multiple_choice_max_choices_defaults_to_all_options(tmp_path):
    body = HEADER + Q1_CHOICE.replace("single_choice", "multiple_choice")
    assert load_survey(write(tmp_path, body)).question("q1").max_choices == 2


def test_scale_condition_accepts_unquoted_numbers(tmp_path):
    body = HEADER + Q_SCALE + Q_FREE + "    show_if: {question: scale, any_of: [4, 5]}\n"
    condition = load_survey(write(tmp_path, body)).question("free").show_if
    assert condition is not None and condition.any_of == ("4", "5")


# Each case: (name, YAML for the questions list, where the problem is, what it says).
# An empty `where` means a survey-level problem.
RULES: list[tuple[str, str, str, str]] = [
    (
        "unknown question key",
        Q1_CHOICE + "    colour: red\n",
        "q1",
        "unknown key 'colour'",
    ),
    ("misspelt key", Q_FREE + "    optinal: true\n", "free", "did you mean 'optional'?"),
    (
        "missing type",
        "  - id: q1\n    text: {ar: 'س', en: 'Q'}\n",
        "q1",
        "the key type is missing",
    ),
    ("missing text", "  - id: q1\n    type: free_text\n", "q1", "the key text is missing"),
    (
        "missing id",
        "  - type: free_text\n    text: {ar: 'س', en: 'Q'}\n",
        "question 1",
        "question 1: the key id is missing",
    ),
    ("missing en", Q_FREE.replace(', en: "Text"', ""), "free", "text: the key en is missing"),
    ("missing ar", Q_FREE.replace('ar: "نص", ', ""), "free", "text: the key ar is missing"),
    ("empty ar", Q_FREE.replace('"نص"', '"  "'), "free", "text.ar: should not be empty"),
    ("empty en", Q_FREE.replace('"Text"', '""'), "free", "text.en: should not be empty"),
    (
        "null en",
        Q_FREE.replace('"Text"', "null"),
        "free",
        "text.en: should be a text, not nothing (null)",
    ),
    (
        "number as text",
        Q_FREE.replace('"Text"', "5"),
        "free",
        "text.en: should be a text, not the number 5",
    ),
    (
        "plain text",
        Q_FREE.replace('{ar: "نص", en: "Text"}', '"Text"'),
        "free",
        "text: should be a mapping, not the text 'Text'",
    ),
    ("extra language", Q_FREE.replace('en: "Text"', 'en: "T", fr: "T"'), "free", "'fr'"),
    (
        "unknown type",
        Q_FREE.replace("free_text", "essay"),
        "free",
        "type: should be one of: single_choice, multiple_choice, agreement_scale, free_text, number, date, note, acknowledge, calculate",
    ),
    (
        "unknown report",
        Q_FREE + "    report: mood\n",
        "free",
        "report: should be one of: sector, level, country, barrier, priority, formats, invitations, comment, profile",
    ),
    (
        "optional not boolean",
        Q_FREE + "    optional: yes\n",
        "free",
        "optional: should be true or false, not the text 'yes'",
    ),
    ("duplicate key", Q_FREE + "    type: number\n", "free", "key 'type' is given twice"),
    ("duplicate question id", Q_FREE + Q_FREE, "free", "id: is also the id of question 1"),
    (
        "id with capitals",
        Q_FREE.replace("id: free", "id: Free"),
        "Free",
        "id: may only use the characters a-z0-9_",
    ),
    (
        "id with dash",
        Q_FREE.replace("id: free", "id: free-text"),
        "free-text",
        "id: may only use the characters a-z0-9_",
    ),
    (
        "id not a text",
        Q_FREE.replace("id: free", "id: 12"),
        "question 1",
        "question 1: id: should be a text, not the number 12",
    ),
    ("id too long", Q_FREE.replace("id: free", "id: " + "x" * 25), "x" * 25, "at most 24"),
    ("options on free_text", Q_FREE + "    options: []\n", "free", "options is only for"),
    ("options on scale", Q_SCALE + "    options: []\n", "scale", "options is only for"),
    ("dont_know on free_text", Q_FREE + "    dont_know: true\n", "free", "dont_know is only for"),
    ("reversed on choice", Q1_CHOICE + "    reversed: true\n", "q1", "reversed is only for"),
    (
        "dont_know not a boolean",
        Q_SCALE + "    dont_know: yes\n",
        "scale",
        "dont_know: should be true or false, not the text 'yes'",
    ),
    (
        "unknown scale words",
        Q_SCALE + "    scale: stars\n",
        "scale",
        "scale: should be one of: agreement, quality",
    ),
    (
        "choice without options",
        "  - id: q1\n    type: single_choice\n    text: {ar: 'س', en: 'Q'}\n",
        "q1",
        "the key options is missing",
    ),
    (
        "one option",
        Q1_CHOICE.split("      - {id: b")[0],
        "q1",
        "options: should have at least 2 items",
    ),
    (
        "501 options (more than a keyboard holds are paginated, up to 500)",
        Q1_CHOICE.split("    options:")[0]
        + "    options:\n"
        + "".join(f"      - {{id: o{i}, label: {{ar: 'خ', en: 'O'}}}}\n" for i in range(501)),
        "q1",
        "options: should have at most 500 items",
    ),
    ("options not a list", Q1_CHOICE.split("    options:")[0] + "    options: 3\n", "q1", "list"),
    (
        "duplicate option id",
        Q1_CHOICE.replace("id: b", "id: a"),
        "q1: option 'a'",
        "id: is also the id of an earlier option",
    ),
    (
        "bad option id",
        Q1_CHOICE.replace("id: b", "id: B b"),
        "option 'B b'",
        "q1: option 'B b': id: may only use the characters A-Za-z0-9_.-",
    ),
    ("option id too long", Q1_CHOICE.replace("id: b", "id: " + "b" * 33), "q1", "at most 32"),
    (
        "label too long",
        Q1_CHOICE.replace('en: "B"', 'en: "' + "B" * 101 + '"'),
        "q1: option 'b'",
        "at most 100",
    ),
    (
        "option missing label",
        Q1_CHOICE.replace(', label: {ar: "ب", en: "B"}', ""),
        "q1: option 'b'",
        "the key label is missing",
    ),
    (
        "option unknown key",
        Q1_CHOICE.replace("id: b,", "id: b, value: 2,"),
        "q1: option 'b'",
        "'value'",
    ),
    (
        "max_choices on single_choice",
        Q1_CHOICE + "    max_choices: 2\n",
        "q1",
        "max_choices is only for questions of type multiple_choice, not single_choice",
    ),
    (
        "max_choices of one",
        Q1_CHOICE.replace("single_choice", "multiple_choice") + "    max_choices: 1\n",
        "q1",
        "max_choices: should be at least 2",
    ),
    (
        "max_choices above options",
        Q1_CHOICE.replace("single_choice", "multiple_choice") + "    max_choices: 3\n",
        "q1",
        "max_choices: 3 is more than the number of options (2)",
    ),
    ("max_length zero", Q_FREE + "    max_length: 0\n", "free", "max_length: should be at least 1"),
    (
        "max_length huge",
        Q_FREE + "    max_length: 5000\n",
        "free",
        "max_length: should be at most 4000",
    ),
    (
        "max_length on number",
        Q_NUMBER + "    max_length: 5\n",
        "num",
        "max_length is only for questions of type free_text, not number",
    ),
    (
        "min on free_text",
        Q_FREE + "    min: 1\n",
        "free",
        "min is only for questions of type number, not free_text",
    ),
    ("min equals max", Q_NUMBER.replace("max: 10", "max: 0"), "num", "less than max"),
    (
        "min not a number",
        Q_NUMBER.replace("min: 0", "min: low"),
        "num",
        "min: should be a number, not the text 'low'",
    ),
    (
        "min infinite",
        Q_NUMBER.replace("min: 0", "min: -.inf"),
        "num",
        "min: should be a finite number",
    ),
    ("decimal for integer", Q_NUMBER.replace("max: 10", "max: 9.5"), "num", "whole number"),
    (
        "integer not boolean",
        Q_NUMBER + "    integer: 1\n",
        "num",
        "integer: should be true or false, not the number 1",
    ),
    (
        "condition on unknown question",
        Q1_CHOICE + Q_FREE + "    show_if: {question: nope, any_of: [a]}\n",
        "free",
        "show_if: refers to an unknown question, 'nope'",
    ),
    (
        "condition on later question",
        Q_FREE + "    show_if: {question: q1, any_of: [a]}\n" + Q1_CHOICE,
        "free",
        "show_if: refers to a later question, 'q1'; only earlier ones can be read",
    ),
    (
        "condition on itself",
        Q1_CHOICE + "    show_if: {question: q1, any_of: [a]}\n",
        "q1",
        "the question itself",
    ),
    (
        "condition on unknown option",
        Q1_CHOICE + Q_FREE + "    show_if: {question: q1, any_of: [a, zz]}\n",
        "free",
        "show_if: question 'q1' has no option zz",
    ),
    (
        "condition with scale value out of range",
        Q_SCALE + Q_FREE + "    show_if: {question: scale, any_of: ['6']}\n",
        "free",
        "show_if: on scale question 'scale' the values must be 1 to 5, not 6",
    ),
    (
        "condition on free text",
        Q_FREE.replace("id: free", "id: f1")
        + Q_FREE
        + "    show_if: {question: f1, any_of: [x]}\n",
        "free",
        "show_if: cannot depend on question 'f1', of type free_text (only on choice and agreement_scale questions)",
    ),
    (
        "condition on number",
        Q_NUMBER + Q_FREE + "    show_if: {question: num, any_of: ['1']}\n",
        "free",
        "show_if: cannot depend on question 'num', of type number (only on choice and agreement_scale questions)",
    ),
    (
        "condition with empty any_of",
        Q1_CHOICE + Q_FREE + "    show_if: {question: q1, any_of: []}\n",
        "free",
        "show_if.any_of: should not be empty",
    ),
    (
        "condition missing any_of",
        Q1_CHOICE + Q_FREE + "    show_if: {question: q1}\n",
        "free",
        "show_if: the key any_of is missing",
    ),
    (
        "condition not a mapping",
        Q_FREE + "    show_if: q1\n",
        "free",
        "show_if: should be a mapping, not the text 'q1'",
    ),
    (
        "side outside the level question",
        Q1_CHOICE.replace("id: a,", "id: a, side: local,"),
        "q1: option 'a'",
        "side: only for options of the report: level question",
    ),
    (
        "opt_in outside the invitations question",
        Q1_CHOICE.replace("id: a,", "id: a, opt_in: true,"),
        "q1: option 'a'",
        "opt_in: only for options of the report: invitations question",
    ),
    (
        "unknown side",
        Q1_CHOICE.replace("id: a,", "id: a, side: middle,").replace(
            "id: b,", "id: b, side: national,"
        )
        + "    report: level\n",
        "q1: option 'a'",
        "side: should be one of: local, national",
    ),
    (
        "level question without a national option",
        Q1_CHOICE.replace("id: a,", "id: a, side: local,") + "    report: level\n",
        "q1",
        "side: national",
    ),
    (
        "level question without a local option",
        Q1_CHOICE + "    report: level\n",
        "q1",
        "side: local",
    ),
    (
        "two sector questions",
        Q1_CHOICE + "    report: sector\n" + Q1_CHOICE.replace("q1", "q2") + "    report: sector\n",
        "q2",
        "only one question may have report: sector",
    ),
    (
        "two country questions",
        Q1_CHOICE
        + "    report: country\n"
        + Q1_CHOICE.replace("q1", "q2")
        + "    report: country\n",
        "q2",
        "report: country",
    ),
    (
        "invitations as multiple choice",
        Q1_CHOICE.replace("single_choice", "multiple_choice").replace(
            "id: a,", "id: a, opt_in: true,"
        )
        + "    report: invitations\n",
        "q1",
        "report: invitations needs a question of type single_choice, not multiple_choice",
    ),
    (
        "invitations without opt_in",
        Q1_CHOICE + "    report: invitations\n",
        "q1",
        "at least one option with opt_in: true",
    ),
    (
        "invitations without a way to decline",
        Q1_CHOICE.replace("id: a,", "id: a, opt_in: true,").replace(
            "id: b,", "id: b, opt_in: true,"
        )
        + "    report: invitations\n",
        "q1",
        "to decline",
    ),
    (
        "opt_in not boolean",
        Q1_CHOICE.replace("id: a,", "id: a, opt_in: 1,") + "    report: invitations\n",
        "q1: option 'a'",
        "opt_in: should be true or false, not the number 1",
    ),
    ("barrier without short label", Q_SCALE + "    report: barrier\n", "scale", "short_label"),
    ("barrier on free text", Q_FREE + "    report: barrier\n", "free", "agreement_scale"),
    ("sector as free text", Q_FREE + "    report: sector\n", "free", "single_choice"),
    (
        "short label too long",
        Q_SCALE + f"    short_label: {{ar: 'ق', en: '{'L' * 41}'}}\n",
        "scale",
        "short_label.en: should have at most 40 characters",
    ),
    ("text too long", Q_FREE.replace('"Text"', '"' + "T" * 1001 + '"'), "free", "at most 1000"),
]


@pytest.mark.parametrize(
    ("questions", "where", "message"),
    [pytest.param(q, w, m, id=name) for name, q, w, m in RULES],
)
def test_rule_is_enforced(tmp_path, questions: str, where: str, message: str):
    path = write(tmp_path, HEADER + questions)
    problems = problems_of(path)
    matching = [p for p in problems if message in p]
    assert matching, problems
    assert all(p.startswith(f"{path}: ") for p in problems)
    assert any(f": {where}" in p.removeprefix(str(path)) for p in matching), matching


SURVEY_RULES: list[tuple[str, str, str]] = [
    (
        "unknown top-level key",
        HEADER.replace("version: 1\n", "version: 1\nlanguage: ar\n"),
        "unknown key 'language'",
    ),
    (
        "missing title",
        HEADER.replace('title: {ar: "عنوان", en: "Title"}\n', ""),
        "the key title is missing",
    ),
    (
        "version zero",
        HEADER.replace("version: 1", "version: 0"),
        "version: should be at least 1",
    ),
    (
        "version text",
        HEADER.replace("version: 1", "version: one"),
        "version: should be a whole number, not the text 'one'",
    ),
    (
        "version boolean",
        HEADER.replace("version: 1", "version: true"),
        "version: should be a whole number, not true (a boolean)",
    ),
    (
        "survey id with spaces",
        HEADER.replace("id: test-survey", "id: test survey"),
        "id: may only use the characters a-z0-9_-",
    ),
    (
        "empty introduction",
        HEADER.replace('en: "Introduction"', 'en: ""'),
        "introduction.en: should not be empty",
    ),
]


@pytest.mark.parametrize(
    ("header", "message"),
    [pytest.param(h, m, id=name) for name, h, m in SURVEY_RULES],
)
def test_survey_level_rule_is_enforced(tmp_path, header: str, message: str):
    path = write(tmp_path, header + Q_FREE)
    assert any(message in p for p in problems_of(path))


def test_all_problems_are_reported_at_once(tmp_path):
    body = (
        HEADER.replace("version: 1", "version: 0")
        + Q1_CHOICE.replace("id: b", "id: a")
        + Q_FREE.replace('"Text"', '""')
        + "    show_if: {question: later, any_of: [x]}\n"
        + Q_NUMBER.replace("max: 10", "max: -1")
        + Q_SCALE.replace("id: scale", "id: later")
        + "    report: barrier\n"
    )
    path = write(tmp_path, body)
    error = error_of(path)
    expected = [
        "version: should be at least 1",
        "q1: option 'a': id: is also the id of an earlier option",
        "free: text.en: should not be empty",
        "free: show_if: refers to a later question, 'later'",
        "num: min: 0 must be less than max (-1)",
        "later: report: a barrier needs a short_label",
    ]
    for fragment in expected:
        assert any(fragment in p for p in error.problems), (fragment, error.problems)
    message = str(error)
    assert "\n" not in message
    assert message.startswith(f"{path}: {len(error.problems)} problems: ")
    assert "q1: option 'a': id: is also the id of an earlier option" in message


def test_question_of_unknown_type_is_still_checked(tmp_path):
    body = HEADER + Q_FREE.replace("free_text", "essay").replace('"Text"', '""') + "    colour: x\n"
    problems = [p.split(": ", 1)[1] for p in problems_of(write(tmp_path, body))]
    assert problems == [
        "free: type: should be one of: single_choice, multiple_choice, agreement_scale, "
        "free_text, number, date, note, acknowledge, calculate (line 7)",
        "free: text.en: should not be empty (line 8)",
        "free: unknown key 'colour' (allowed: id, type, report, text, short_label, optional, "
        "show_if, hint, relevant, constraint, constraint_message, required_message, default, "
        "options, max_choices, max_length, min, max, integer, dont_know, reversed, scale, "
        "choice_filter, calculation) (line 9)",
    ]


def test_problems_carry_line_numbers(tmp_path):
    path = write(tmp_path, HEADER + Q_FREE + "    colour: red\n")
    (problem,) = problems_of(path)
    assert problem == f"{path}: free: unknown key 'colour' (allowed: " + (
        "id, type, report, text, short_label, optional, show_if, hint, relevant, constraint, "
        "constraint_message, required_message, default, max_length) (line 9)"
    )


def test_one_problem_message_reads_as_one_line(tmp_path):
    path = tmp_path / "missing.yaml"
    error = error_of(path)
    assert str(error) == f"{path}: file not found"
    assert error.problems == [f"{path}: file not found"]


def test_long_problem_lists_are_cut_in_the_message(tmp_path):
    body = HEADER + "".join(
        Q_FREE.replace("id: free", f"id: f{i}") + "    colour: x\n" for i in range(15)
    )
    error = error_of(write(tmp_path, body))
    assert len(error.problems) == 15
    assert str(error).endswith("; … and 5 more")


def test_error_survives_pickling(tmp_path):
    error = error_of(tmp_path / "none.yaml")
    restored = pickle.loads(pickle.dumps(error))
    assert (str(restored), restored.problems) == (str(error), error.problems)


def test_directory_is_reported(tmp_path):
    error = error_of(tmp_path)
    assert error.problems == [f"{tmp_path}: is a directory, not a survey file"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_reported(tmp_path):
    path = write(tmp_path, HEADER + Q_FREE)
    path.chmod(0)
    try:
        assert problems_of(path) == [f"{path}: file is not readable (permission denied)"]
    finally:
        path.chmod(0o600)


def test_invalid_yaml_names_the_line(tmp_path):
    path = write(tmp_path, HEADER + Q_FREE + "    text: [unclosed\n")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: not valid YAML at line ")
    assert "\n" not in problem


# --- Garbage in, SurveyFileError out ---------------------------------------------------------

GARBAGE: list[tuple[str, str | bytes]] = [
    ("empty file", ""),
    ("only a comment", "# nothing here\n"),
    ("list at top level", "- id: q1\n- id: q2\n"),
    ("number at top level", "42\n"),
    ("text at top level", "just some words\n"),
    ("null questions", HEADER + "  null\n"),
    ("questions is a number", HEADER.replace("questions:\n", "questions: 5\n")),
    ("questions is a mapping", HEADER + "  q1: {type: free_text}\n"),
    ("questions of scalars", HEADER + "  - 1\n  - null\n  - [a, b]\n"),
    ("title is a number", HEADER.replace('title: {ar: "عنوان", en: "Title"}', "title: 7")),
    ("title is a list", HEADER.replace('title: {ar: "عنوان", en: "Title"}', "title: [a, b]")),
    (
        "text languages are lists",
        HEADER + "  - {id: q, type: free_text, text: {ar: [1], en: {}}}\n",
    ),
    ("options is a mapping", HEADER + "  - {id: q, type: single_choice, options: {a: 1}}\n"),
    ("options of lists", HEADER + "  - {id: q, type: single_choice, options: [[1], [2]]}\n"),
    (
        "option label null",
        HEADER + "  - {id: q, type: single_choice, options: [{id: a, label: null}]}\n",
    ),
    ("type is a list", HEADER + "  - {id: q, type: [free_text], text: {ar: 'س', en: 'q'}}\n"),
    ("report is a mapping", HEADER + "  - {id: q, type: free_text, report: {a: 1}}\n"),
    ("show_if is a list", HEADER + "  - {id: q, type: free_text, show_if: [1, 2]}\n"),
    ("show_if question is a list", HEADER + "  - {id: q, show_if: {question: [x], any_of: [1]}}\n"),
    ("any_of holds mappings", HEADER + "  - {id: q, show_if: {question: q, any_of: [{a: 1}]}}\n"),
    ("number keys", "1: 2\n3: 4\n"),
    ("null and boolean keys", "~: 1\ntrue: 2\n"),
    ("date version", HEADER.replace("version: 1", "version: 2020-09-01")),
    ("binary text", HEADER.replace('en: "Title"', "en: !!binary aGVsbG8=")),
    ("set as text", HEADER.replace('title: {ar: "عنوان", en: "Title"}', "title: !!set {a, b}")),
    ("python tag", "!!python/object/apply:os.system ['true']\n"),
    ("unhashable key", "? [a, b]\n: c\n"),
    ("two documents", "id: a\n---\nid: b\n"),
    ("unclosed bracket", "id: [\n"),
    ("bad indentation", "id: a\n  version: 1\n version: 2\n"),
    ("tab indentation", "id: a\nquestions:\n\t- id: q\n"),
    ("control character", "id: a\x07b\n"),
    ("deep nesting", "[" * 600 + "]" * 600),
    ("huge integer", "version: " + "9" * 5000 + "\n"),
    (
        "alias bomb",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nid: *c\ntitle: *c\nquestions: [*c, *c]\n",
    ),
    ("not utf-8", b"id: \xff\xfe\x00bad\n"),
    ("utf-16", "id: test\n".encode("utf-16")),
    ("nan bounds", HEADER + "  - {id: q, type: number, min: .nan, max: .nan}\n"),
]


@pytest.mark.parametrize("content", [pytest.param(c, id=name) for name, c in GARBAGE])
def test_garbage_raises_survey_file_error_only(tmp_path, content: str | bytes):
    path = tmp_path / "garbage.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    error = error_of(path)
    assert error.problems
    assert all(p.startswith(f"{path}: ") and "\n" not in p for p in error.problems)
    assert "\n" not in str(error)
    assert len(str(error)) < 3000


def damage(document: Any, rng: random.Random) -> None:
    """Replace or delete one randomly chosen node of `document`, or append junk to a list."""
    replacements: list[Any] = [None, 0, -1, 1.5, True, "", "x", [], {}, [None], {"x": 1}, "Q 1"]
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((node, key))
                walk(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                paths.append((node, index))
                walk(value)

    walk(document)
    parent, key = rng.choice(paths)
    action = rng.random()
    if action < 0.2 and isinstance(parent, dict):
        del parent[key]
    elif action < 0.3 and isinstance(parent, list):
        parent.append(rng.choice(replacements))
    else:
        parent[key] = rng.choice(replacements)


# A small survey that still uses every feature, so damaging it reaches every check.
FULL = (
    HEADER
    + Q1_CHOICE.replace("id: a,", "id: a, side: local,").replace("id: b,", "id: b, side: national,")
    + "    report: level\n"
    + Q_SCALE
    + "    report: barrier\n    short_label: {ar: 'قصير', en: 'Short'}\n"
    + Q_FREE
    + "    report: comment\n    optional: true\n    max_length: 500\n"
    + "    show_if: {question: scale, any_of: ['4', '5']}\n"
    + Q_NUMBER
    + "    integer: false\n    show_if: {question: q1, any_of: [a]}\n"
    + Q1_CHOICE.replace("q1", "multi").replace("single_choice", "multiple_choice")
    + "    report: formats\n    max_choices: 2\n"
    + Q1_CHOICE.replace("q1", "invite").replace("id: a,", "id: a, opt_in: true,")
    + "    report: invitations\n"
)


def test_full_feature_survey_is_valid(tmp_path):
    survey = load_survey(write(tmp_path, FULL))
    assert len(survey.questions) == 6


def test_randomly_damaged_survey_never_crashes(tmp_path):
    """Whatever a damaged file holds, the loader answers with a survey or SurveyFileError."""
    original = yaml.safe_load(FULL)
    rng = random.Random(20200901)
    path = tmp_path / "damaged.yaml"
    outcomes = {"valid": 0, "rejected": 0}
    for _ in range(200):
        document = copy.deepcopy(original)
        for _ in range(rng.randint(1, 3)):
            damage(document, rng)
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        try:
            load_survey(path)
        except SurveyFileError as error:
            outcomes["rejected"] += 1
            assert error.problems and "\n" not in str(error)
        else:
            outcomes["valid"] += 1
    assert outcomes["rejected"] > 150, outcomes
