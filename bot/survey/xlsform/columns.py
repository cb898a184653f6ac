"""How Hiwar's survey keys and XLSForm's columns correspond, both ways.

Keys XLSForm has a column for are mapped by hand (`NATIVE_*`); every other key of a
question, an option or the survey travels in a `hiwar::<key>` column, generically: a text in
every language as `hiwar::<key>::Arabic (ar)` and `hiwar::<key>::English (en)`, anything else
as one YAML value. So a field added to the model (and to the survey file) crosses XLSForm
without a change here.
"""

from __future__ import annotations

import re
from typing import Any, Final

import yaml

from bot.survey.loader import parse_scalar
from bot.survey.model import LANGUAGES

HIWAR: Final = "hiwar::"
LANGUAGE_COLUMNS: Final = {"ar": "Arabic (ar)", "en": "English (en)"}
"""The language part of the columns Hiwar writes (`label::Arabic (ar)`)."""
_LANGUAGE_NAMES: Final = {
    "ar": ("arabic", "arabe", "árabe", "العربية", "عربي"),
    "en": ("english", "anglais", "inglés", "الإنجليزية", "انجليزي"),
}
NATIVE_QUESTION_KEYS: Final = frozenset(
    {
        "id",
        "type",
        "text",
        "hint",
        "optional",
        "relevant",
        "constraint",
        "constraint_message",
        "required_message",
        "default",
        "choice_filter",
        "calculation",
        "options",
        "integer",
    }
)
"""Question keys that XLSForm columns carry (show_if too, as `relevant`, when it can)."""
NATIVE_OPTION_KEYS: Final = frozenset({"id", "label", "filters"})
NATIVE_SURVEY_KEYS: Final = frozenset({"id", "version", "languages", "questions"})


def language_code(name: str, default: str | None = None) -> str | None:
    """The Hiwar language of a column's language part: `Arabic (ar)`, `ar`, `English`…;
    `default` for pyxform's "default" (a column with no language)."""
    cleaned = name.strip().lower()
    if cleaned == "default":
        return default
    if match := re.search(r"\(([a-z]{2,3})(?:[-_][a-z0-9]+)?\)\s*$", cleaned):
        cleaned = match.group(1)
    for code in LANGUAGES:
        if cleaned == code or cleaned.split(" ")[0] in _LANGUAGE_NAMES[code]:
            return code
    return None


def cell(value: object) -> str:
    """A value for a `hiwar::` column, read back as the same value by `read_cell`."""
    if isinstance(value, str) and read_cell(value) == value:
        return value
    return (
        yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000)
        .strip("\n")
        .removesuffix("\n...")
    )


def read_cell(text: str) -> object:
    return parse_scalar(text)


def extra_columns(item: dict[str, Any], native: frozenset[str]) -> dict[str, str]:
    """The `hiwar::` columns of a question, option or survey written as a file's mapping."""
    columns: dict[str, str] = {}
    for key, value in item.items():
        if key in native:
            continue
        if isinstance(value, dict) and set(value) == set(LANGUAGES):
            for language, text in value.items():
                columns[f"{HIWAR}{key}::{LANGUAGE_COLUMNS[language]}"] = text
        else:
            columns[f"{HIWAR}{key}"] = cell(value)
    return columns


def read_extras(row: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The keys a row's `hiwar::` columns give, and the columns whose language is unknown."""
    extras: dict[str, Any] = {}
    unknown: list[str] = []
    for column, raw in row.items():
        if not column.startswith(HIWAR) or raw is None:
            continue
        key, _, language = column.removeprefix(HIWAR).partition("::")
        if not language:
            extras[key] = read_cell(str(raw))
        elif (code := language_code(language)) is not None:
            extras.setdefault(key, {})[code] = str(raw)
        else:
            unknown.append(column)
    return extras, unknown


# --- Hiwar's own rules written as XLSForm expressions -----------------------------------------


def condition_expression(condition: dict[str, Any]) -> str:
    """`show_if` as XLSForm's `relevant`."""
    return " or ".join(
        f"selected(${{{condition['question']}}}, '{value}')" for value in condition["any_of"]
    )


_SELECTED: Final = re.compile(r"selected\(\$\{([a-z0-9_]+)\}, '([A-Za-z0-9_.-]+)'\)")


def condition_of(expression: str) -> dict[str, Any] | None:
    """The `show_if` that `condition_expression` wrote, when `expression` is one."""
    parts = expression.split(" or ")
    matches = [_SELECTED.fullmatch(part) for part in parts]
    if not all(matches):
        return None
    questions = {match.group(1) for match in matches if match}
    if len(questions) != 1:
        return None
    return {"question": questions.pop(), "any_of": [m.group(2) for m in matches if m]}


def limits_constraint(question: dict[str, Any]) -> str | None:
    """Hiwar's limits (a number's bounds, a text's length, how many choices) as a constraint
    that ODK Collect enforces too; None when there are none."""
    parts = []
    if question.get("min") is not None:
        parts.append(f". >= {question['min']}")
    if question.get("max") is not None:
        parts.append(f". <= {question['max']}")
    if question.get("max_length") is not None:
        parts.append(f"string-length(.) <= {question['max_length']}")
    if question.get("max_choices") is not None:
        parts.append(f"count-selected(.) <= {question['max_choices']}")
    return " and ".join(parts) or None
