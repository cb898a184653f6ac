"""Load a survey definition from a YAML data file and check it against `bot.survey.schema`.

`load_survey` either returns a valid `Survey` or raises `SurveyFileError` listing every
problem it found at once, each as "question: field: message (line N)", so whoever edits the
file can fix it in one pass. No other exception escapes for malformed input.

YAML notes: the file is read as YAML 1.2 booleans (only true/false, so `id: no` or
`en: No` stay texts), mappings remember their line numbers, and a key written twice in one
mapping is a problem rather than silently overwritten.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

import yaml
from pydantic_core import ErrorDetails

from bot.core.i18n import Message
from bot.survey.model import Survey
from bot.survey.schema import (
    KNOWN_KEYS,
    MAX_LABEL_LENGTH,
    QUESTION_MODELS,
    UNTYPED,
    validate,
)

__all__ = [
    "DEFAULT_SURVEY_PATH",
    "MAX_LABEL_LENGTH",
    "SurveyFileError",
    "load_survey",
    "reworded",
    "too_large",
]

DEFAULT_SURVEY_PATH: Final[Path] = (
    Path(__file__).resolve().parent / "data" / "pcve_cooperation.yaml"
)
"""The survey shipped with the package (package data, so it works from any install)."""

MAX_FILE_BYTES: Final = 1_000_000
MAX_PROBLEMS_IN_MESSAGE: Final = 10

_Loc = tuple[int | str, ...]

_OF_TYPE: Final = {
    "string_type": Message("should be a text"),
    "int_type": Message("should be a whole number"),
    "int_from_float": Message("should be a whole number"),
    "float_type": Message("should be a number"),
    "bool_type": Message("should be true or false"),
    "list_type": Message("should be a list"),
    "dict_type": Message("should be a mapping"),
    "model_type": Message("should be a mapping"),
    "model_attributes_type": Message("should be a mapping"),
}
"""Pydantic's type errors, said for people editing a YAML file; "not …" follows."""

_CONSTRAINTS: Final = {
    "string_too_short": Message("should have at least {min_length} characters"),
    "string_too_long": Message("should have at most {max_length} characters"),
    "too_short": Message("should have at least {min_length} items"),
    "too_long": Message("should have at most {max_length} items"),
    "greater_than_equal": Message("should be at least {ge}"),
    "greater_than": Message("should be more than {gt}"),
    "less_than_equal": Message("should be at most {le}"),
    "less_than": Message("should be less than {lt}"),
    "literal_error": Message("should be one of: {expected}"),
    "enum": Message("should be one of: {expected}"),
    "finite_number": Message("should be a finite number"),
    "union_tag_invalid": Message("'{tag}' is not one of {expected_tags}"),
}
"""Pydantic's other errors, worded alike, with the values of the error's context."""


class SurveyFileError(Exception):
    """A survey file that cannot be read or does not describe a valid survey.

    Built from the file and located messages ("q7: show_if: refers to …"); `problems` then
    holds one line per problem, each starting with the file name, and `str()` of the error
    is a single line that summarises them all for a command-line message.
    """

    def __init__(self, path: str | Path, problems: Sequence[Message]) -> None:
        self.path = str(path)
        self.details = tuple(problems)
        """Each problem, to be read in the reader's language."""
        self._details = tuple(" ".join(str(p).splitlines()) for p in problems)
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

    def __reduce__(self) -> tuple[type[SurveyFileError], tuple[str, tuple[Message, ...]]]:
        return (type(self), (self.path, self.details))


def load_survey(path: str | Path) -> Survey:
    """Read, parse and check a survey file; raise `SurveyFileError` listing all problems."""
    return load_survey_bytes(_read_file(path), path)


def load_survey_bytes(raw: bytes, path: str | Path) -> Survey:
    """Parse and check the bytes of a survey file named `path` (an upload, say)."""
    document = _parse_yaml(raw, path)
    if document is None:
        raise SurveyFileError(path, [Message("the file is empty")])
    survey, errors = validate(document)
    located = [_describe(document, error) for error in errors] + [
        _located(document, loc, Message("the key {key} is given twice", key=_short(key)), line)
        for loc, key, line in _repeated_keys(document)
    ]
    located.sort(key=lambda problem: problem[0] or 0)
    if survey is None or located:
        raise SurveyFileError(path, [problem for _, problem in located])
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


def _read_file(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise SurveyFileError(path, [Message("file not found")]) from None
    except IsADirectoryError:
        raise SurveyFileError(path, [Message("is a directory, not a survey file")]) from None
    except PermissionError:
        problem = Message("file is not readable (permission denied)")
        raise SurveyFileError(path, [problem]) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SurveyFileError(
            path, [Message("file cannot be read ({reason})", reason=reason)]
        ) from None


def _parse_yaml(raw: bytes, path: str | Path) -> object:
    if len(raw) > MAX_FILE_BYTES:
        raise SurveyFileError(path, [too_large(len(raw), MAX_FILE_BYTES)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problem = Message(
            "file is not UTF-8 text (invalid byte at offset {offset})", offset=error.start
        )
        raise SurveyFileError(path, [problem]) from None
    loader = None
    try:
        loader = _Loader(text)
        return loader.get_single_data()
    except yaml.reader.ReaderError as error:
        problem = Message(
            "file contains a character YAML does not allow ({character}) at offset {offset}",
            character=f"#x{error.character:04x}",
            offset=error.position,
        )
        raise SurveyFileError(path, [problem]) from None
    except yaml.MarkedYAMLError as error:
        raise SurveyFileError(path, [_describe_yaml_error(error)]) from None
    except yaml.YAMLError as error:
        raise SurveyFileError(path, [_not_yaml(str(error))]) from None
    except RecursionError:
        raise SurveyFileError(path, [_not_yaml("nested too deeply")]) from None
    except Exception as error:  # PyYAML may raise ValueError etc. on odd scalars
        problem = _not_yaml(f"{type(error).__name__}: {_short(str(error), 120)}")
        raise SurveyFileError(path, [problem]) from None
    finally:
        if loader is not None:
            loader.dispose()


def parse_scalar(text: str) -> object:
    """One YAML value read as survey files are (YAML 1.2 booleans); the text itself when it
    is not valid YAML."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return text


def too_large(size: int, limit: int) -> Message:
    return Message("the file is too large ({size} bytes; at most {limit})", size=size, limit=limit)


def _not_yaml(reason: str) -> Message:
    """PyYAML's own words, in English, are the reason: they name YAML's terms."""
    return Message("not valid YAML: {reason}", reason=reason)


def _describe_yaml_error(error: yaml.MarkedYAMLError) -> Message:
    mark = error.problem_mark or error.context_mark
    what = error.problem or "syntax error"
    if error.context and error.context_mark and error.context_mark is not mark:
        what += f" ({error.context} at line {error.context_mark.line + 1})"
    if mark is None:
        return _not_yaml(what)
    return Message(
        "not valid YAML at line {line}, column {column}: {reason}",
        line=mark.line + 1,
        column=mark.column + 1,
        reason=what,
    )


# --- Reporting -----------------------------------------------------------------------------


def _describe(document: object, error: ErrorDetails) -> tuple[int | None, Message]:
    """A pydantic error as its line and "question: field: message"."""
    loc = list(error["loc"])
    kind = error["type"]
    in_question = loc[:1] == ["questions"] and len(loc) > 2 and loc[2] in QUESTION_MODELS
    model_key = str(loc.pop(2)) if in_question else None
    if kind not in ("missing", "extra_forbidden", "invalid_key"):
        return _located(document, tuple(loc), reworded(error))
    # A problem with a key is told at the mapping that has it (or lacks it).
    key = loc.pop()
    if kind == "missing":
        return _located(document, tuple(loc), Message("the key {key} is missing", key=key))
    if kind == "invalid_key":
        message = Message("keys must be names, not {value}", value=_kind(error["input"]))
        return _located(document, tuple(loc), message)
    message = _unknown_key(str(key), model_key if len(loc) == 2 else None)
    return _located(document, tuple(loc), message, _locate(document, (*loc, key))[1])


def reworded(error: ErrorDetails) -> Message:
    """A pydantic error in our words: our own rules carry their message; pydantic's are
    reworded with their context; one we did not foresee keeps pydantic's English."""
    kind, context = error["type"], error.get("ctx", {})
    if kind in ("survey_rule", "expression"):
        return next(iter(context.values()))  # type: ignore[no-any-return]
    if kind in _OF_TYPE:
        return Message("{rule}, not {value}", rule=_OF_TYPE[kind], value=_kind(error["input"]))
    if kind in ("string_too_short", "too_short") and context.get("min_length") == 1:
        return Message("should not be empty")
    if kind == "string_pattern_mismatch":
        characters = str(context.get("pattern", "")).strip("^$+*").strip("[]")
        return Message("may only use the characters {characters}", characters=characters)
    if kind in _CONSTRAINTS:
        template = _CONSTRAINTS[kind]
        return Message(template.id, **{key: _plain(value) for key, value in context.items()})
    return Message("{reason}", reason=error["msg"])


def _plain(value: object) -> object:
    """A value from pydantic's context as a message shows it: "'a', 'b' or 'c'" as a, b, c
    (an English "or" would stand out in an Arabic sentence)."""
    if not isinstance(value, str):
        return value
    return re.sub(r"'([^']*)'", r"\1", value.replace("' or '", "', '"))


def _unknown_key(key: str, question_type: str | None) -> Message:
    """Name an unknown key with a hint; `question_type` is given for a question's own keys."""
    candidates = KNOWN_KEYS
    if question_type:
        candidates = list(QUESTION_MODELS[question_type].model_fields)
        types = [t for t, m in QUESTION_MODELS.items() if key in m.model_fields and t != UNTYPED]
        if types:
            return Message(
                "{key} is only for questions of type {types}, not {type}",
                key=key,
                types=" / ".join(types),
                type=question_type,
            )
    if close := difflib.get_close_matches(key, candidates, n=1, cutoff=0.7):
        return Message(
            "unknown key {key} (did you mean '{close}'?)", key=_short(key), close=close[0]
        )
    if question_type:
        return Message(
            "unknown key {key} (allowed: {allowed})", key=_short(key), allowed=", ".join(candidates)
        )
    return Message("unknown key {key}", key=_short(key))


def _repeated_keys(node: object, loc: _Loc = ()) -> Iterator[tuple[_Loc, str, int]]:
    """Keys written twice in one mapping (YAML readers silently keep the last one)."""
    if isinstance(node, _Mapping):
        for key, line in node.duplicate_keys:
            yield loc, key, line
    if isinstance(node, dict | list):
        for step, child in node.items() if isinstance(node, dict) else enumerate(node):
            yield from _repeated_keys(child, (*loc, step))


def _located(
    document: object, loc: _Loc, message: Message, line: int | None = None
) -> tuple[int | None, Message]:
    """The line of `loc` (unless given), and `message` prefixed with where it is."""
    where, found_line = _locate(document, loc)
    line = line or found_line
    for place in reversed(where):
        message = Message("{place}: {problem}", place=place, problem=message)
    return line, Message("{problem} (line {line})", problem=message, line=line) if line else message


def _locate(document: object, loc: _Loc) -> tuple[list[str | Message], int | None]:
    """Name the question, option and field at `loc`, and find the line of its last key."""
    where: list[str | Message] = []
    field = ""
    node = document
    line = node.line if isinstance(node, _Mapping) else None
    for step in loc:
        if isinstance(step, int) and field in ("questions", "options"):
            item = node[step] if isinstance(node, list) and step < len(node) else None
            where.append(_name(field.removesuffix("s"), item, step))
            field = ""
        elif isinstance(step, int):
            field += f" #{step + 1}"
        else:
            field += f".{step}" if field else str(step)
        if isinstance(node, _Mapping) and step in node:
            line = node.key_lines.get(str(step), line)
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            line = node.line if isinstance(node, _Mapping) else line
        else:
            node = None
    return [*where, field] if field else where, line


def _name(kind: str, item: object, number: int) -> str | Message:
    """How problems name a question ("q7") or an option ("option 'yes'")."""
    raw_id = item.get("id") if isinstance(item, dict) else None
    if not (isinstance(raw_id, str) and raw_id.strip()):
        if kind == "question":
            return Message("question {number}", number=number + 1)
        return Message("option {number}", number=number + 1)
    if kind == "question":
        return _short(raw_id, 32, quote=False)
    return Message("option {id}", id=_short(raw_id))


def _short(value: object, limit: int = 40, *, quote: bool = True) -> str:
    """A value for a message: quoted, on one line and cut short, whatever it is."""
    if not isinstance(value, str):
        return str(_kind(value))
    cut = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(cut) if quote else repr(cut)[1:-1]


def _kind(value: object) -> Message:
    """Describe a parsed YAML value without printing containers (they may be huge)."""
    if value is None:
        return Message("nothing (null)")
    if isinstance(value, bool):
        return Message("{value} (a boolean)", value=str(value).lower())
    if isinstance(value, int) and value.bit_length() > 64:
        return Message("a very large number")
    if isinstance(value, int | float):
        return Message("the number {value}", value=str(value))
    if isinstance(value, str):
        return Message("the text {value}", value=_short(value))
    if isinstance(value, dict):
        return Message("a mapping")
    if isinstance(value, list):
        return Message("a list")
    return Message("a value of type {type}", type=type(value).__name__)
