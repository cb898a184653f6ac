"""Load a survey definition from a YAML data file and check it thoroughly.

`load_survey` either returns a valid `Survey` or raises `SurveyFileError` listing every
problem it found at once (file, question id, line), so whoever edits the file can fix it in
one pass. No other exception escapes for malformed input.

YAML notes: the file is read as YAML 1.2 booleans (only true/false, so `id: no` or
`en: No` stay texts), mappings remember their line numbers, and a key written twice in one
mapping is a problem rather than silently overwritten.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Final, TypeGuard, TypeVar

import yaml

from bot.survey.engine import SCALE_VALUES
from bot.survey.model import (
    LANGUAGES,
    Condition,
    Option,
    Question,
    QuestionType,
    ReportRole,
    Side,
    Survey,
    Text,
)

DEFAULT_SURVEY_PATH: Final[Path] = (
    Path(__file__).resolve().parent / "data" / "pcve_cooperation.yaml"
)
"""The survey shipped with the package (package data, so it works from any install)."""

_SCALE_ANSWERS: Final = tuple(str(value) for value in SCALE_VALUES)
"""Agreement-scale answers as `show_if` conditions name them ("1".."5")."""

MAX_FILE_BYTES: Final = 1_000_000
MAX_SURVEY_ID_LENGTH: Final = 32
MAX_QUESTION_ID_LENGTH: Final = 24
MAX_OPTION_ID_LENGTH: Final = 16
MIN_OPTIONS: Final = 2
MAX_OPTIONS: Final = 12
MAX_LABEL_LENGTH: Final = 40
"""Option labels (button texts) and short labels (chart labels), in characters."""
MAX_TITLE_LENGTH: Final = 120
MAX_INTRODUCTION_LENGTH: Final = 2000
MAX_QUESTION_TEXT_LENGTH: Final = 1000
MAX_FREE_TEXT_LENGTH: Final = 4000
DEFAULT_FREE_TEXT_LENGTH: Final = 1000
MAX_PROBLEMS_IN_MESSAGE: Final = 10

_E = TypeVar("_E", bound=StrEnum)

_SURVEY_ID_RE: Final = re.compile(r"[a-z0-9_-]+")
_ID_RE: Final = re.compile(r"[a-z0-9_]+")

_SURVEY_KEYS: Final = ("id", "version", "title", "introduction", "questions")
_QUESTION_KEYS: Final = (
    "id",
    "type",
    "report",
    "text",
    "short_label",
    "optional",
    "options",
    "max_choices",
    "max_length",
    "min",
    "max",
    "integer",
    "show_if",
)
_OPTION_KEYS: Final = ("id", "label", "side", "opt_in")
_CONDITION_KEYS: Final = ("question", "any_of")

_CHOICE_TYPES: Final = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE})
_KEYS_ONLY_FOR: Final[dict[str, frozenset[QuestionType]]] = {
    "options": _CHOICE_TYPES,
    "max_choices": frozenset({QuestionType.MULTIPLE_CHOICE}),
    "max_length": frozenset({QuestionType.FREE_TEXT}),
    "min": frozenset({QuestionType.NUMBER}),
    "max": frozenset({QuestionType.NUMBER}),
    "integer": frozenset({QuestionType.NUMBER}),
}
_ROLE_TYPES: Final[dict[ReportRole, frozenset[QuestionType]]] = {
    ReportRole.SECTOR: frozenset({QuestionType.SINGLE_CHOICE}),
    ReportRole.LEVEL: frozenset({QuestionType.SINGLE_CHOICE}),
    ReportRole.COUNTRY: frozenset({QuestionType.SINGLE_CHOICE}),
    ReportRole.INVITATIONS: frozenset({QuestionType.SINGLE_CHOICE}),
    ReportRole.BARRIER: frozenset({QuestionType.AGREEMENT_SCALE}),
    ReportRole.PRIORITY: _CHOICE_TYPES,
    ReportRole.FORMATS: _CHOICE_TYPES,
    ReportRole.COMMENT: frozenset({QuestionType.FREE_TEXT}),
}
_SINGLE_QUESTION_ROLES: Final = (
    ReportRole.SECTOR,
    ReportRole.LEVEL,
    ReportRole.COUNTRY,
    ReportRole.INVITATIONS,
)


class SurveyFileError(Exception):
    """A survey file that cannot be read or does not describe a valid survey.

    Built from the file and located messages ("q7: show_if refers to …"); `problems` then
    holds one line per problem, each starting with the file name, and `str()` of the error
    is a single line that summarises them all for a command-line message.
    """

    def __init__(self, path: str | Path, problems: Sequence[str]) -> None:
        self.path = str(path)
        self._details = tuple(" ".join(p.splitlines()) for p in problems)
        self.problems: list[str] = [f"{self.path}: {detail}" for detail in self._details]
        super().__init__(self._summary())

    def _summary(self) -> str:
        details = self._details
        if len(details) == 1:
            return f"{self.path}: {details[0]}"
        shown = "; ".join(details[:MAX_PROBLEMS_IN_MESSAGE])
        more = len(details) - MAX_PROBLEMS_IN_MESSAGE
        tail = f"; … and {more} more" if more > 0 else ""
        return f"{self.path}: {len(details)} problems: {shown}{tail}"

    def __reduce__(self) -> tuple[type[SurveyFileError], tuple[str, tuple[str, ...]]]:
        return (type(self), (self.path, self._details))


def load_survey(path: str | Path) -> Survey:
    """Read, parse and check a survey file; raise `SurveyFileError` listing all problems."""
    document = _read_yaml(path)
    checker = _Checker()
    survey = checker.survey(document)
    if checker.problems or survey is None:
        raise SurveyFileError(path, checker.problems or ["not a valid survey"])
    return survey


# --- Reading -------------------------------------------------------------------------------


class _Mapping(dict[Any, Any]):
    """A YAML mapping that remembers its line, its keys' lines and any repeated keys."""

    __slots__ = ("duplicate_keys", "key_lines", "line")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}
        self.duplicate_keys: list[tuple[str, int]] = []


class _Loader(yaml.SafeLoader):
    """Safe loader with YAML 1.2 booleans, line numbers and duplicate-key detection."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Iterator[_Mapping]:
    data = _Mapping(node.start_mark.line + 1)
    yield data
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            line = key_node.start_mark.line + 1
            if key_node.value in data.key_lines:
                data.duplicate_keys.append((key_node.value, line))
            else:
                data.key_lines[key_node.value] = line
    data.update(loader.construct_mapping(node))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _read_yaml(path: str | Path) -> object:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise SurveyFileError(path, ["file not found"]) from None
    except IsADirectoryError:
        raise SurveyFileError(path, ["is a directory, not a survey file"]) from None
    except PermissionError:
        raise SurveyFileError(path, ["file is not readable (permission denied)"]) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SurveyFileError(path, [f"file cannot be read ({reason})"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise SurveyFileError(
            path, [f"file is too large ({len(raw)} bytes; at most {MAX_FILE_BYTES})"]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SurveyFileError(
            path, [f"file is not UTF-8 text (invalid byte at offset {error.start})"]
        ) from None
    loader = None
    try:
        loader = _Loader(text)
        return loader.get_single_data()
    except yaml.reader.ReaderError as error:
        problem = (
            f"file contains a character YAML does not allow (#x{error.character:04x}) "
            f"at offset {error.position}"
        )
        raise SurveyFileError(path, [problem]) from None
    except yaml.MarkedYAMLError as error:
        raise SurveyFileError(path, [_describe_yaml_error(error)]) from None
    except yaml.YAMLError as error:
        raise SurveyFileError(path, [f"not valid YAML: {error}"]) from None
    except RecursionError:
        raise SurveyFileError(path, ["not valid YAML: nested too deeply"]) from None
    except Exception as error:  # PyYAML may raise ValueError etc. on odd scalars
        raise SurveyFileError(
            path, [f"not valid YAML: {type(error).__name__}: {_short(str(error), 120)}"]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


def _describe_yaml_error(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    what = error.problem or "syntax error"
    context = ""
    if error.context and error.context_mark and error.context_mark is not mark:
        context = f" ({error.context} at line {error.context_mark.line + 1})"
    return f"not valid YAML{where}: {what}{context}"


# --- Checking ------------------------------------------------------------------------------


@dataclass
class _Draft:
    """What the cross-question checks need to know about one question, valid or not."""

    index: int
    where: str
    line: int | None
    id: str | None = None
    type: QuestionType | None = None
    report: ReportRole | None = None
    option_ids: list[str] = field(default_factory=list)
    """Every option id the file gives, so conditions can be checked even if options are flawed."""
    options_ok: bool = False
    condition: Condition | None = None
    condition_line: int | None = None
    question: Question | None = None


class _Checker:
    """Walks a parsed document, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, message: str, line: int | None = None) -> None:
        located = f"{where}: {message}" if where else message
        self.problems.append(f"{located} (line {line})" if line else located)

    # The survey as a whole.

    def survey(self, document: object) -> Survey | None:
        if document is None:
            self.add("", "file is empty; expected a survey with keys " + ", ".join(_SURVEY_KEYS))
            return None
        if not isinstance(document, dict):
            self.add(
                "",
                "the file must be a mapping with keys "
                f"{', '.join(_SURVEY_KEYS)}, not {_kind(document)}",
            )
            return None
        self.keys(document, "", _SURVEY_KEYS, required=_SURVEY_KEYS)

        survey_id = None
        if "id" in document:
            survey_id = self.identifier(
                document["id"],
                "",
                "id",
                _SURVEY_ID_RE,
                "a-z, 0-9, - and _",
                MAX_SURVEY_ID_LENGTH,
                _line(document, "id"),
            )
        version = document.get("version")
        if "version" in document and not (_is_int(version) and version >= 1):
            self.add(
                "",
                f"version must be a positive whole number, not {_kind(version)}",
                _line(document, "version"),
            )
            version = None

        title = self.text(document, "", "title", MAX_TITLE_LENGTH)
        introduction = self.text(document, "", "introduction", MAX_INTRODUCTION_LENGTH)
        questions = self.questions(document)

        if (
            survey_id is not None
            and _is_int(version)
            and title is not None
            and introduction is not None
            and questions is not None
        ):
            return Survey(survey_id, version, title, introduction, questions)
        return None

    def questions(self, document: dict[Any, Any]) -> tuple[Question, ...] | None:
        if "questions" not in document:
            return None
        raw = document["questions"]
        line = _line(document, "questions")
        if not isinstance(raw, list):
            self.add("", f"questions must be a list of questions, not {_kind(raw)}", line)
            return None
        if not raw:
            self.add("", "questions is empty; list at least one question", line)
            return None
        drafts = [self.question(index, item) for index, item in enumerate(raw)]
        self.cross_check(drafts)
        built = tuple(d.question for d in drafts if d.question is not None)
        return built if len(built) == len(drafts) else None

    # One question on its own.

    def question(self, index: int, raw: object) -> _Draft:
        fallback = f"question #{index + 1}"
        if not isinstance(raw, dict):
            self.add(fallback, f"must be a mapping with id, type and text, not {_kind(raw)}")
            return _Draft(index, fallback, None)
        raw_id = raw.get("id")
        where = (
            _short(raw_id, MAX_QUESTION_ID_LENGTH + 8, quote=False)
            if (isinstance(raw_id, str) and raw_id.strip())
            else fallback
        )
        draft = _Draft(index, where, _line(raw))
        problems_before = len(self.problems)

        self.keys(raw, where, _QUESTION_KEYS, required=("id", "type", "text"))
        if "id" in raw:
            draft.id = self.identifier(
                raw_id,
                where,
                "id",
                _ID_RE,
                "a-z, 0-9 and _",
                MAX_QUESTION_ID_LENGTH,
                _line(raw, "id"),
            )
        draft.type = self.enum(raw, where, "type", QuestionType)
        draft.report = self.enum(raw, where, "report", ReportRole)
        text = self.text(raw, where, "text", MAX_QUESTION_TEXT_LENGTH)
        short_label = self.text(raw, where, "short_label", MAX_LABEL_LENGTH)
        optional = self.boolean(raw, where, "optional", default=False)

        if draft.type is not None:
            for key, types in _KEYS_ONLY_FOR.items():
                if key in raw and draft.type not in types:
                    self.add(
                        where,
                        f"{key} is only for {' and '.join(sorted(types))} questions, "
                        f"not {draft.type}",
                        _line(raw, key),
                    )
        if draft.type in _CHOICE_TYPES and "options" not in raw:
            self.add(where, f"a {draft.type} question needs options", _line(raw))

        options: tuple[Option, ...] = ()
        if "options" in raw and (draft.type is None or draft.type in _CHOICE_TYPES):
            options, draft.options_ok = self.options(raw, where, draft)

        given = raw.get("options")
        max_choices = self.max_choices(
            raw, where, draft, len(given) if isinstance(given, list) else 0
        )
        max_length = self.max_length(raw, where, draft.type)
        min_value, max_value, integer = self.number_bounds(raw, where, draft.type)
        self.role(raw, where, draft, options)
        if "show_if" in raw:
            draft.condition_line = _line(raw, "show_if")
            draft.condition = self.condition(raw["show_if"], where, draft.condition_line)

        if (
            len(self.problems) == problems_before
            and draft.id is not None
            and draft.type is not None
            and text is not None
        ):
            draft.question = Question(
                id=draft.id,
                type=draft.type,
                text=text,
                options=options,
                optional=optional,
                show_if=draft.condition,
                max_choices=max_choices,
                max_length=max_length,
                min_value=min_value,
                max_value=max_value,
                integer=integer,
                short_label=short_label,
                report=draft.report,
            )
        return draft

    def options(
        self, raw: dict[Any, Any], where: str, draft: _Draft
    ) -> tuple[tuple[Option, ...], bool]:
        items = raw["options"]
        line = _line(raw, "options")
        if not isinstance(items, list):
            self.add(where, f"options must be a list, not {_kind(items)}", line)
            return (), False
        problems_before = len(self.problems)
        if not MIN_OPTIONS <= len(items) <= MAX_OPTIONS:
            self.add(
                where,
                f"has {len(items)} option{'' if len(items) == 1 else 's'}; "
                f"a choice question needs {MIN_OPTIONS} to {MAX_OPTIONS}",
                line,
            )
        options: list[Option] = []
        for number, item in enumerate(items, start=1):
            raw_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(raw_id, str) and raw_id in draft.option_ids:
                self.add(where, f"option id {_short(raw_id)} is used twice", _line(item, "id"))
            option = self.option(item, where, number, draft.report)
            if isinstance(raw_id, str) and raw_id not in draft.option_ids:
                draft.option_ids.append(raw_id)
            if option is not None:
                options.append(option)
        return tuple(options), len(self.problems) == problems_before

    def option(
        self, item: object, where: str, number: int, report: ReportRole | None
    ) -> Option | None:
        fallback = f"{where}: option #{number}"
        if not isinstance(item, dict):
            self.add(fallback, f"must be a mapping with id and label, not {_kind(item)}")
            return None
        raw_id = item.get("id")
        here = (
            f"{where}: option {_short(raw_id, MAX_OPTION_ID_LENGTH + 8)}"
            if isinstance(raw_id, str) and raw_id.strip()
            else fallback
        )
        problems_before = len(self.problems)
        self.keys(item, here, _OPTION_KEYS, required=("id", "label"))
        option_id = None
        if "id" in item:
            option_id = self.identifier(
                raw_id,
                here,
                "id",
                _ID_RE,
                "a-z, 0-9 and _",
                MAX_OPTION_ID_LENGTH,
                _line(item, "id"),
            )
        label = self.text(item, here, "label", MAX_LABEL_LENGTH)

        side = None
        if "side" in item:
            if report != ReportRole.LEVEL:
                self.add(
                    here,
                    "side is only allowed on options of the question with report: level",
                    _line(item, "side"),
                )
            else:
                side = self.enum(item, here, "side", Side)
        opt_in = False
        if "opt_in" in item:
            if report != ReportRole.INVITATIONS:
                self.add(
                    here,
                    "opt_in is only allowed on options of the question with report: invitations",
                    _line(item, "opt_in"),
                )
            else:
                opt_in = self.boolean(item, here, "opt_in", default=False)

        if len(self.problems) > problems_before or option_id is None or label is None:
            return None
        return Option(option_id, label, side=side, opt_in=opt_in)

    def max_choices(
        self, raw: dict[Any, Any], where: str, draft: _Draft, option_count: int
    ) -> int | None:
        if draft.type != QuestionType.MULTIPLE_CHOICE:
            return None
        if "max_choices" not in raw:
            return option_count
        value = raw["max_choices"]
        line = _line(raw, "max_choices")
        if not _is_int(value):
            self.add(where, f"max_choices must be a whole number, not {_kind(value)}", line)
            return None
        if value < 2:
            self.add(
                where,
                f"max_choices is {value}; it must be at least 2 "
                "(for one answer use a single_choice question)",
                line,
            )
            return None
        if option_count and value > option_count:
            self.add(
                where,
                f"max_choices is {value} but there are only {option_count} options",
                line,
            )
            return None
        return value

    def max_length(self, raw: dict[Any, Any], where: str, type_: QuestionType | None) -> int | None:
        if type_ != QuestionType.FREE_TEXT:
            return None
        if "max_length" not in raw:
            return DEFAULT_FREE_TEXT_LENGTH
        value = raw["max_length"]
        if not _is_int(value) or not 1 <= value <= MAX_FREE_TEXT_LENGTH:
            self.add(
                where,
                f"max_length must be a whole number from 1 to {MAX_FREE_TEXT_LENGTH}, "
                f"not {_kind(value)}",
                _line(raw, "max_length"),
            )
            return None
        return value

    def number_bounds(
        self, raw: dict[Any, Any], where: str, type_: QuestionType | None
    ) -> tuple[float | None, float | None, bool]:
        if type_ != QuestionType.NUMBER:
            return None, None, True
        integer = self.boolean(raw, where, "integer", default=True)
        bounds: list[float | None] = []
        for key in ("min", "max"):
            value = raw.get(key)
            if key not in raw:
                self.add(where, f"a number question needs {key}", _line(raw))
                bounds.append(None)
            elif not _is_number(value):
                self.add(
                    where, f"{key} must be a finite number, not {_kind(value)}", _line(raw, key)
                )
                bounds.append(None)
            elif integer and not float(value).is_integer():
                self.add(
                    where,
                    f"{key} must be a whole number because integer is true, not {value}",
                    _line(raw, key),
                )
                bounds.append(None)
            else:
                bounds.append(int(value) if integer else value)
        low, high = bounds
        if low is not None and high is not None and not low < high:
            self.add(where, f"min ({low}) must be less than max ({high})", _line(raw, "min"))
        return low, high, integer

    def role(
        self,
        raw: dict[Any, Any],
        where: str,
        draft: _Draft,
        options: tuple[Option, ...],
    ) -> None:
        report, type_ = draft.report, draft.type
        if report is None:
            return
        line = _line(raw, "report")
        if type_ is not None and type_ not in _ROLE_TYPES[report]:
            allowed = " or ".join(sorted(_ROLE_TYPES[report]))
            self.add(where, f"report: {report} needs a {allowed} question, not {type_}", line)
        if report == ReportRole.BARRIER and "short_label" not in raw:
            self.add(where, "report: barrier needs a short_label for charts", line)
        if not draft.options_ok:
            return
        if report == ReportRole.LEVEL:
            sides = {o.side for o in options}
            for side in Side:
                if side not in sides:
                    self.add(
                        where,
                        f"the level question needs at least one option with side: {side}",
                        line,
                    )
        if report == ReportRole.INVITATIONS:
            if not any(o.opt_in for o in options):
                self.add(
                    where,
                    "the invitations question needs at least one option with opt_in: true",
                    line,
                )
            if all(o.opt_in for o in options):
                self.add(
                    where,
                    "the invitations question needs an option without opt_in, to decline",
                    line,
                )

    def condition(self, raw: object, where: str, line: int | None) -> Condition | None:
        if not isinstance(raw, dict):
            self.add(
                where,
                f"show_if must be a mapping with question and any_of, not {_kind(raw)}",
                line,
            )
            return None
        problems_before = len(self.problems)
        self.keys(raw, f"{where}: show_if", _CONDITION_KEYS, required=_CONDITION_KEYS)
        target = raw.get("question")
        if "question" in raw and not isinstance(target, str):
            self.add(where, f"show_if.question must be a question id, not {_kind(target)}", line)
        values: list[str] = []
        if "any_of" in raw:
            any_of = raw["any_of"]
            if not isinstance(any_of, list) or not any_of:
                self.add(
                    where,
                    f"show_if.any_of must be a non-empty list, not {_kind(any_of)}",
                    line,
                )
            else:
                for value in any_of:
                    if isinstance(value, str) or _is_int(value):
                        text = str(value)
                        if text in values:
                            self.add(where, f"show_if.any_of lists {text!r} twice", line)
                        values.append(text)
                    else:
                        self.add(
                            where,
                            "show_if.any_of must hold option ids or scale values, "
                            f"not {_kind(value)}",
                            line,
                        )
        if len(self.problems) > problems_before or not isinstance(target, str):
            return None
        return Condition(target, tuple(dict.fromkeys(values)))

    # Checks across questions.

    def cross_check(self, drafts: list[_Draft]) -> None:
        first_by_id: dict[str, _Draft] = {}
        for draft in drafts:
            if draft.id is None:
                continue
            if draft.id in first_by_id:
                first = first_by_id[draft.id]
                self.add(
                    draft.where,
                    f"question id is used twice (first at question #{first.index + 1})",
                    draft.line,
                )
                draft.question = None
            else:
                first_by_id[draft.id] = draft

        for role in _SINGLE_QUESTION_ROLES:
            holders = [d for d in drafts if d.report == role]
            for extra in holders[1:]:
                self.add(
                    extra.where,
                    f"only one question may have report: {role} (already on {holders[0].where})",
                    extra.line,
                )
                extra.question = None

        for draft in drafts:
            if draft.condition is not None and not self.condition_fits(draft, first_by_id):
                draft.question = None

    def condition_fits(self, draft: _Draft, first_by_id: dict[str, _Draft]) -> bool:
        assert draft.condition is not None
        target_id, values = draft.condition.question, draft.condition.any_of
        where, line = draft.where, draft.condition_line
        target = first_by_id.get(target_id)
        if target is None:
            self.add(where, f"show_if refers to unknown question {_short(target_id)}", line)
            return False
        if target is draft:
            self.add(where, "show_if refers to the question itself", line)
            return False
        if target.index > draft.index:
            self.add(
                where,
                f"show_if refers to later question {target_id!r}; "
                "a condition can only depend on an earlier question",
                line,
            )
            return False
        if target.type in (QuestionType.FREE_TEXT, QuestionType.NUMBER):
            self.add(
                where,
                f"show_if cannot depend on {target.type} question {target_id!r} "
                "(only on choice and agreement_scale questions)",
                line,
            )
            return False
        if target.type == QuestionType.AGREEMENT_SCALE:
            wrong = [v for v in values if v not in _SCALE_ANSWERS]
            if wrong:
                self.add(
                    where,
                    f"show_if on scale question {target_id!r} must use values "
                    f"{_SCALE_ANSWERS[0]} to {_SCALE_ANSWERS[-1]}, "
                    f"not {', '.join(_short(v) for v in wrong)}",
                    line,
                )
                return False
        elif target.type in _CHOICE_TYPES and target.option_ids:
            unknown = [v for v in values if v not in target.option_ids]
            if unknown:
                self.add(
                    where,
                    f"show_if refers to unknown option(s) "
                    f"{', '.join(_short(v) for v in unknown)} of question {target_id!r}",
                    line,
                )
                return False
        return True

    # Small typed readers; each reports its own problem and returns None when invalid.

    def keys(
        self,
        mapping: dict[Any, Any],
        where: str,
        allowed: Collection[str],
        required: Collection[str],
    ) -> None:
        for key in mapping:
            if not isinstance(key, str):
                self.add(where, f"keys must be names, not {_kind(key)}", _line(mapping))
            elif key not in allowed:
                close = difflib.get_close_matches(key, list(allowed), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
                self.add(where, f"unknown key {_short(key)} ({hint})", _line(mapping, key))
        for key in required:
            if key not in mapping:
                self.add(where, f"missing key {key!r}", _line(mapping))
        if isinstance(mapping, _Mapping):
            for key, line in mapping.duplicate_keys:
                self.add(where, f"key {_short(key)} is given twice", line)

    def identifier(
        self,
        value: object,
        where: str,
        key: str,
        pattern: re.Pattern[str],
        alphabet: str,
        max_length: int,
        line: int | None,
    ) -> str | None:
        if not isinstance(value, str):
            self.add(where, f"{key} must be a text, not {_kind(value)}", line)
            return None
        if not pattern.fullmatch(value):
            self.add(where, f"{key} {_short(value)} may only use {alphabet}", line)
            return None
        if len(value) > max_length:
            self.add(
                where,
                f"{key} {_short(value)} is {len(value)} characters long; at most {max_length}",
                line,
            )
            return None
        return value

    def text(
        self,
        mapping: dict[Any, Any],
        where: str,
        key: str,
        max_length: int,
    ) -> Text | None:
        if key not in mapping:
            return None  # a missing required key is reported by keys()
        value = mapping[key]
        line = _line(mapping, key)
        if not isinstance(value, dict):
            self.add(
                where,
                f"{key} must be a mapping with {' and '.join(LANGUAGES)} texts, not {_kind(value)}",
                line,
            )
            return None
        problems_before = len(self.problems)
        for language in value:
            if language not in LANGUAGES:
                self.add(
                    where,
                    f"{key} has unknown language {_short(language)}; expected {', '.join(LANGUAGES)}",
                    _line(value, language) or line,
                )
        if isinstance(value, _Mapping):
            for language, dup_line in value.duplicate_keys:
                self.add(where, f"{key}.{language} is given twice", dup_line)
        texts: dict[str, str] = {}
        for language in LANGUAGES:
            here = _line(value, language) or line
            if language not in value:
                self.add(where, f"{key}.{language} is missing", here)
                continue
            item = value[language]
            if not isinstance(item, str):
                self.add(where, f"{key}.{language} must be a text, not {_kind(item)}", here)
                continue
            stripped = item.strip()
            if not stripped:
                self.add(where, f"{key}.{language} is empty", here)
            elif len(stripped) > max_length:
                self.add(
                    where,
                    f"{key}.{language} is {len(stripped)} characters long; at most {max_length}",
                    here,
                )
            texts[language] = stripped
        if len(self.problems) > problems_before:
            return None
        return Text(ar=texts["ar"], en=texts["en"])

    def enum(self, mapping: dict[Any, Any], where: str, key: str, kind: type[_E]) -> _E | None:
        if key not in mapping:
            return None
        value = mapping[key]
        allowed = [member.value for member in kind]
        if isinstance(value, str) and value in allowed:
            return kind(value)
        self.add(
            where,
            f"{key} must be one of {', '.join(allowed)}, not {_kind(value)}",
            _line(mapping, key),
        )
        return None

    def boolean(self, mapping: dict[Any, Any], where: str, key: str, *, default: bool) -> bool:
        if key not in mapping:
            return default
        value = mapping[key]
        if isinstance(value, bool):
            return value
        self.add(where, f"{key} must be true or false, not {_kind(value)}", _line(mapping, key))
        return default


# --- Helpers -------------------------------------------------------------------------------


def _line(mapping: object, key: object = None) -> int | None:
    """The line of `key` in a parsed mapping, or of the mapping itself."""
    if not isinstance(mapping, _Mapping):
        return None
    if isinstance(key, str) and key in mapping.key_lines:
        return mapping.key_lines[key]
    return mapping.line


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _short(value: object, limit: int = 40, *, quote: bool = True) -> str:
    """A value for a message: quoted, on one line and cut short, whatever it is."""
    if not isinstance(value, str):
        return _kind(value)
    cut = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(cut) if quote else repr(cut)[1:-1]


def _kind(value: object) -> str:
    """Describe a parsed YAML value without printing containers (they may be huge)."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int):
        return f"the number {value}" if value.bit_length() <= 64 else "a very large number"
    if isinstance(value, float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {_short(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a value of type {type(value).__name__}"
