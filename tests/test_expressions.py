"""The XLSForm expression evaluator against the values ODK Collect gives.

Most rows are JavaRosa 5.1.0's recorded answers (the engine inside ODK Collect and
KoboCollect) over an instance where `age` is 42, `blank` and `missing` are unanswered,
`name` is "Maria da Silva", `services` is the multiple choice "water power", `one_service`
the single choice "water" and `cpf` "12345678901"; the rest are ODK's documented rules for
unanswered questions, dates and choice filters.
"""

from __future__ import annotations

import math
from datetime import date

import pytest

from bot.survey.expressions import (
    Context,
    ExpressionError,
    UnsupportedFunction,
    evaluate,
    holds,
    parse,
    to_string,
)

INSTANCE = {
    "age": 42.0,
    "blank": "",
    "name": "Maria da Silva",
    "services": "water power",
    "one_service": "water",
    "cpf": "12345678901",
    "born": "2000-02-29",
    "spaced": "  padded  ",
}
TODAY = date(2026, 8, 14)

# expression, the value Collect gives (numbers as XPath prints them)
TABLE = [
    ("1 + 1", 2.0),
    ("7 div 2", 3.5),
    ("7 mod 3", 1.0),
    ("-7 mod 3", -1.0),  # the sign of the dividend, as Java's %
    ("1 div 0", math.inf),
    ("-1 div 0", -math.inf),
    ("0 div 0", math.nan),
    ("2 * 3 + 4", 10.0),
    ("2 * (3 + 4)", 14.0),
    ("number('abc')", math.nan),
    ("number('42')", 42.0),
    ("number(${age})", 42.0),
    ("number(${blank})", math.nan),
    ("round(1.5)", 2.0),
    ("round(2.5)", 3.0),
    ("round(-1.5)", -1.0),  # halves up, not away from zero
    ("round(1.2345, 2)", 1.23),
    ("round(1235.5, -2)", 1200.0),
    ("int(1.9)", 1.0),
    ("int(-1.9)", -1.0),
    ("int('')", math.nan),
    ("abs(-3)", 3.0),
    ("pow(2, 10)", 1024.0),
    ("min(3, 1, 2)", 1.0),
    ("max(3, 1, 2)", 3.0),
    ("true()", True),
    ("not(true())", False),
    ("boolean('0')", True),
    ("boolean('')", False),
    ("boolean(${blank})", False),
    ("boolean(${missing})", False),
    ("string(${age})", "42"),
    ("string(${missing})", ""),
    ("concat('a', 'b', 'c')", "abc"),
    ("string-length(${name})", 14.0),
    ("string-length(${blank})", 0.0),
    ("normalize-space(${spaced})", "padded"),
    ("contains(${name}, 'Silva')", True),
    ("contains(${name}, 'silva')", False),
    ("starts-with(${name}, 'Maria')", True),
    ("ends-with(${name}, 'Silva')", True),
    ("substr('hello', 2, 3)", "l"),
    ("substr('hello', 0, 2)", "he"),
    ("${age} > 18", True),
    ("${age}>=42", True),
    ("${age} = 42", True),
    ("${age} = '42'", True),
    ("${missing} = 0", False),
    ("${missing} != 0", True),  # "" is NaN, and NaN differs from everything
    ("${blank} = ''", True),
    ("${blank} > 5", False),
    ("${blank} < 5", False),
    ("${blank} >= 0 or ${blank} < 0", False),
    ("number('abc') = number('abc')", False),
    ("number('abc') > 0", False),
    ("'a' < 'b'", False),  # relational operators compare numbers
    ("'10' > '9'", True),
    ("1 < 2 and 2 < 3", True),
    ("1 > 2 or 2 < 3", True),
    ("selected(${services}, 'water')", True),
    ("selected(${services}, 'wat')", False),
    ("selected(${one_service}, 'water')", True),
    ("selected(${blank}, 'water')", False),
    ("count-selected(${services})", 2.0),
    ("count-selected(${one_service})", 1.0),
    ("count-selected(${blank})", 0.0),
    ("selected-at(${services}, 1)", "power"),
    ("selected-at(${services}, 5)", ""),
    ("coalesce(${blank}, 'fallback')", "fallback"),
    ("coalesce(${age}, 'fallback')", 42.0),
    ("if(${age} > 18, 'adult', 'child')", "adult"),
    ("if(${blank} != '', 1 div 0, -1)", -1.0),
    ("regex('12345678901', '[0-9]{11}')", True),
    ("regex('12345678901', '^[0-9]{11}$')", True),
    ("regex('123', '[0-9]{11}')", False),
    ("regex(${cpf}, '[0-9]{11}')", True),
    ("regex('a12345678901b', '[0-9]{11}')", False),  # anchored: the whole value
    ("regex('abc123', '[0-9]+')", False),
    ("today()", TODAY),
    ("string(today())", "2026-08-14"),
    ("${born} < today()", True),
    ("${born} = '2000-02-29'", True),
    ("today() - ${born} > 365 * 18", True),
    ("int((today() - ${born}) div 365.25)", 26.0),
]


def context(current: object = "") -> Context:
    return Context(INSTANCE, TODAY, current=current)  # type: ignore[arg-type]


def same(got: object, expected: object) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(got, float) and math.isnan(got)
    return type(got) is type(expected) and got == expected


@pytest.mark.parametrize(("expression", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_collect_gives_the_same_value(expression: str, expected: object):
    assert same(evaluate(expression, context()), expected)


def test_the_table_is_long_enough():
    assert len(TABLE) >= 40


@pytest.mark.parametrize(
    ("constraint", "value", "accepted"),
    [
        (". >= 18 and . <= 99", 42.0, True),
        (". >= 18 and . <= 99", 17.0, False),
        (".>=18", 18.0, True),
        ("string-length(.) <= 3", "abcd", False),
        ("string-length() <= 3", "abc", True),
        ("regex(., '^07[0-9]{8}$')", "0791234567", True),
        (". <= today()", "2030-01-01", False),
        (". != ${age}", 42.0, False),
    ],
)
def test_constraints_see_the_value_as_dot(constraint: str, value: object, accepted: bool):
    assert holds(constraint, context(value)) is accepted


def test_a_choice_filter_reads_the_choice_columns():
    irbid = Context({"country": "jordan"}, TODAY, item={"name": "irbid", "country": "jordan"})
    tripoli = Context({"country": "jordan"}, TODAY, item={"name": "tripoli", "country": "lebanon"})
    assert holds("country=${country}", irbid)
    assert not holds("country=${country}", tripoli)
    assert holds("name != 'irbid' or country = ${country}", irbid)


def test_references_are_listed():
    parsed = parse("selected(${a}, 'x') and ${b-c} > count-selected(${a})")
    assert parsed.references == {"a", "b-c"}


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        (". > = 5", "'> =' is not an operator: write '>='"),
        (". < = 5", "'< =' is not an operator: write '<='"),
        (". ! = 5", "unexpected '!'"),
        ("${a} >", "ends too early"),
        ("(${a} > 1", "expected ')'"),
        ("../a = 1", "relative paths"),
        ("", "empty"),
        ("selected(${a})", "selected() takes 2 argument(s), not 1"),
        ("__import__('os')", "__import__() is not supported"),
        ("${a} = 'unterminated", "unexpected"),
        ("1 2", "unexpected '2'"),
    ],
)
def test_bad_expressions_are_refused_with_a_reason(expression: str, reason: str):
    with pytest.raises(ExpressionError, match=None) as caught:
        parse(expression)
    assert reason in str(caught.value)


@pytest.mark.parametrize("function", ["pulldata", "search", "indexed-repeat", "position", "now"])
def test_functions_hiwar_cannot_run_are_named(function: str):
    with pytest.raises(UnsupportedFunction) as caught:
        parse(f"{function}('a', 'b') = 1")
    assert caught.value.name == function


def test_numbers_print_as_xpath_prints_them():
    assert [to_string(v) for v in (2.0, 2.5, math.nan, math.inf, True)] == [
        "2", "2.5", "NaN", "Infinity", "true",
    ]  # fmt: skip
