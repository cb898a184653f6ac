"""The engine running XLSForm's logic: relevant in order, calculations, constraints, choice
filters, dates, and keyboards that stay within Telegram's limits."""

from __future__ import annotations

import pytest

from bot.core.callbacks import LIMIT
from bot.core.i18n import use_language
from bot.survey import engine, views
from bot.survey.errors import ConstraintViolated, NotADate
from bot.survey.model import Option, Question, QuestionType, Survey
from bot.survey.service import AskQuestion
from bot.survey.xlsform import import_xlsform
from tests import forms
from tests.factories import opt, t


def survey_of(*questions: Question) -> Survey:
    return Survey("logic", 1, t("Logic"), t("Logic test"), questions)


AGE = Question("age", QuestionType.NUMBER, t("Age?"))
ADULT = Question(
    "adult", QuestionType.CALCULATE, t("adult"), calculation="if(${age} >= 18, 'yes', 'no')"
)
JOB = Question("job", QuestionType.FREE_TEXT, t("Job?"), relevant="${adult} = 'yes'")
SCHOOL = Question("school", QuestionType.FREE_TEXT, t("School?"), relevant="${adult} = 'no'")
LOGIC = survey_of(AGE, ADULT, JOB, SCHOOL)


def ids(questions: list[Question]) -> list[str]:
    return [q.id for q in questions]


def test_a_condition_on_an_unanswered_question_counts_as_shown():
    """So that the total in "Question 1 of N" can only shrink as answers come in."""
    assert ids(engine.path(LOGIC, {})) == ["age", "job", "school"]
    assert ids(engine.path(LOGIC, {"age": 30})) == ["age", "job"]
    assert ids(engine.path(LOGIC, {"age": 12})) == ["age", "school"]


def test_a_calculation_is_text_as_odk_stores_it():
    flag = Question("flag", QuestionType.CALCULATE, t("flag"), calculation="${age} > 17")
    false_is_text = Question("q", QuestionType.FREE_TEXT, t("Q"), relevant="${flag} = 'false'")
    survey = survey_of(AGE, flag, false_is_text)
    assert ids(engine.path(survey, {"age": 12})) == ["age", "q"]
    assert ids(engine.path(survey, {"age": 40})) == ["age"]


def test_a_hidden_question_is_empty_for_the_questions_after_it():
    """Regression guard: an answer given before a change of mind hid its question must not
    keep deciding what comes next."""
    detail = Question("detail", QuestionType.FREE_TEXT, t("Detail?"), relevant="${job} != ''")
    survey = survey_of(AGE, ADULT, JOB, detail)
    answers = {"age": 12, "job": "baker"}  # job answered while age was 30, then changed
    assert ids(engine.path(survey, answers)) == ["age"]


def test_constraints_see_the_answer_and_the_earlier_ones():
    older = Question(
        "older",
        QuestionType.NUMBER,
        t("Oldest sibling?"),
        constraint=". >= ${age}",
        constraint_message=t("At least your own age."),
    )
    survey = survey_of(AGE, older)
    engine.check_constraint(survey, {"age": 20}, older, 25)
    with pytest.raises(ConstraintViolated) as caught:
        engine.check_constraint(survey, {"age": 20}, older, 19)
    assert caught.value.message == t("At least your own age.")


def test_a_choice_filter_offers_the_choices_of_the_earlier_answer():
    country = Question(
        "country", QuestionType.SINGLE_CHOICE, t("Country?"), options=(opt("jo"), opt("lb"))
    )
    city = Question(
        "city",
        QuestionType.SINGLE_CHOICE,
        t("City?"),
        options=(
            Option("amman", t("Amman"), filters=(("country", "jo"),)),
            Option("beirut", t("Beirut"), filters=(("country", "lb"),)),
        ),
        choice_filter="country = ${country}",
    )
    survey = survey_of(country, city)
    shown = engine.options_shown(survey, {"country": "lb"}, city)
    assert [o.id for o in shown] == ["beirut"]
    assert engine.parse_option(city, "beirut", shown) == "beirut"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2025-03-31", "2025-03-31"),
        ("31/03/2025", "2025-03-31"),
        ("٣١/٠٣/٢٠٢٥", "2025-03-31"),
        ("1.2.2024", "2024-02-01"),
    ],
)
def test_dates_are_read_day_first_or_iso(typed: str, stored: str):
    assert engine.parse_date(typed) == stored


@pytest.mark.parametrize("typed", ["31/02/2025", "2025-13-01", "yesterday", "03/31/2025"])
def test_impossible_dates_are_refused(typed: str):
    with pytest.raises(NotADate):
        engine.parse_date(typed)


@pytest.mark.parametrize("form", ["youth_voices", "arabic_only", "english_only"])
@pytest.mark.parametrize("language", ["ar", "en"])
def test_every_card_of_an_imported_form_fits_telegram(form: str, language: str):
    """At most 100 buttons and 8 a row, callback data within 64 bytes, text within 4,096
    characters, on every page of every question."""
    survey = import_xlsform(getattr(forms, form)(), "f.xlsx").survey
    for question in survey.questions:
        if question.type == QuestionType.CALCULATE:
            continue
        pages = engine.page_count(len(question.options))
        for page in range(pages):
            screen = AskQuestion(
                question,
                engine.Position(1, len(survey.questions)),
                options=question.options,
                page=page,
                can_go_back=True,
            )
            with use_language(language):
                card = views.ask(screen)
            buttons = [button for row in card.rows for button in row]
            assert len(buttons) <= 100 and all(len(row) <= 8 for row in card.rows)
            assert all(len(button.data.pack().encode()) <= LIMIT for button in buttons)
            assert len(card.text) <= 4096
