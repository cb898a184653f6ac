"""Survey navigation and validation, pure functions (no storage, no Telegram)."""

from dataclasses import replace

import pytest

from bot.survey import engine
from bot.survey.errors import (
    AnswerOutOfRange,
    ButtonExpected,
    EmptyAnswer,
    NotANumber,
    NothingChosen,
    StaleQuestion,
    TextTooLong,
    TooManyChoices,
)
from tests.factories import mini_survey

SURVEY = mini_survey()


def ids(questions):
    return [q.id for q in questions]


def test_path_counts_unanswered_conditions_as_shown_so_totals_only_shrink():
    assert len(engine.path(SURVEY, {})) == 8
    assert "police_trust" not in ids(engine.path(SURVEY, {"level": "local"}))
    assert "police_trust" in ids(engine.path(SURVEY, {"level": "police"}))


def test_condition_on_scale_value():
    base = {"level": "local"}
    assert "channel" in ids(engine.path(SURVEY, {**base, "no_trust": 5}))
    assert "channel" not in ids(engine.path(SURVEY, {**base, "no_trust": 2}))
    assert "channel" not in ids(engine.path(SURVEY, {**base, "no_trust": None}))


def test_next_question_follows_skip_logic():
    assert engine.next_question(SURVEY, {"level": "local"}, "level").id == "no_trust"
    assert engine.next_question(SURVEY, {"level": "police"}, "level").id == "police_trust"


def test_next_after_changed_answer_returns_to_the_frontier():
    answers = {"level": "local", "no_trust": 2, "priorities": ["funding"]}
    # Went back to level and kept it: continue at the first unanswered question.
    assert engine.next_question(SURVEY, answers, "level").id == "years"
    # Changed it to police: the newly shown follow-up is asked first.
    changed = {**answers, "level": "police"}
    assert engine.next_question(SURVEY, changed, "level").id == "police_trust"


def test_previous_question_and_position():
    answers = {"level": "local", "no_trust": 5}
    assert engine.previous_question(SURVEY, answers, "channel").id == "no_trust"
    assert engine.previous_question(SURVEY, answers, "level") is None
    assert engine.position(SURVEY, answers, "channel") == engine.Position(3, 7)


def test_hidden_answers_are_dropped():
    answers = {"level": "local", "police_trust": 4, "no_trust": 1}
    assert "police_trust" not in engine.answers_on_path(SURVEY, answers)


def test_toggle_respects_maximum_and_keeps_definition_order():
    question = SURVEY.question("priorities")
    draft = engine.toggle(question, (), "funding")
    draft = engine.toggle(question, draft, "inclusion")
    assert draft == ("inclusion", "funding")
    with pytest.raises(TooManyChoices):
        engine.toggle(question, draft, "realism")
    assert engine.toggle(question, draft, "funding") == ("inclusion",)
    with pytest.raises(StaleQuestion):
        engine.toggle(question, draft, "nonexistent")
    with pytest.raises(NothingChosen):
        engine.finish_selection(())


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7", 7), (" 60 ", 60), ("٤٢", 42), ("۱۲", 12), ("0", 0), ("+5", 5), ("1000", None)],
)
def test_numbers_in_any_digits(text, expected):
    question = SURVEY.question("years")
    if expected is None:
        with pytest.raises(AnswerOutOfRange):
            engine.parse_text_answer(question, text)
    else:
        assert engine.parse_text_answer(question, text) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("61", AnswerOutOfRange),
        ("-1", AnswerOutOfRange),
        ("abc", NotANumber),
        ("2.5", NotANumber),
        ("", EmptyAnswer),
        ("nan", NotANumber),
        # Regression: these were read as 25, 15, 10 and 10 (int() and float() are lenient).
        ("2,5", NotANumber),
        ("1 5", NotANumber),
        ("1_0", NotANumber),
        ("1e1", NotANumber),
        ("1,000", NotANumber),
        ("٢٬٥", NotANumber),
        ("١٠ سنوات", NotANumber),
        ("0x10", NotANumber),
        ("١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩", NotANumber),
    ],
)
def test_bad_numbers(text, error):
    with pytest.raises(error):
        engine.parse_text_answer(SURVEY.question("years"), text)


def test_free_text_limits():
    question = SURVEY.question("channel")
    assert engine.parse_text_answer(question, "  radio  ") == "radio"
    with pytest.raises(TextTooLong) as caught:
        engine.parse_text_answer(question, "x" * 21)
    assert (caught.value.limit, caught.value.length) == (20, 21)
    with pytest.raises(EmptyAnswer):
        engine.parse_text_answer(question, "   ")


@pytest.mark.parametrize(("text", "expected"), [("2.5", 2.5), ("٢٫٥", 2.5), ("-3", -3.0), ("7", 7.0)])
def test_decimals_where_the_question_allows_them(text, expected):
    question = replace(SURVEY.question("years"), integer=False, min_value=-10)
    assert engine.parse_text_answer(question, text) == expected
    for refused in ("2.", ".5", "2..5", "2.5.1", "2,5"):
        with pytest.raises(NotANumber):
            engine.parse_text_answer(question, refused)


@pytest.mark.parametrize(
    "text",
    ["\u200b", "\u200d", "\u202e", " \u200b\u200f ", "@amal_jordan", "\u202e@someone\u2069", "\x07"],
)
def test_answers_that_say_nothing_are_refused(text):
    """Regression: a zero-width space, a joiner, a U+202E or a mention was stored as an answer."""
    with pytest.raises(EmptyAnswer):
        engine.parse_text_answer(SURVEY.question("channel"), text)


@pytest.mark.parametrize("text", ["ok", "٣", "راديو", "\u202eradio", "email me@x"])
def test_answers_with_a_letter_or_digit_are_kept(text):
    assert engine.parse_text_answer(SURVEY.question("channel"), text) == text


def test_text_for_a_button_question_is_refused():
    with pytest.raises(ButtonExpected):
        engine.parse_text_answer(SURVEY.question("level"), "local")
