"""A safe evaluator of the XPath 1.0 subset that XLSForm uses, with ODK Collect's semantics.

Expressions are tokenised and parsed into a small tree, then walked; nothing is ever handed
to `eval`. What Collect (JavaRosa) does is followed where it differs from XPath 1.0:

- an unanswered question is an empty string, which is NaN as a number (so `${age} > 5` is
  false and `${age} != 0` is true while age is unanswered);
- `<`, `<=`, `>` and `>=` compare numbers, so `'a' < 'b'` is false; a date (`2024-05-01`,
  or `today()`) is its number of days since 1970-01-01;
- `regex()` must match the whole value; `round()` rounds halves up; `mod` keeps the sign of
  the dividend;
- `>=`, `<=` and `!=` are single tokens: `. > = 5` is a syntax error, not `. > (= 5)`.

`${name}` is the answer to question `name`, `.` the value being checked, and a bare name
(`country` in a choice filter) a column of the choice being filtered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Final

from bot.core.i18n import Message

Value = bool | float | str | date
"""An XPath value: boolean, number, string; dates are kept as dates until converted."""

_EPOCH: Final = date(1970, 1, 1)
_NUMBER: Final = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")
_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated; `reason` says why (`str()` in
    English)."""

    def __init__(self, reason: Message) -> None:
        super().__init__(str(reason))
        self.reason = reason


class UnsupportedFunction(ExpressionError):
    """A function of XLSForm that Hiwar does not run (pulldata, search, position…)."""

    def __init__(self, name: str, reason: Message) -> None:
        super().__init__(Message("{name}() is not supported: {reason}", name=name, reason=reason))
        self.name = name


# --- Tokens --------------------------------------------------------------------------------

_TOKEN: Final = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<ref>\$\{\s*(?P<refname>[A-Za-z_][\w.-]*)\s*\})
    | (?P<number>\d+(\.\d*)?|\.\d+)
    | (?P<string>"[^"]*"|'[^']*')
    | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\||\(|\)|,)
    | (?P<dotdot>\.\.)
    | (?P<dot>\.)
    | (?P<name>[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?)
    """,
    re.VERBOSE,
)
_WORD_OPERATORS: Final = frozenset({"and", "or", "div", "mod"})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    at: int


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise _unexpected(source[position], position)
        kind = match.lastgroup or ""
        if kind == "refname":
            kind = "ref"
        text = match.group("refname") if kind == "ref" else match.group()
        if kind == "dotdot":
            raise ExpressionError(
                Message("relative paths (..) are not supported; use {syntax}", syntax="${name}")
            )
        if kind == "op" and text == "=" and tokens and tokens[-1].text in "<>!":
            previous = tokens[-1].text
            raise ExpressionError(
                Message(
                    "'{wrong}' is not an operator: write '{right}'",
                    wrong=f"{previous} =",
                    right=f"{previous}=",
                )
            )
        if kind == "name" and text in _WORD_OPERATORS and _operator_expected(tokens):
            kind = "op"
        if kind == "op" and text == "*" and not _operator_expected(tokens):
            raise ExpressionError(Message("'*' (all nodes) is not supported"))
        if kind != "space":
            tokens.append(_Token(kind, text, position))
        position = match.end()
    return tokens


def _operator_expected(before: list[_Token]) -> bool:
    """XPath's rule: after an operand, `*` multiplies and `and`, `div`… are operators."""
    return bool(before) and not (before[-1].kind == "op" and before[-1].text not in ")")


# --- Parsing -------------------------------------------------------------------------------

Node = tuple[object, ...]
_BINARY: Final = (
    ("or",),
    ("and",),
    ("=", "!="),
    ("<", "<=", ">", ">="),
    ("+", "-"),
    ("*", "div", "mod"),
)


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.index = 0
        self.references: set[str] = set()

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError(Message("the expression is empty"))
        tree = self._binary(0)
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise _unexpected(token.text, token.at)
        return tree

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self, text: str | None = None) -> _Token:
        token = self._peek()
        if token is None:
            if text is None:
                raise ExpressionError(Message("the expression ends too early"))
            raise ExpressionError(Message("expected '{text}' at the end", text=text))
        if text is not None and (token.kind != "op" or token.text != text):
            raise ExpressionError(
                Message(
                    "expected '{text}' at position {position}", text=text, position=token.at + 1
                )
            )
        self.index += 1
        return token

    def _binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self._unary()
        left = self._binary(level + 1)
        while (token := self._peek()) and token.kind == "op" and token.text in _BINARY[level]:
            self.index += 1
            left = ("op", token.text, left, self._binary(level + 1))
        return left

    def _unary(self) -> Node:
        token = self._peek()
        if token is not None and token.kind == "op" and token.text == "-":
            self.index += 1
            return ("neg", self._unary())
        return self._primary()

    def _primary(self) -> Node:
        token = self._take()
        match token.kind:
            case "number":
                return ("value", float(token.text))
            case "string":
                return ("value", token.text[1:-1])
            case "ref":
                self.references.add(token.text)
                return ("ref", token.text)
            case "dot":
                return ("dot",)
            case "name":
                following = self._peek()
                if following is not None and following.text == "(":
                    return self._call(token.text)
                return ("column", token.text)
            case "op" if token.text == "(":
                inner = self._binary(0)
                self._take(")")
                return inner
        raise _unexpected(token.text, token.at)

    def _call(self, name: str) -> Node:
        self._take("(")
        arguments: list[Node] = []
        if (token := self._peek()) is not None and token.text == ")":
            self.index += 1
        else:
            arguments.append(self._binary(0))
            while self._take().text == ",":
                arguments.append(self._binary(0))
            if self.tokens[self.index - 1].text != ")":
                raise ExpressionError(
                    Message("expected ')' after the arguments of {name}()", name=name)
                )
        _check_call(name, len(arguments))
        return ("call", name, tuple(arguments))


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression, with the questions it refers to."""

    source: str
    tree: Node = field(repr=False)
    references: frozenset[str]


@lru_cache(maxsize=2048)
def parse(source: str) -> Expression:
    """Parse once (cached); raise `ExpressionError` saying what is wrong."""
    parser = _Parser(source)
    tree = parser.parse()
    return Expression(source, tree, frozenset(parser.references))


# --- Values --------------------------------------------------------------------------------


def to_number(value: Value) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, date):
        return float((value - _EPOCH).days)
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return float(text)
    if (day := _as_date(text)) is not None:
        return float((day - _EPOCH).days)
    return math.nan


def to_string(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_bool(value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, date):
        return True
    return value != ""


def _as_date(text: str) -> date | None:
    match = _DATE.match(text)
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


# --- Evaluation ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Context:
    """What names mean: `values` the answers (unanswered: absent or ""), `current` the value
    `.` stands for, `item` the columns of a choice being filtered, `today` today's date."""

    values: Mapping[str, Value]
    today: date
    current: Value = ""
    item: Mapping[str, str] = field(default_factory=dict)


def evaluate(expression: Expression | str, context: Context) -> Value:
    parsed = parse(expression) if isinstance(expression, str) else expression
    return _evaluate(parsed.tree, context)


def holds(expression: Expression | str, context: Context) -> bool:
    """The expression's value as a boolean (for relevant, constraint and choice filters)."""
    return to_bool(evaluate(expression, context))


def _evaluate(node: Node, context: Context) -> Value:
    kind = node[0]
    if kind == "value":
        return node[1]  # type: ignore[return-value]
    if kind == "ref":
        return context.values.get(str(node[1]), "")
    if kind == "dot":
        return context.current
    if kind == "column":
        return context.item.get(str(node[1]), "")
    if kind == "neg":
        return -to_number(_evaluate(node[1], context))  # type: ignore[arg-type]
    if kind == "call":
        name, arguments = str(node[1]), node[2]
        return _FUNCTIONS[name](context, arguments)  # type: ignore[arg-type]
    operator, left, right = str(node[1]), node[2], node[3]
    if operator in ("and", "or"):
        first = to_bool(_evaluate(left, context))  # type: ignore[arg-type]
        if first is (operator == "or"):
            return first
        return to_bool(_evaluate(right, context))  # type: ignore[arg-type]
    a, b = _evaluate(left, context), _evaluate(right, context)  # type: ignore[arg-type]
    if operator in ("=", "!="):
        return _equal(a, b) is (operator == "=")
    if operator in _COMPARISONS:
        return _COMPARISONS[operator](to_number(a), to_number(b))
    return _arithmetic(operator, to_number(a), to_number(b))


_COMPARISONS: Final[dict[str, Callable[[float, float], bool]]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _equal(a: Value, b: Value) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return to_bool(a) == to_bool(b)
    if isinstance(a, float | date) or isinstance(b, float | date):
        return to_number(a) == to_number(b)
    return a == b


def _arithmetic(operator: str, a: float, b: float) -> float:
    if operator == "+":
        return a + b
    if operator == "-":
        return a - b
    if operator == "*":
        return a * b
    if operator == "|":
        raise ExpressionError(Message("'|' (union of node-sets) is not supported"))
    if b == 0 or math.isnan(b):
        if operator == "mod" or a == 0 or math.isnan(a) or math.isnan(b):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return math.fmod(a, b) if operator == "mod" else a / b


# --- Functions -----------------------------------------------------------------------------

_Arguments = tuple[Node, ...]


def _args(context: Context, arguments: _Arguments) -> list[Value]:
    return [_evaluate(argument, context) for argument in arguments]


def _strings(context: Context, arguments: _Arguments) -> list[str]:
    return [to_string(value) for value in _args(context, arguments)]


def _if(context: Context, arguments: _Arguments) -> Value:
    chosen = arguments[1] if to_bool(_evaluate(arguments[0], context)) else arguments[2]
    return _evaluate(chosen, context)


def _coalesce(context: Context, arguments: _Arguments) -> Value:
    first = _evaluate(arguments[0], context)
    return first if to_string(first) != "" else _evaluate(arguments[1], context)


def _string_length(context: Context, arguments: _Arguments) -> float:
    value = _evaluate(arguments[0], context) if arguments else context.current
    return float(len(to_string(value)))


def _regex(context: Context, arguments: _Arguments) -> bool:
    value, pattern = _strings(context, arguments)
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error as error:
        raise ExpressionError(
            Message(
                "regex(): '{pattern}' is not a valid pattern ({error})",
                pattern=pattern,
                error=str(error),
            )
        ) from None


def _int(value: float) -> float:
    return value if math.isnan(value) or math.isinf(value) else float(math.trunc(value))


def _round(context: Context, arguments: _Arguments) -> float:
    values = [to_number(v) for v in _args(context, arguments)]
    digits = int(values[1]) if len(values) > 1 and not math.isnan(values[1]) else 0
    if math.isnan(values[0]) or math.isinf(values[0]):
        return values[0]
    scale = 10.0**digits
    return math.floor(values[0] * scale + 0.5) / scale


def _substr(context: Context, arguments: _Arguments) -> str:
    text, *bounds = _args(context, arguments)
    value = to_string(text)
    start = int(to_number(bounds[0]))
    end = int(to_number(bounds[1])) if len(bounds) > 1 else len(value)
    return value[start:end]


def _selected_at(context: Context, arguments: _Arguments) -> str:
    chosen, index = _args(context, arguments)
    items = to_string(chosen).split()
    position = to_number(index)
    return items[int(position)] if 0 <= position < len(items) else ""


def _one(convert: Callable[[Value], Value]) -> Callable[[Context, _Arguments], Value]:
    return lambda context, arguments: convert(_evaluate(arguments[0], context))


def _two_strings(test: Callable[[str, str], Value]) -> Callable[[Context, _Arguments], Value]:
    return lambda context, arguments: test(*_strings(context, arguments))


def _numbers(combine: Callable[..., float]) -> Callable[[Context, _Arguments], Value]:
    return lambda context, arguments: combine(*(to_number(v) for v in _args(context, arguments)))


_FUNCTIONS: Final[dict[str, Callable[[Context, _Arguments], Value]]] = {
    "selected": _two_strings(lambda chosen, option: option.strip() in chosen.split()),
    "count-selected": _one(lambda chosen: float(len(to_string(chosen).split()))),
    "selected-at": _selected_at,
    "not": _one(lambda value: not to_bool(value)),
    "true": lambda _context, _arguments: True,
    "false": lambda _context, _arguments: False,
    "boolean": _one(to_bool),
    "string": _one(to_string),
    "number": _one(to_number),
    "int": _one(lambda value: _int(to_number(value))),
    "round": _round,
    "abs": _numbers(abs),
    "pow": _numbers(lambda base, power: math.nan if base == 0 and power < 0 else base**power),
    "min": _numbers(lambda *values: min(values)),
    "max": _numbers(lambda *values: max(values)),
    "string-length": _string_length,
    "contains": _two_strings(lambda text, part: part in text),
    "starts-with": _two_strings(lambda text, part: text.startswith(part)),
    "ends-with": _two_strings(lambda text, part: text.endswith(part)),
    "substr": _substr,
    "concat": lambda context, arguments: "".join(_strings(context, arguments)),
    "normalize-space": _one(lambda value: " ".join(to_string(value).split())),
    "regex": _regex,
    "if": _if,
    "coalesce": _coalesce,
    "today": lambda context, _arguments: context.today,
}

_ARITY: Final[dict[str, tuple[int, int]]] = {
    "selected": (2, 2),
    "count-selected": (1, 1),
    "selected-at": (2, 2),
    "not": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
    "boolean": (1, 1),
    "string": (1, 1),
    "number": (1, 1),
    "int": (1, 1),
    "round": (1, 2),
    "abs": (1, 1),
    "pow": (2, 2),
    "min": (1, 99),
    "max": (1, 99),
    "string-length": (0, 1),
    "contains": (2, 2),
    "starts-with": (2, 2),
    "ends-with": (2, 2),
    "substr": (2, 3),
    "concat": (1, 99),
    "normalize-space": (1, 1),
    "regex": (2, 2),
    "if": (3, 3),
    "coalesce": (2, 2),
    "today": (0, 0),
}

_UNSUPPORTED: Final = {
    "pulldata": Message("it reads a CSV file attached to the form"),
    "search": Message("it reads a CSV file attached to the form"),
    "instance": Message("it reads choice lists or files as data"),
    "indexed-repeat": Message("repeats are not supported"),
    "position": Message("repeats are not supported"),
    "count": Message("it counts repeats or node-sets"),
    "sum": Message("it adds up repeats or node-sets"),
    "now": Message("only dates are supported, not times"),
    "uuid": Message("generated identifiers are not supported"),
    "random": Message("random values are not supported"),
    "once": Message("values fixed at first evaluation are not supported"),
    "jr:choice-name": Message("choice labels in expressions are not supported"),
    "geofence": Message("geographic questions are not supported"),
    "distance": Message("geographic questions are not supported"),
    "area": Message("geographic questions are not supported"),
}


def _check_call(name: str, count: int) -> None:
    if name in _UNSUPPORTED:
        raise UnsupportedFunction(name, _UNSUPPORTED[name])
    if name not in _ARITY:
        raise UnsupportedFunction(name, Message("Hiwar does not know this function"))
    low, high = _ARITY[name]
    if low == high and count != low:
        raise ExpressionError(
            Message(
                "{name}() takes {wanted} argument(s), not {count}",
                name=name,
                wanted=low,
                count=count,
            )
        )
    if not low <= count <= high:
        raise ExpressionError(
            Message(
                "{name}() takes {low} to {high} arguments, not {count}",
                name=name,
                low=low,
                high=high,
                count=count,
            )
        )


def _unexpected(text: str, at: int) -> ExpressionError:
    return ExpressionError(
        Message("unexpected '{text}' at position {position}", text=text, position=at + 1)
    )
