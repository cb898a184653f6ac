"""An XLSForm workbook read with pyxform and turned into a Hiwar survey.

pyxform (the XLSForm reference implementation) reads the sheets and checks the form's
structure; this module maps what it understood onto the mapping a survey file holds, and
bot/survey/schema.py checks that like any survey file, so an imported survey obeys every
rule a YAML one does and can be written out as YAML. Whatever Hiwar cannot run is reported
with its sheet and row: left out when the survey can run without it, fatal when it cannot.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Final

from pydantic_core import ErrorDetails

from bot.core.i18n import N_, Message, _, use_language
from bot.survey import expressions
from bot.survey.engine import SCALE_VALUES
from bot.survey.loader import reworded
from bot.survey.model import LANGUAGES, QuestionType, Survey
from bot.survey.schema import validate
from bot.survey.xlsform.columns import (
    condition_of,
    language_code,
    limits_constraint,
    read_extras,
)
from bot.survey.xlsform.workbook import WorkbookRefused, check_workbook

SURVEY, CHOICES, SETTINGS = "survey", "choices", "settings"
_ID_LENGTH: Final = 24
_FIRST_ROW: Final = 2
"""pyxform's rows start under the header row."""

_TYPES: Final = {
    "text": QuestionType.FREE_TEXT,
    "integer": QuestionType.NUMBER,
    "decimal": QuestionType.NUMBER,
    "range": QuestionType.NUMBER,
    "select one": QuestionType.SINGLE_CHOICE,
    "select all that apply": QuestionType.MULTIPLE_CHOICE,
    "note": QuestionType.NOTE,
    "acknowledge": QuestionType.ACKNOWLEDGE,
    "date": QuestionType.DATE,
    "calculate": QuestionType.CALCULATE,
}
_METADATA: Final = frozenset(
    {
        "start",
        "end",
        "deviceid",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "start-geopoint",
    }
)
"""Values ODK records by itself; Hiwar records when an answer was given, nothing else."""
_REASONS: Final = {
    "geopoint": Message("geographic questions are not supported"),
    "geotrace": Message("geographic questions are not supported"),
    "geoshape": Message("geographic questions are not supported"),
    "photo": Message("photos and other media are not supported"),
    "image": Message("photos and other media are not supported"),
    "audio": Message("photos and other media are not supported"),
    "video": Message("photos and other media are not supported"),
    "file": Message("photos and other media are not supported"),
    "background-audio": Message("photos and other media are not supported"),
    "barcode": Message("barcodes are not supported"),
    "time": Message("times are not supported (dates are)"),
    "dateTime": Message("times are not supported (dates are)"),
    "rank": Message("ranking is not supported"),
    "hidden": Message("hidden questions are not supported"),
    "xml-external": Message("external data is not supported"),
    "csv-external": Message("external data is not supported"),
    "trigger": Message("acknowledge triggers are not supported"),
}
_LANGUAGE_NAMES: Final = {"ar": Message("Arabic"), "en": Message("English")}


def _left_out(name: str, reason: Message) -> Message:
    return Message("'{name}' is left out: {reason}", name=name, reason=reason)


_FROM_FILE: Final = re.compile(r"\.(csv|xml|geojson)$", re.IGNORECASE)
_OTHER_LABEL: Final = "Specify other."
"""The label pyxform gives the text question it adds after a select with or_other."""


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in the form that Hiwar leaves out (or, when `fatal`, cannot run without)."""

    sheet: str | None
    """None: the file as a whole."""
    row: int | None
    message: Message
    fatal: bool = False

    @property
    def located(self) -> Message:
        """The message with its sheet and row, to be read in the reader's language."""
        if self.sheet is None:
            return self.message
        if self.row is None:
            return Message("{sheet} sheet: {problem}", sheet=self.sheet, problem=self.message)
        return Message(
            "{sheet} sheet, row {row}: {problem}",
            sheet=self.sheet,
            row=self.row,
            problem=self.message,
        )

    def __str__(self) -> str:
        return str(self.located)


class XlsFormError(Exception):
    """A form that cannot be imported; `problems` lists each reason (and what was left out)."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        fatal = [str(p) for p in problems if p.fatal]
        summary = fatal[0] if len(fatal) == 1 else f"{len(fatal)} problems: " + "; ".join(fatal)
        super().__init__(f"{source}: {summary}")


@dataclass(frozen=True, slots=True)
class Imported:
    survey: Survey
    problems: list[Problem]
    """What was left out, each with its sheet and row."""


def import_xlsform(data: bytes, source: str = "form.xlsx") -> Imported:
    """Read an XLSForm workbook; raise `XlsFormError` when it cannot run as a survey."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    try:
        check_workbook(data)
    except WorkbookRefused as refusal:
        raise XlsFormError(source, [Problem(None, None, refusal.reason, True)]) from None
    try:
        definition = get_xlsform(BytesIO(data), file_type=".xlsx")
        form = workbook_to_json(definition, fallback_form_name=_stem(source), warnings=[])
    except PyXFormError as error:
        raise XlsFormError(source, [_pyxform_problem(str(error))]) from None
    except Exception as error:  # pyxform may fail in other ways on odd workbooks
        message = Message(
            "pyxform could not read the form ({reason})", reason=f"{type(error).__name__}: {error}"
        )
        raise XlsFormError(source, [Problem(None, None, message, True)]) from None
    builder = _Builder(definition, form, _stem(source))
    document = builder.document()
    problems = sorted(builder.problems, key=_in_order)
    if any(problem.fatal for problem in problems):
        raise XlsFormError(source, problems)
    survey, errors = validate(document)
    problems += [builder.locate(error) for error in errors]
    if survey is None or errors:
        raise XlsFormError(source, problems)
    return Imported(survey, problems)


def _in_order(problem: Problem) -> tuple[int, int]:
    """Sheet by sheet, as the workbook shows them, then row by row."""
    sheets = (None, SURVEY, CHOICES, SETTINGS)
    return (sheets.index(problem.sheet) if problem.sheet in sheets else 9, problem.row or 0)


def _stem(source: str) -> str:
    return re.sub(r"\.[^.]*$", "", source.rsplit("/", 1)[-1])


def _pyxform_problem(message: str) -> Problem:
    """pyxform's own words (it speaks English only), with the row it names moved to where
    Hiwar puts rows."""
    found = re.search(r"\[row\s*:\s*(\d+)\]\s*", message)
    sheet = next((s for s in (CHOICES, SETTINGS) if f"'{s}' sheet" in message), SURVEY)
    text = message.replace(found.group(0), "") if found else message
    reason = Message("the XLSForm checker (pyxform) says: {reason}", reason=text.strip())
    return Problem(sheet, int(found.group(1)) if found else None, reason, True)


def hiwar_id(name: str, pattern: str = r"[^a-z0-9_]", length: int = _ID_LENGTH) -> str:
    """An XLSForm name as a Hiwar id: lower case, other characters as `_`, cut short."""
    return re.sub(pattern, "_", name.lower())[:length] or "q"


def generated(language: str, message: str) -> str:
    """A text Hiwar adds to a form (the "Other" choice…), in `language`."""
    with use_language(language):
        return _(message)


def _everywhere(message: str) -> dict[str, str]:
    """A text Hiwar adds, in every language; `message` is marked for translation by N_."""
    return {language: generated(language, message) for language in LANGUAGES}


def _same(text: str) -> dict[str, str]:
    return dict.fromkeys(LANGUAGES, text)


@dataclass
class _Question:
    """A question being built, with where it came from."""

    row: int | None
    document: dict[str, Any]
    choice_rows: list[int | None] = field(default_factory=list)


class _Builder:
    def __init__(self, definition: Any, form: dict[str, Any], stem: str) -> None:
        self.definition = definition
        self.form = form
        self.stem = stem
        self.problems: list[Problem] = []
        self.settings: dict[str, str] = dict((definition.settings or [{}])[0])
        self.default_language = language_code(self.settings.get("default_language", ""), None)
        self.rows = self._rows()
        self.choice_rows = self._choice_rows()
        self.ids: dict[str, str] = {}
        """XLSForm name → Hiwar id."""
        self.dropped: dict[str, int | None] = {}
        """Names left out, with their rows."""
        self.questions: list[_Question] = []
        self.unknown_languages: set[str] = set()
        self.languages = self._languages()

    # -- rows ------------------------------------------------------------------------------

    def _rows(self) -> dict[str, deque[tuple[int, dict[str, str]]]]:
        rows: dict[str, deque[tuple[int, dict[str, str]]]] = defaultdict(deque)
        for number, row in enumerate(self.definition.survey or (), start=_FIRST_ROW):
            if row.get("name"):
                rows[str(row["name"])].append((number, row))
        return rows

    def _choice_rows(self) -> dict[tuple[str, str], tuple[int, dict[str, str]]]:
        found: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
        for number, row in enumerate(self.definition.choices or (), start=_FIRST_ROW):
            key = (str(row.get("list_name", row.get("list name", ""))), str(row.get("name", "")))
            found.setdefault(key, (number, row))
        return found

    def _take_row(self, name: str) -> tuple[int | None, dict[str, str]]:
        queue = self.rows.get(name)
        return queue.popleft() if queue else (None, {})

    # -- languages -------------------------------------------------------------------------

    def _texts(self) -> Iterator[Any]:
        def walk(children: list[dict[str, Any]]) -> Iterator[Any]:
            for child in children:
                yield child.get("label")
                yield from (choice.get("label") for choice in child.get("choices", ()))
                yield from walk(child.get("children", ()))

        yield from walk(self.form.get("children", []))

    def _language(self, key: str, text: str) -> str | None:
        if key == "default" and self.default_language is None:
            return "ar" if re.search(r"[\u0600-\u06ff]", text) else "en"
        code = language_code(key, self.default_language)
        if code is None:
            self.unknown_languages.add(key)
        return code

    def _languages(self) -> tuple[str, ...]:
        found: set[str] = set()
        for label in self._texts():
            if isinstance(label, str):
                found.add(self._language("default", label) or "")
            elif isinstance(label, dict):
                found |= {self._language(key, str(text)) or "" for key, text in label.items()}
        for language in sorted(self.unknown_languages):
            self.problems.append(
                Problem(
                    SURVEY,
                    1,
                    Message(
                        "labels in '{language}' are left out (Hiwar speaks Arabic and English)",
                        language=language,
                    ),
                )
            )
        languages = tuple(language for language in LANGUAGES if language in found)
        if not languages:
            self.problems.append(
                Problem(
                    SURVEY,
                    1,
                    Message("no label is in Arabic or English, so nothing can be shown"),
                    True,
                )
            )
        return languages or LANGUAGES

    def text(
        self,
        value: Any,
        row: int | None,
        what: Message,
        raw: Mapping[str, str] | None = None,
        column: str = "label",
    ) -> dict[str, str] | None:
        """A label, hint or message in each language of the survey (one missing in a
        bilingual form is filled in from the other, and reported). pyxform turns curly
        quotes straight; the cell as written (`raw`, under `column`) is kept instead."""
        if value is None:
            return None
        given: dict[str, str] = {}
        items = value.items() if isinstance(value, dict) else [("default", value)]
        for key, parsed in items:
            cell = (raw or {}).get(column if key == "default" else f"{column}::{key}")
            text = _as_written(str(parsed), cell)
            code = self._language(str(key), str(text))
            if code is not None and str(text).strip():
                given.setdefault(code, str(text))
        if not given:
            return None
        if any("${" in text for text in given.values()):
            message = Message(
                "the {what} shows {syntax} as written: Hiwar does not put answers into texts",
                what=what,
                syntax="${…}",
            )
            self.problems.append(Problem(SURVEY, row, message))
        for language in self.languages:
            if language not in given:
                other = next(iter(given.values()))
                message = Message(
                    "the {what} has no text in {language}; the other language's is used",
                    what=what,
                    language=_LANGUAGE_NAMES[language],
                )
                self.problems.append(Problem(SURVEY, row, message))
                given[language] = other
        return {language: given.get(language, given[self.languages[0]]) for language in LANGUAGES}

    # -- the survey ------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        self._walk(self.form.get("children", []), [])
        for question in list(self.questions):
            self._rename(question)
        for sheet in ("entities", "osm"):
            if getattr(self.definition, sheet, None):
                self.problems.append(Problem(sheet, None, Message("the sheet is left out")))
        extras, _unknown = read_extras(self.settings)
        title = self.settings.get("form_title") or self.form.get("title") or self.stem
        document: dict[str, Any] = {
            "id": re.sub(
                r"[^a-z0-9_-]", "-", str(self.settings.get("form_id") or self.stem).lower()
            )[:32],
            "version": self._version(),
            "title": _same(str(title)),
            "introduction": _everywhere(N_("Please answer the questions below.")),
            **extras,
            "questions": [question.document for question in self.questions],
        }
        if self.languages != LANGUAGES:
            document["languages"] = list(self.languages)
        return document

    def _version(self) -> int:
        raw = str(self.settings.get("version", "1")).strip()
        if raw.isdigit() and 1 <= int(raw) < 2**31:
            return int(raw)
        self.problems.append(
            Problem(
                SETTINGS,
                _FIRST_ROW,
                Message("version '{version}' is not a whole number; 1 is used", version=raw),
            )
        )
        return 1

    def _walk(self, children: list[dict[str, Any]], relevant: list[str]) -> None:
        previous_select: str | None = None
        for child in children:
            kind, name = str(child.get("type", "")), str(child.get("name", ""))
            if kind == "group" and child.get("control", {}).get("bodyless"):
                continue  # pyxform's own meta group
            is_other = (
                previous_select is not None
                and name == f"{previous_select}_other"
                and child.get("label") == _OTHER_LABEL
            )
            row, raw = (self.questions[-1].row, {}) if is_other else self._take_row(name)
            group_relevant = child.get("bind", {}).get("relevant")
            if kind == "group":
                self._walk(
                    child.get("children", []),
                    [*relevant, group_relevant] if group_relevant else relevant,
                )
                continue
            previous_select = name if child.get("choices") else None
            if kind == "repeat":
                reason = Message(
                    "repeat groups are not supported; it is left out with its questions"
                )
                self._drop_all(child, row, reason)
            elif kind in _METADATA:
                self.dropped[name] = row
            elif kind == "today":
                self._add(
                    row,
                    {"id": name, "type": QuestionType.CALCULATE.value, "calculation": "today()"},
                    raw,
                )
            elif kind in _TYPES and not _FROM_FILE.search(str(child.get("itemset", ""))):
                self._question(child, row, raw, relevant, is_other)
            else:
                reason = _REASONS.get(
                    kind, Message("questions of type {type} are not supported", type=kind)
                )
                if _FROM_FILE.search(str(child.get("itemset", ""))):
                    reason = Message("choices from a file (*_from_file) are not supported")
                self.problems.append(Problem(SURVEY, row, _left_out(name, reason)))
                self.dropped[name] = row

    def _drop_all(self, child: dict[str, Any], row: int | None, reason: Message) -> None:
        message = Message("'{name}': {reason}", name=child.get("name"), reason=reason)
        self.problems.append(Problem(SURVEY, row, message))
        self.dropped[str(child.get("name"))] = row
        for inner in child.get("children", []):
            inner_row, _raw = self._take_row(str(inner.get("name")))
            self.dropped[str(inner.get("name"))] = inner_row or row
            if inner.get("children"):
                reason = Message("left out with the repeat around it")
                self._drop_all(inner, inner_row or row, reason)

    def _add(self, row: int | None, document: dict[str, Any], raw: dict[str, str]) -> _Question:
        extras, unknown = read_extras(raw)
        for column in unknown:
            message = Message("the column '{column}' names no known language", column=column)
            self.problems.append(Problem(SURVEY, row, message))
        question = _Question(row, {**document, **extras})
        question.document.setdefault("text", _same(str(document["id"])))
        self.questions.append(question)
        return question

    def _question(
        self,
        child: dict[str, Any],
        row: int | None,
        raw: dict[str, str],
        relevant: list[str],
        is_other: bool,
    ) -> None:
        kind, name = str(child["type"]), str(child["name"])
        bind = child.get("bind", {})
        question_type = _TYPES[kind]
        document: dict[str, Any] = {"id": name, "type": question_type.value}
        if is_other:
            parent = self.questions[-1].document["id"]
            document["text"] = _everywhere(N_("Please specify:"))
            relevant = [*relevant, f"selected(${{{parent}}}, 'other')"]
        elif (text := self.text(child.get("label"), row, Message("label"), raw)) is not None:
            document["text"] = text
        elif question_type != QuestionType.CALCULATE:
            message = Message("'{name}' has no label", name=name)
            self.problems.append(Problem(SURVEY, row, message, True))
        for key, source, what in (
            ("hint", child.get("hint"), Message("hint")),
            ("constraint_message", bind.get("jr:constraintMsg"), Message("constraint message")),
            ("required_message", bind.get("jr:requiredMsg"), Message("required message")),
        ):
            if (text := self.text(source, row, what, raw, key)) is not None:
                document[key] = text
        required = str(bind.get("required", "")).strip().lower()
        if required not in ("", "yes", "true", "true()", "no", "false", "false()"):
            self.problems.append(
                Problem(
                    SURVEY,
                    row,
                    Message(
                        "required is an expression ({expression}); the question is required",
                        expression=required,
                    ),
                )
            )
        document["optional"] = required in ("", "no", "false", "false()")
        own_relevant = None if is_other else bind.get("relevant")  # pyxform's ../name
        expression = " and ".join(f"({part})" for part in [*relevant, own_relevant] if part)
        if len(relevant) + bool(own_relevant) == 1:
            expression = str(own_relevant or relevant[0])
        if expression:
            document["relevant"] = expression
        for key, value in (
            ("constraint", bind.get("constraint")),
            ("calculation", bind.get("calculate")),
            ("choice_filter", child.get("choice_filter")),
        ):
            if value:
                document[key] = str(value)
        if "default" in child:
            if child.get("_dynamic_default"):
                self.problems.append(
                    Problem(
                        SURVEY,
                        row,
                        Message(
                            "the default of '{name}' is an expression; it is left out", name=name
                        ),
                    )
                )
            else:
                document["default"] = str(child["default"])
        if kind == "integer":
            document["integer"] = True
        elif kind == "decimal":
            document["integer"] = False
        elif kind == "range":
            self._range(child, document)
        question = self._add(row, document, raw)
        if child.get("choices") is not None:
            self._choices(child, question)

    def _range(self, child: dict[str, Any], document: dict[str, Any]) -> None:
        parameters = child.get("parameters", {})
        start, end, step = (
            float(parameters.get(k, d)) for k, d in (("start", 1), ("end", 10), ("step", 1))
        )
        integer = all(value.is_integer() for value in (start, end, step))
        low, high = sorted((start, end))
        document.update(
            integer=integer, min=int(low) if integer else low, max=int(high) if integer else high
        )

    def _choices(self, child: dict[str, Any], question: _Question) -> None:
        list_name = str(child.get("list_name", child.get("itemset", "")))
        choices = child["choices"]
        appearance = str(child.get("control", {}).get("appearance", ""))
        if question.document["type"] == QuestionType.SINGLE_CHOICE.value and _agreement(
            choices, appearance
        ):
            question.document["type"] = QuestionType.AGREEMENT_SCALE.value
            question.document.pop("default", None)
            if any(str(choice.get("name")) == DONT_KNOW for choice in choices):
                question.document.setdefault("dont_know", True)
            return
        options = []
        for choice in choices:
            choice_name = str(choice.get("name"))
            row, raw = self.choice_rows.get((list_name, choice_name), (None, {}))
            question.choice_rows.append(row)
            label = choice.get("label")
            if choice_name == "other" and row is None:
                text: dict[str, str] | None = _everywhere(N_("Other"))
            else:
                text = self.text(label, row, Message("choice label"), raw)
            extras, _unknown = read_extras(raw)
            option: dict[str, Any] = {
                "id": choice_name,
                "label": text or _same(choice_name),
                **extras,
            }
            filters = {
                key: str(value)
                for key, value in choice.items()
                if key not in ("name", "label", "media", "hiwar")
                and not key.startswith("hiwar")
                and isinstance(value, str | int | float)
            }
            if filters:
                option["filters"] = filters
            options.append(option)
        question.document["options"] = options

    # -- names and expressions -------------------------------------------------------------

    def _rename(self, question: _Question) -> None:
        """Hiwar ids for the question and every name its expressions read; an expression
        that reads something left out, or that Hiwar cannot run, is a problem."""
        document = question.document
        name = str(document["id"])
        document["id"] = self._id_of(name)
        for key in ("relevant", "constraint", "calculation", "choice_filter"):
            if key not in document:
                continue
            source = re.sub(
                r"\$\{\s*([^}\s]+)\s*\}", lambda m: self._reference(m.group(1)), document[key]
            )
            problem = self._expression_problem(source)
            if problem is None:
                document[key] = source
                continue
            if key == "constraint":
                message = Message("constraint left out: {reason}", reason=problem)
                self.problems.append(Problem(SURVEY, question.row, message))
                del document["constraint"]
                document.pop("constraint_message", None)
            elif key == "calculation":
                self.problems.append(Problem(SURVEY, question.row, _left_out(name, problem)))
                self.dropped[name] = question.row
                self.questions.remove(question)
                return
            else:
                message = Message("{place}: {problem}", place=key, problem=problem)
                self.problems.append(Problem(SURVEY, question.row, message, True))
        relevant = document.get("relevant")
        if relevant is not None and (condition := condition_of(relevant)) is not None:
            document["show_if"] = condition
            del document["relevant"]
        if document.get("constraint") is not None and document.get(
            "constraint"
        ) == limits_constraint(document):
            del document["constraint"]  # Hiwar's own limits, written out by export_xlsform

    def _id_of(self, name: str) -> str:
        if name not in self.ids:
            candidate = hiwar_id(name)
            taken = set(self.ids.values())
            number = 2
            while candidate in taken:
                suffix = f"_{number}"
                candidate = hiwar_id(name, length=_ID_LENGTH - len(suffix)) + suffix
                number += 1
            self.ids[name] = candidate
        return self.ids[name]

    def _reference(self, name: str) -> str:
        if name in self.dropped:
            return f"${{{name}}}"  # reported by _expression_problem
        return f"${{{self._id_of(name)}}}"

    def _expression_problem(self, source: str) -> Message | None:
        try:
            parsed = expressions.parse(source)
        except expressions.ExpressionError as error:
            return error.reason
        if left_out := sorted(parsed.references & set(self.dropped)):
            name = left_out[0]
            if row := self.dropped[name]:
                return Message(
                    "it reads '{name}', which is left out (row {row})", name=name, row=row
                )
            return Message("it reads '{name}', which is left out", name=name)
        return None

    # -- schema errors located --------------------------------------------------------------

    def locate(self, error: ErrorDetails) -> Problem:
        loc = list(error["loc"])
        message = reworded(error)
        if (
            loc[:1] == ["questions"]
            and len(loc) > 1
            and isinstance(loc[1], int)
            and loc[1] < len(self.questions)
        ):
            question = self.questions[loc[1]]
            rest = [str(step) for step in loc[2:] if str(step) not in _MODEL_KEYS]
            if len(loc) > 4 and loc[3] == "options" and isinstance(loc[4], int):
                rows = question.choice_rows
                row = rows[loc[4]] if loc[4] < len(rows) else None
                place = ".".join(rest[2:]) or "choice"
                return Problem(
                    CHOICES, row, Message("{place}: {problem}", place=place, problem=message), True
                )
            place = f"{question.document.get('id')}: {'.'.join(rest) or 'question'}"
            return Problem(
                SURVEY,
                question.row,
                Message("{place}: {problem}", place=place, problem=message),
                True,
            )
        place = ".".join(str(s) for s in loc) or "form"
        return Problem(
            SETTINGS, None, Message("{place}: {problem}", place=place, problem=message), True
        )


_MODEL_KEYS: Final = frozenset(t.value for t in QuestionType) | {"untyped"}


_STRAIGHT: Final = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _as_written(parsed: str, cell: object) -> str:
    """The cell's own text when it is what pyxform read, but for its straightened quotes."""
    if isinstance(cell, str) and cell.translate(_STRAIGHT) == parsed:
        return cell
    return parsed


DONT_KNOW: Final = "0"
"""The choice name of "don't know / not applicable" beside a scale's 1 to 5."""


def _agreement(choices: list[dict[str, Any]], appearance: str) -> bool:
    """A five-point list named 1 to 5 (and 0 for "don't know") that is an agreement scale:
    marked `likert`, or labelled from disagreement to agreement (in English or Arabic)."""
    names = [str(choice.get("name")) for choice in choices if str(choice.get("name")) != DONT_KNOW]
    if names != [str(v) for v in SCALE_VALUES]:
        return False
    if "likert" in appearance:
        return True
    labels = [
        " ".join(str(v) for v in choice["label"].values())
        if isinstance(choice.get("label"), dict)
        else str(choice.get("label", ""))
        for choice in choices
        if str(choice.get("name")) != DONT_KNOW
    ]
    first, last = labels[0].lower(), labels[-1].lower()
    return ("disagree" in first or "أعارض" in first or "لا أوافق" in first) and (
        ("agree" in last and "disagree" not in last) or "أوافق" in last
    )
