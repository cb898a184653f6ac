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

from bot.survey.model import Survey
from bot.survey.schema import (
    KNOWN_KEYS,
    MAX_LABEL_LENGTH,
    QUESTION_MODELS,
    UNTYPED,
    validate,
)

__all__ = ["DEFAULT_SURVEY_PATH", "MAX_LABEL_LENGTH", "SurveyFileError", "load_survey"]

DEFAULT_SURVEY_PATH: Final[Path] = (
    Path(__file__).resolve().parent / "data" / "pcve_cooperation.yaml"
)
"""The survey shipped with the package (package data, so it works from any install)."""

MAX_FILE_BYTES: Final = 1_000_000
MAX_PROBLEMS_IN_MESSAGE: Final = 10

_Loc = tuple[int | str, ...]

_MESSAGES: Final = {
    "model_type": "Input should be a mapping",
    "model_attributes_type": "Input should be a mapping",
}
"""Pydantic messages reworded for people editing a YAML file."""


class SurveyFileError(Exception):
    """A survey file that cannot be read or does not describe a valid survey.

    Built from the file and located messages ("q7: show_if: refers to …"); `problems` then
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
    return load_survey_bytes(_read_file(path), path)


def load_survey_bytes(raw: bytes, path: str | Path) -> Survey:
    """Parse and check the bytes of a survey file named `path` (an upload, say)."""
    document = _parse_yaml(raw, path)
    if document is None:
        raise SurveyFileError(path, ["file is empty"])
    survey, errors = validate(document)
    located = [_describe(document, error) for error in errors] + [
        _located(document, loc, f"key {_short(key)} is given twice", line)
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
        raise SurveyFileError(path, ["file not found"]) from None
    except IsADirectoryError:
        raise SurveyFileError(path, ["is a directory, not a survey file"]) from None
    except PermissionError:
        raise SurveyFileError(path, ["file is not readable (permission denied)"]) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SurveyFileError(path, [f"file cannot be read ({reason})"]) from None


def _parse_yaml(raw: bytes, path: str | Path) -> object:
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


def parse_scalar(text: str) -> object:
    """One YAML value read as survey files are (YAML 1.2 booleans); the text itself when it
    is not valid YAML."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return text


def _describe_yaml_error(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    what = error.problem or "syntax error"
    context = ""
    if error.context and error.context_mark and error.context_mark is not mark:
        context = f" ({error.context} at line {error.context_mark.line + 1})"
    return f"not valid YAML{where}: {what}{context}"


# --- Reporting -----------------------------------------------------------------------------


def _describe(document: object, error: ErrorDetails) -> tuple[int | None, str]:
    """A pydantic error as its line and "question: field: message"."""
    loc = list(error["loc"])
    kind = error["type"]
    in_question = loc[:1] == ["questions"] and len(loc) > 2 and loc[2] in QUESTION_MODELS
    model_key = str(loc.pop(2)) if in_question else None
    if kind not in ("missing", "extra_forbidden", "invalid_key"):
        message = _MESSAGES.get(kind, error["msg"])
        if kind.endswith("_type"):
            message += f", not {_kind(error['input'])}"
        return _located(document, tuple(loc), message)
    # A problem with a key is told at the mapping that has it (or lacks it).
    key = loc.pop()
    if kind == "missing":
        return _located(document, tuple(loc), f"missing key {key!r}")
    if kind == "invalid_key":
        return _located(document, tuple(loc), f"keys must be names, not {_kind(error['input'])}")
    message = _unknown_key(str(key), model_key if len(loc) == 2 else None)
    return _located(document, tuple(loc), message, _locate(document, (*loc, key))[1])


def _unknown_key(key: str, question_type: str | None) -> str:
    """Name an unknown key with a hint; `question_type` is given for a question's own keys."""
    candidates = KNOWN_KEYS
    if question_type:
        candidates = list(QUESTION_MODELS[question_type].model_fields)
        types = [t for t, m in QUESTION_MODELS.items() if key in m.model_fields and t != UNTYPED]
        if types:
            return f"{key} is only for {' and '.join(types)} questions, not {question_type}"
    if close := difflib.get_close_matches(key, candidates, n=1, cutoff=0.7):
        return f"unknown key {_short(key)} (did you mean {close[0]!r}?)"
    allowed = f" (allowed: {', '.join(candidates)})" if question_type else ""
    return f"unknown key {_short(key)}{allowed}"


def _repeated_keys(node: object, loc: _Loc = ()) -> Iterator[tuple[_Loc, str, int]]:
    """Keys written twice in one mapping (YAML readers silently keep the last one)."""
    if isinstance(node, _Mapping):
        for key, line in node.duplicate_keys:
            yield loc, key, line
    if isinstance(node, dict | list):
        for step, child in node.items() if isinstance(node, dict) else enumerate(node):
            yield from _repeated_keys(child, (*loc, step))


def _located(
    document: object, loc: _Loc, message: str, line: int | None = None
) -> tuple[int | None, str]:
    """The line of `loc` (unless given), and `message` prefixed with where it is."""
    where, found_line = _locate(document, loc)
    line = line or found_line
    text = ": ".join([*where, message])
    return line, f"{text} (line {line})" if line else text


def _locate(document: object, loc: _Loc) -> tuple[list[str], int | None]:
    """Name the question, option and field at `loc`, and find the line of its last key."""
    where: list[str] = []
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


def _name(kind: str, item: object, number: int) -> str:
    """How problems name a question ("q7") or an option ("option 'yes'")."""
    raw_id = item.get("id") if isinstance(item, dict) else None
    if not (isinstance(raw_id, str) and raw_id.strip()):
        return f"{kind} #{number + 1}"
    return _short(raw_id, 32, quote=False) if kind == "question" else f"option {_short(raw_id)}"


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
