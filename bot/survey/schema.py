"""What a valid survey file is, as pydantic models, and how it becomes a `Survey`.

`SurveyFile` mirrors the file: field types, and the rules within one question as model
validators (they run once that question's fields are valid). Pydantic skips a model's
validators when any of its fields fails, so the rules across questions live on `_Outline`,
a lenient reading of just what they need that passes over flaws `SurveyFile` reports
anyway; `validate` runs both. Rule messages read after the location they are reported at
("report: barrier needs a short_label"), like pydantic's own. An optional key whose default
is "none" may also be written as null.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, Self, TypeVar, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    create_model,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from bot.core.i18n import Message
from bot.survey import expressions
from bot.survey.engine import SCALE_VALUES
from bot.survey.model import (
    LANGUAGES,
    Condition,
    Option,
    Question,
    QuestionType,
    ReportRole,
    ScaleLabels,
    Side,
    Survey,
    Text,
)

MAX_LABEL_LENGTH: Final = 40
"""Short labels (chart labels), in characters."""
MAX_OPTION_LABEL_LENGTH: Final = 100
"""Option labels (button texts), in characters."""
MAX_OPTIONS: Final = 500
"""Options of one question; more than a keyboard holds are shown a page at a time."""

_SCALE_ANSWERS: Final = tuple(str(value) for value in SCALE_VALUES)
_CHOICE_TYPES: Final = frozenset({QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE})
_SINGLE_QUESTION_ROLES: Final = (
    ReportRole.SECTOR,
    ReportRole.LEVEL,
    ReportRole.COUNTRY,
    ReportRole.INVITATIONS,
)
_ROLE_TYPES: Final[dict[ReportRole, frozenset[QuestionType]]] = {
    **dict.fromkeys(_SINGLE_QUESTION_ROLES, frozenset({QuestionType.SINGLE_CHOICE})),
    ReportRole.BARRIER: frozenset({QuestionType.AGREEMENT_SCALE}),
    ReportRole.PRIORITY: _CHOICE_TYPES,
    ReportRole.FORMATS: _CHOICE_TYPES,
    ReportRole.COMMENT: frozenset({QuestionType.FREE_TEXT}),
    ReportRole.PROFILE: frozenset({QuestionType.SINGLE_CHOICE}),
}


class _Problems(list[InitErrorDetails]):
    """Rule violations found by one validator, raised together so that each is reported."""

    def add(self, message: Message, *loc: str | int) -> None:
        error = PydanticCustomError("survey_rule", "{message}", {"message": message})
        self.append(InitErrorDetails(type=error, loc=loc, input=None))

    def raise_any(self) -> None:
        if self:
            raise ValidationError.from_exception_data("survey file", self)


# --- Field types -----------------------------------------------------------------------------

_T = TypeVar("_T")
_Lax = Annotated[_T, Field(strict=False)]
"""An enum read from its value (strict mode would only take enum members)."""


def _identifier(pattern: str, max_length: int) -> Any:
    return Annotated[StrictStr, StringConstraints(pattern=pattern, max_length=max_length)]


_SurveyId = _identifier(r"^[a-z0-9_-]+$", 32)
_QuestionId = _identifier(r"^[a-z0-9_]+$", 24)
_OptionId = _identifier(r"^[A-Za-z0-9_.-]+$", 32)
"""As XLSForm allows choice names; with a question id, a button's data stays within 64 bytes."""
_Answer = Annotated[_OptionId, BeforeValidator(lambda v: str(v) if type(v) is int else v)]
"""A `show_if` answer: an option id, or a scale value (which YAML reads as a number)."""


def _keep_int(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    return value if type(value) is int else handler(value)


_Bound = Annotated[float, Field(allow_inf_nan=False), WrapValidator(_keep_int)]
"""A finite number; one written without decimals stays an int."""


def _parsed(source: str) -> str:
    try:
        expressions.parse(source)
    except expressions.ExpressionError as error:
        raise PydanticCustomError("expression", "{reason}", {"reason": error.reason}) from None
    return source


_Expression = Annotated[StrictStr, AfterValidator(_parsed)]
"""An XLSForm expression (bot/survey/expressions.py)."""


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


def _text_model(max_length: int) -> type[_Model]:
    """A text in every language, each trimmed and 1 to `max_length` characters long."""
    words = StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)
    fields: dict[str, Any] = dict.fromkeys(LANGUAGES, Annotated[StrictStr, words])
    return create_model(f"Text{max_length}", __base__=_Model, **fields)


_Title, _Introduction = _text_model(120), _text_model(2000)
_QuestionText, _Label = _text_model(1000), _text_model(MAX_LABEL_LENGTH)
_OptionLabel = _text_model(MAX_OPTION_LABEL_LENGTH)


def _text(model: _Model) -> Text:
    return Text(**model.model_dump())


def _maybe_text(model: _Model | None) -> Text | None:
    return None if model is None else _text(model)


# --- The file --------------------------------------------------------------------------------


class _Condition(_Model):
    question: _QuestionId
    any_of: Annotated[list[_Answer], Field(min_length=1)]

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        problems = _Problems()
        for number, value in enumerate(self.any_of):
            if value in self.any_of[:number]:
                problems.add(Message("'{value}' is listed twice", value=value), "any_of", number)
        problems.raise_any()
        return self


class _Option(_Model):
    id: _OptionId
    label: _OptionLabel
    side: _Lax[Side] | None = None
    opt_in: StrictBool = False
    filters: dict[_QuestionId, StrictStr] = Field(default_factory=dict)
    """Columns a `choice_filter` reads."""


class _Question(_Model):
    """A question of any type: the fields every type has."""

    id: _QuestionId
    type: _Lax[QuestionType]
    report: _Lax[ReportRole] | None = None
    text: _QuestionText
    short_label: _Label | None = None
    optional: StrictBool = False
    show_if: _Condition | None = None
    hint: _QuestionText | None = None
    relevant: _Expression | None = None
    constraint: _Expression | None = None
    constraint_message: _QuestionText | None = None
    required_message: _QuestionText | None = None
    default: StrictStr | None = None

    @model_validator(mode="after")
    def _fit_report(self) -> Self:
        problems = _Problems()
        if self.report is not None and self.type not in _ROLE_TYPES[self.report]:
            message = Message(
                "{role} needs a question of type {allowed}, not {type}",
                role=self.report,
                allowed=" / ".join(sorted(_ROLE_TYPES[self.report])),
                type=self.type,
            )
            problems.add(message, "report")
        if self.report is ReportRole.BARRIER and self.short_label is None:
            problems.add(Message("a barrier needs a short_label for charts"), "report")
        problems.raise_any()
        return self

    def to_question(self) -> Question:
        condition = self.show_if
        return Question(
            id=self.id,
            type=self.type,
            text=_text(self.text),
            optional=self.optional,
            show_if=condition and Condition(condition.question, tuple(condition.any_of)),
            short_label=_maybe_text(self.short_label),
            report=self.report,
            hint=_maybe_text(self.hint),
            relevant=self.relevant,
            constraint=self.constraint,
            constraint_message=_maybe_text(self.constraint_message),
            required_message=_maybe_text(self.required_message),
            default=self.default,
            **self._details(),
        )

    def _details(self) -> dict[str, Any]:
        """The `Question` fields only this type of question has."""
        return {}


class _AgreementScale(_Question):
    dont_know: StrictBool = False
    reversed: StrictBool = False
    scale: _Lax[ScaleLabels] = ScaleLabels.AGREEMENT

    def _details(self) -> dict[str, Any]:
        return {"dont_know": self.dont_know, "reversed": self.reversed, "scale": self.scale}


class _SingleChoice(_Question):
    options: Annotated[list[_Option], Field(min_length=2, max_length=MAX_OPTIONS)]
    choice_filter: _Expression | None = None

    @model_validator(mode="after")
    def _fit_options(self) -> Self:
        problems = _Problems()
        for number, option in enumerate(self.options):
            if option.id in (earlier.id for earlier in self.options[:number]):
                problems.add(
                    Message("is also the id of an earlier option"), "options", number, "id"
                )
            for key, role in (("side", ReportRole.LEVEL), ("opt_in", ReportRole.INVITATIONS)):
                if getattr(option, key) and self.report is not role:
                    message = Message("only for options of the report: {role} question", role=role)
                    problems.add(message, "options", number, key)
        if self.report is ReportRole.LEVEL:
            for side in Side:
                if all(option.side is not side for option in self.options):
                    message = Message(
                        "level needs at least one option with side: {side}", side=side
                    )
                    problems.add(message, "report")
        if self.report is ReportRole.INVITATIONS:
            if not any(option.opt_in for option in self.options):
                message = Message("invitations needs at least one option with opt_in: true")
                problems.add(message, "report")
            if all(option.opt_in for option in self.options):
                message = Message("invitations needs an option without opt_in, to decline")
                problems.add(message, "report")
        ids = {option.id for option in self.options}
        if self.default is not None and (unknown := set(self.default.split()) - ids):
            message = Message("not the id of an option: {ids}", ids=", ".join(sorted(unknown)))
            problems.add(message, "default")
        problems.raise_any()
        return self

    def _details(self) -> dict[str, Any]:
        options = (
            Option(o.id, _text(o.label), o.side, o.opt_in, tuple(o.filters.items()))
            for o in self.options
        )
        return {"options": tuple(options), "choice_filter": self.choice_filter}


class _MultipleChoice(_SingleChoice):
    max_choices: Annotated[StrictInt, Field(ge=2)] | None = None
    """How many options may be chosen at most; all of them when not given."""

    @model_validator(mode="after")
    def _fit_max_choices(self) -> Self:
        problems = _Problems()
        if (self.max_choices or 0) > len(self.options):
            message = Message(
                "{max_choices} is more than the number of options ({options})",
                max_choices=self.max_choices,
                options=len(self.options),
            )
            problems.add(message, "max_choices")
        problems.raise_any()
        return self

    def _details(self) -> dict[str, Any]:
        return super()._details() | {"max_choices": self.max_choices or len(self.options)}


class _FreeText(_Question):
    max_length: Annotated[StrictInt, Field(ge=1, le=4000)] = 1000

    def _details(self) -> dict[str, Any]:
        return {"max_length": self.max_length}


class _Number(_Question):
    min: _Bound | None = None
    max: _Bound | None = None
    integer: StrictBool = True

    @model_validator(mode="after")
    def _fit_bounds(self) -> Self:
        problems = _Problems()
        for key, value in (("min", self.min), ("max", self.max)):
            if self.integer and isinstance(value, float) and not value.is_integer():
                message = Message("{value} is not a whole number, but integer is true", value=value)
                problems.add(message, key)
        if self.min is not None and self.max is not None and not self.min < self.max:
            message = Message("{min} must be less than max ({max})", min=self.min, max=self.max)
            problems.add(message, "min")
        problems.raise_any()
        return self

    def _details(self) -> dict[str, Any]:
        def bound(value: float | None) -> float | None:
            return int(value) if self.integer and value is not None else value

        return {"min_value": bound(self.min), "max_value": bound(self.max), "integer": self.integer}


class _Calculate(_Question):
    """A value computed from earlier answers, never asked."""

    calculation: _Expression

    def _details(self) -> dict[str, Any]:
        return {"calculation": self.calculation}


class _Untyped(_Question):
    """A question of missing or unknown type: that is reported, and its other keys are still
    checked (any key of some type of question is allowed)."""

    options: Any = None
    max_choices: Any = None
    max_length: Any = None
    min: Any = None
    max: Any = None
    integer: Any = None
    dont_know: Any = None
    reversed: Any = None
    scale: Any = None
    choice_filter: Any = None
    calculation: Any = None


UNTYPED: Final = "untyped"
QUESTION_MODELS: Final[dict[str, type[_Question]]] = {
    QuestionType.SINGLE_CHOICE: _SingleChoice,
    QuestionType.MULTIPLE_CHOICE: _MultipleChoice,
    QuestionType.AGREEMENT_SCALE: _AgreementScale,
    QuestionType.FREE_TEXT: _FreeText,
    QuestionType.NUMBER: _Number,
    QuestionType.DATE: _Question,
    QuestionType.NOTE: _Question,
    QuestionType.ACKNOWLEDGE: _Question,
    QuestionType.CALCULATE: _Calculate,
    UNTYPED: _Untyped,
}
"""The model of each type of question; pydantic puts its key in error locations."""


def _model_key(question: object) -> str:
    given = question.get("type") if isinstance(question, dict) else None
    return given if isinstance(given, str) and given in QUESTION_MODELS else UNTYPED


_AnyQuestion = Annotated[
    Union[tuple(Annotated[model, Tag(key)] for key, model in QUESTION_MODELS.items())],  # noqa: UP007
    Discriminator(_model_key),
]
"""A discriminated union on the question's type."""


class SurveyFile(_Model):
    id: _SurveyId
    version: Annotated[StrictInt, Field(ge=1)]
    title: _Title
    introduction: _Introduction
    minutes: Annotated[StrictInt, Field(ge=1, le=60)] | None = None
    """How long taking part takes at a human pace (the consent screen says so)."""
    questions: Annotated[list[_AnyQuestion], Field(min_length=1)]
    languages: Annotated[list[Literal[LANGUAGES]], Field(min_length=1)] = list(LANGUAGES)  # type: ignore[valid-type]
    """The languages respondents may choose; with one, nobody is asked."""

    @model_validator(mode="after")
    def _distinct_languages(self) -> Self:
        problems = _Problems()
        if len(set(self.languages)) < len(self.languages):
            problems.add(Message("a language is listed twice"), "languages")
        if all(q.type in (QuestionType.NOTE, QuestionType.CALCULATE) for q in self.questions):
            problems.add(Message("at least one question must be answered"), "questions")
        problems.raise_any()
        return self

    def to_survey(self) -> Survey:
        questions = tuple(question.to_question() for question in self.questions)
        return Survey(
            self.id,
            self.version,
            _text(self.title),
            _text(self.introduction),
            questions,
            self.minutes,
            tuple(self.languages),
        )


KNOWN_KEYS: Final = sorted(
    {key for model in (SurveyFile, _Option, _Condition, _Untyped) for key in model.model_fields}
    | set(LANGUAGES)
)
"""Every key a survey file may use somewhere, for "did you mean" hints."""


# --- Rules across questions ------------------------------------------------------------------


def _or_none(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError:
        return None  # SurveyFile reports it


_Lenient = Annotated[_T | None, WrapValidator(_or_none)]
"""A value as the outline needs it, or None when it is flawed."""


class _OptionOutline(BaseModel):  # like the other outlines, ignores keys it does not name
    id: _Lenient[StrictStr] = None


class _QuestionOutline(BaseModel):
    id: _Lenient[_QuestionId] = None
    type: _Lenient[_Lax[QuestionType]] = None
    report: _Lenient[_Lax[ReportRole]] = None
    options: _Lenient[list[_Lenient[_OptionOutline]]] = None
    show_if: _Lenient[_Condition] = None
    relevant: _Lenient[_Expression] = None
    constraint: _Lenient[_Expression] = None
    calculation: _Lenient[_Expression] = None
    choice_filter: _Lenient[_Expression] = None

    def expression_problems(
        self, number: int, first: dict[str, tuple[int, Self]]
    ) -> list[tuple[str, Message]]:
        """(key, problem) for each expression naming a question it cannot read: an unknown
        one, a later one, or itself (only a constraint may, for the value being checked)."""
        problems = []
        for key in ("relevant", "constraint", "calculation", "choice_filter"):
            source = getattr(self, key)
            if source is None:
                continue
            for name in sorted(expressions.parse(source).references):
                target = first.get(name)
                if target is None:
                    problems.append((key, _unknown_question(name)))
                elif target[0] == number and key != "constraint":
                    problems.append((key, _ITSELF))
                elif target[0] > number:
                    problems.append((key, _later_question(name)))
        return problems

    def condition_problem(self, number: int, first: dict[str, tuple[int, Self]]) -> Message | None:
        """What is wrong with this question's `show_if`, given the first question of each id."""
        assert self.show_if is not None
        target_id, values = self.show_if.question, self.show_if.any_of
        if target_id not in first:
            return _unknown_question(target_id)
        target_number, target = first[target_id]
        if target_number == number:
            return _ITSELF
        if target_number > number:
            return _later_question(target_id)
        if target.type in (QuestionType.FREE_TEXT, QuestionType.NUMBER):
            return Message(
                "cannot depend on question '{question}', of type {type} "
                "(only on choice and agreement_scale questions)",
                question=target_id,
                type=target.type,
            )
        if target.type is QuestionType.AGREEMENT_SCALE:
            if wrong := [value for value in values if value not in _SCALE_ANSWERS]:
                return Message(
                    "on scale question '{question}' the values must be {low} to {high}, "
                    "not {wrong}",
                    question=target_id,
                    low=_SCALE_ANSWERS[0],
                    high=_SCALE_ANSWERS[-1],
                    wrong=", ".join(wrong),
                )
        elif target.type in _CHOICE_TYPES and target.options:
            known = [option.id for option in target.options if option and option.id]
            if unknown := [value for value in values if value not in known]:
                return Message(
                    "question '{question}' has no option {options}",
                    question=target_id,
                    options=", ".join(unknown),
                )
        return None


_ITSELF: Final = Message("refers to the question itself")


def _unknown_question(name: str) -> Message:
    return Message("refers to an unknown question, '{name}'", name=name)


def _later_question(name: str) -> Message:
    return Message("refers to a later question, '{name}'; only earlier ones can be read", name=name)


class _Outline(BaseModel):
    questions: _Lenient[list[_Lenient[_QuestionOutline]]] = None

    @model_validator(mode="after")
    def _check_across_questions(self) -> Self:
        problems = _Problems()
        numbered = [(n, q) for n, q in enumerate(self.questions or ()) if q is not None]
        first: dict[str, tuple[int, _QuestionOutline]] = {}
        for number, question in numbered:
            if question.id in first:
                message = Message(
                    "is also the id of question {number}", number=first[question.id][0] + 1
                )
                problems.add(message, "questions", number, "id")
            elif question.id is not None:
                first[question.id] = number, question
        for role in _SINGLE_QUESTION_ROLES:
            holders = [(n, q.id or str(n + 1)) for n, q in numbered if q.report is role]
            for number, _ in holders[1:]:
                message = Message(
                    "only one question may have report: {role} (already on {holder})",
                    role=role,
                    holder=holders[0][1],
                )
                problems.add(message, "questions", number, "report")
        for number, question in numbered:
            if question.show_if and (problem := question.condition_problem(number, first)):
                problems.add(problem, "questions", number, "show_if")
            for key, problem in question.expression_problems(number, first):
                problems.add(problem, "questions", number, key)
        problems.raise_any()
        return self


def validate(document: object) -> tuple[Survey | None, list[ErrorDetails]]:
    """The survey a parsed file describes, or None and every error pydantic found in it."""
    errors: list[ErrorDetails] = []
    survey = None
    try:
        survey = SurveyFile.model_validate(document).to_survey()
    except ValidationError as error:
        errors += error.errors()
    try:
        _Outline.model_validate(document if isinstance(document, dict) else {})
    except ValidationError as error:
        errors += error.errors()
    return (None if errors else survey), errors
