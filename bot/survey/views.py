"""The survey's screens as plain views (HTML text and rows of buttons), and its buttons.

Every button carries typed data (`A:<question>:<value>` and so on) that names the question
it belongs to, so a tap can be checked against the current state: any button may be stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape, unescape

from bot.core.callbacks import CallbackData
from bot.core.i18n import LANGUAGES, N_, _, _n, current_language, is_rtl, number, use_language
from bot.core.views import CHOSEN, Button, View, pair_up
from bot.survey import engine
from bot.survey.engine import DONT_KNOW, SCALE_VALUES
from bot.survey.messages import already_completed
from bot.survey.model import Question, QuestionType, ScaleLabels
from bot.survey.service import (
    AlreadyCompleted,
    AnswerUpdated,
    AskConsent,
    AskQuestion,
    ByInvitationOnly,
    ChooseLanguage,
    Completed,
    Declined,
    MyData,
    OfferResume,
    OfferRound,
    Paused,
    StillTakingPart,
)
from bot.survey.state import AnswerValue, Status

FLOW = "survey"
"""The survey's cards share one live keyboard per person (handlers/base/present.py)."""


@dataclass(frozen=True)
class PickLanguage(CallbackData):
    prefix = "L"
    language: str


@dataclass(frozen=True)
class Consent(CallbackData):
    prefix = "C"
    agreed: bool


@dataclass(frozen=True)
class Answer(CallbackData):
    """A single-choice option or an agreement-scale value."""

    prefix = "A"
    question: str
    value: str


@dataclass(frozen=True)
class Toggle(CallbackData):
    prefix = "T"
    question: str
    option: str


@dataclass(frozen=True)
class DoneChoosing(CallbackData):
    prefix = "D"
    question: str


@dataclass(frozen=True)
class Skip(CallbackData):
    prefix = "S"
    question: str


@dataclass(frozen=True)
class Back(CallbackData):
    prefix = "B"
    question: str


@dataclass(frozen=True)
class Page(CallbackData):
    """Another page of a question's options."""

    prefix = "P"
    question: str
    page: int


@dataclass(frozen=True)
class UseDefault(CallbackData):
    """The suggested answer of a typed question."""

    prefix = "U"
    question: str


@dataclass(frozen=True)
class Keep(CallbackData):
    """The earlier answer to a question, given again (a new round, or after /back)."""

    prefix = "K"
    question: str


@dataclass(frozen=True)
class JoinRound(CallbackData):
    """Into a new round: with the previous answers as the starting point, or fresh."""

    prefix = "J"
    round: int
    reuse: bool


@dataclass(frozen=True)
class Resume(CallbackData):
    prefix = "R"
    start_over: bool


@dataclass(frozen=True)
class ConfirmStartOver(CallbackData):
    prefix = "O"
    confirmed: bool


@dataclass(frozen=True)
class Erase(CallbackData):
    prefix = "X"
    confirmed: bool


SCALE_LABELS: dict[ScaleLabels, dict[int, str]] = {
    ScaleLabels.AGREEMENT: {
        1: N_("Strongly disagree"),
        2: N_("Disagree"),
        3: N_("Neither agree nor disagree"),
        4: N_("Agree"),
        5: N_("Strongly agree"),
        DONT_KNOW: N_("Don’t know / not applicable"),
    },
    ScaleLabels.QUALITY: {
        1: N_("Very poorly"),
        2: N_("Poorly"),
        3: N_("Neither well nor poorly"),
        4: N_("Well"),
        5: N_("Very well"),
        DONT_KNOW: N_("Don’t know / not applicable"),
    },
}
LANGUAGE_NAMES = {"ar": "العربية", "en": "English"}


# -- language and consent -----------------------------------------------------------------


def language_choice(suggested: str, languages: Sequence[str] = LANGUAGES) -> View:
    """Shown before a language is known: the prompt in the survey's languages, the suggested
    one first."""
    order = [lang for lang in (suggested, *LANGUAGES) if lang in languages]
    order = list(dict.fromkeys(order))
    lines = []
    for lang in order:
        with use_language(lang):
            lines.append(_("Please choose your language."))
    buttons = [Button(LANGUAGE_NAMES[lang], PickLanguage(lang)) for lang in order]
    return View.of("\n".join(lines), [[b] for b in buttons])


CONSENT_PROMISES = (
    N_(
        "• We ask about your work and your views on cooperation between national and local "
        "actors in preventing violent extremism."
    ),
    N_(
        "• We store your answers, your language, when you answered and, if you came through "
        "an invitation link, which one and the name of its campaign (a workshop or a "
        "newsletter, say). We never store your name or username."
    ),
    N_(
        "• Coordinators see only totals and percentages, and groups too small to hide anyone "
        "are not shown. Your written comments may be shown to them word for word, with nothing "
        "about who wrote them."
    ),
    N_(
        "• Only an administrator can download the answers one by one, each under a random "
        "code, never with your name or Telegram account."
    ),
    N_("• You can see what we store with /mydata and erase all of it at any time with /delete."),
)
"""The consent screen's promises; each is backed by a test (tests/test_privacy_e2e.py)."""


def consent(title: str, minutes: int | None = None) -> View:
    promises = [_(promise) for promise in CONSENT_PROMISES]
    promises[0] += " " + (
        _n("It takes about {count} minute.", "It takes about {count} minutes.", minutes)
        if minutes
        else _("It takes a few minutes.")
    )
    text = "\n\n".join(
        [
            f"<b>{escape(title)}</b>",
            _("Before we begin, here is what taking part means:"),
            *promises,
            _("Do you agree to take part?"),
        ]
    )
    return View.of(
        text, [[Button(_("I agree"), Consent(True)), Button(_("No, thank you"), Consent(False))]]
    )


# -- questions ----------------------------------------------------------------------------


def scale_label(value: int, labels: ScaleLabels = ScaleLabels.AGREEMENT) -> str:
    return _(SCALE_LABELS[labels][value])


def answer_text(question: Question, value: AnswerValue) -> str:
    """An answer as the respondent would recognise it, HTML-escaped."""
    if value is None:
        return _("(skipped)")
    if question.type == QuestionType.AGREEMENT_SCALE and isinstance(value, int):
        return escape(scale_label(value, question.scale))
    if question.type == QuestionType.NUMBER and isinstance(value, int | float):
        return number(value)
    if question.type == QuestionType.ACKNOWLEDGE:
        return _("OK")
    labels = value if isinstance(value, list) else [value]
    if question.options:
        separator = "، " if is_rtl() else ", "
        return separator.join(escape(_option_label(question, str(v))) for v in labels)
    return escape(str(value))


def _option_label(question: Question, option_id: str) -> str:
    option = question.option(option_id)
    return option.label.get(current_language()) if option else option_id


def question_hint(question: Question, draft_size: int) -> str:
    if question.type == QuestionType.SINGLE_CHOICE:
        return _("Choose one answer.")
    if question.type == QuestionType.AGREEMENT_SCALE:
        if question.scale == ScaleLabels.QUALITY:
            return _("How well is it done today?")
        return _("How far do you agree?")
    if question.type == QuestionType.MULTIPLE_CHOICE:
        limit = question.max_choices or len(question.options)
        choose = (
            _n(
                "Choose up to {count} answer, then press “Done”.",
                "Choose up to {count} answers, then press “Done”.",
                limit,
            )
            if limit < len(question.options)
            else _("Choose all that apply, then press “Done”.")
        )
        return choose + " " + _n("{count} chosen so far.", "{count} chosen so far.", draft_size)
    if question.type == QuestionType.FREE_TEXT:
        return _n(
            "Type your answer in one message (up to {count} character).",
            "Type your answer in one message (up to {count} characters).",
            question.max_length or 4000,
        )
    if question.type == QuestionType.DATE:
        return _("Type a date, for example 2025-03-31 or 31/03/2025.")
    if question.type == QuestionType.NOTE:
        return _("Press “Continue” when you have read this.")
    if question.type == QuestionType.ACKNOWLEDGE:
        return _("Press “OK” to continue.")
    if question.min_value is not None and question.max_value is not None:
        return _(
            "Type a number from {minimum} to {maximum}.",
            minimum=question.min_value,
            maximum=question.max_value,
        )
    return _("Type a number.")


def ask(screen: AskQuestion) -> View:
    language = current_language()
    q = screen.question
    parts = []
    if screen.introduction is not None:
        parts.append(
            f"<b>{escape(screen.introduction.title.get(language))}</b>\n"
            f"{escape(screen.introduction.introduction.get(language))}"
        )
    parts.append(
        "<b>"
        + _(
            "Question {number} of {total}",
            number=screen.position.number,
            total=screen.position.total,
        )
        + "</b>\n"
        + escape(q.text.get(language))
    )
    if q.hint is not None:
        parts.append(escape(q.hint.get(language)))
    hint = question_hint(q, len(screen.draft))
    pages = engine.page_count(len(screen.options))
    if pages > 1:
        hint += " " + _("Page {page} of {pages}.", page=screen.page + 1, pages=pages)
    if q.optional:
        hint += " " + _("This question is optional: press “Skip” or send /skip.")
    parts.append(f"<i>{hint}</i>")
    if screen.answered_before:
        parts.append(_("Your earlier answer: {answer}", answer=answer_text(q, screen.previous)))
    return View.of("\n\n".join(parts), _question_buttons(screen))


def _question_buttons(screen: AskQuestion) -> list[list[Button]]:
    q, language = screen.question, current_language()
    options = engine.on_page(screen.options, screen.page)
    if q.type == QuestionType.SINGLE_CHOICE:
        suggested = "" if screen.answered_before else q.default
        rows = pair_up(
            [
                Button((CHOSEN if o.id == suggested else "") + o.label.get(language), Answer(q.id, o.id))
                for o in options
            ]
        )
    elif q.type == QuestionType.AGREEMENT_SCALE:
        values = (*SCALE_VALUES, DONT_KNOW) if q.dont_know else SCALE_VALUES
        rows = [[Button(scale_label(v, q.scale), Answer(q.id, str(v)))] for v in values]
    elif q.type == QuestionType.MULTIPLE_CHOICE:
        rows = pair_up(
            [
                Button(
                    (CHOSEN if o.id in screen.draft else "") + o.label.get(language),
                    Toggle(q.id, o.id),
                )
                for o in options
            ]
        )
    elif q.type == QuestionType.NOTE:
        rows = [[Button(_("Continue"), Answer(q.id, engine.ACKNOWLEDGED))]]
    elif q.type == QuestionType.ACKNOWLEDGE:
        rows = [[Button(_("OK"), Answer(q.id, engine.ACKNOWLEDGED))]]
    elif q.default is not None and not screen.answered_before:
        suggested = _("Use: {answer}", answer=unescape(answer_text(q, q.default)))
        rows = [[Button(suggested, UseDefault(q.id))]]
    else:
        rows = []
    if screen.can_keep:  # the earlier answer itself is in the text above
        rows.insert(0, [Button(_("Keep my earlier answer"), Keep(q.id))])
    rows += _page_buttons(screen)
    if q.type == QuestionType.MULTIPLE_CHOICE:
        rows.append([Button(_("Done"), DoneChoosing(q.id))])
    navigation = []
    if screen.can_go_back:
        navigation.append(Button(_("Back"), Back(q.id)))
    if q.optional:
        navigation.append(Button(_("Skip"), Skip(q.id)))
    return [*rows, navigation]


def _page_buttons(screen: AskQuestion) -> list[list[Button]]:
    """Previous and next pages of options, when they do not fit on one keyboard."""
    pages = engine.page_count(len(screen.options))
    if pages == 1:
        return []
    row = []
    if screen.page > 0:
        row.append(Button(_("Previous options"), Page(screen.question.id, screen.page - 1)))
    if screen.page < pages - 1:
        row.append(Button(_("More options"), Page(screen.question.id, screen.page + 1)))
    return [row]


def after_typed_answer(question: Question, value: AnswerValue, then: AskQuestion) -> View:
    """The next question, headed by what was understood of the typed answer (a misread
    number is seen at once, and can be changed with /back)."""
    card = ask(then)
    return View(f"✔️ {_saved(question, value)}\n\n{card.text}", card.rows)


def short_label(question: Question) -> str:
    """The question's short name in the current language (its text when it has none)."""
    return (question.short_label or question.text).get(current_language())


def answer_updated(updated: AnswerUpdated) -> View:
    label = short_label(updated.question)
    return View(
        _(
            "Your answer to “{question}” was updated: {answer}",
            question=escape(label),
            answer=answer_text(updated.question, updated.value),
        )
    )


def saved_toast(question: Question, value: AnswerValue) -> str:
    """The short confirmation shown over the chat when a tap was saved (plain text)."""
    return unescape(_saved(question, value))


def _saved(question: Question, value: AnswerValue) -> str:
    """What was saved, as a confirmation (HTML); a skip says so rather than "(skipped)"."""
    if value is None:
        return _("Skipped")
    return _("Saved: {answer}", answer=answer_text(question, value))


def recorded(question: Question, value: AnswerValue) -> str:
    """What a question's message turns into once answered (its keyboard is removed)."""
    return f"{escape(question.text.get(current_language()))}\n\n✔️ <b>{answer_text(question, value)}</b>"


def _answer_lines(answers: Sequence[tuple[Question, AnswerValue]]) -> list[str]:
    return [
        f"• {escape(short_label(question))}: {answer_text(question, value)}"
        for question, value in answers
    ]


def completed(screen: Completed) -> View:
    lines = [
        "<b>" + _("Thank you! Your answers are saved.") + "</b>",
        _("Here is a summary of what you told us:"),
        "",
        *_answer_lines(screen.answers),
        "",
        _("You can see your data at any time with /mydata, or erase it with /delete."),
    ]
    return View("\n".join(lines))


def my_data(data: MyData) -> View:
    if data.respondent is None:
        return View(_("We store nothing about you."), html=False)
    lines = [
        "<b>" + _("What we store about you") + "</b>",
        _("Language: {language}", language=LANGUAGE_NAMES[current_language()]),
    ]
    if data.respondent.consented_at is not None:
        lines.append(
            _("Consent given: {date}", date=data.respondent.consented_at.date().isoformat())
        )
    if not data.responses:
        lines.append(_("No answers are stored."))
    for stored in data.responses:
        status = {
            Status.IN_PROGRESS: _("in progress"),
            Status.PAUSED: _("paused"),
            Status.COMPLETED: _("completed"),
        }[stored.progress.status]
        if stored.round is not None:
            lines += ["", "<b>" + escape(stored.round.title) + "</b>"]
        lines.append(_("Survey: {status}", status=status))
        if stored.progress.source:
            lines.append(_("Came through the link of: {source}", source=stored.progress.source))
        lines.append(
            _n("{count} answer stored:", "{count} answers stored:", len(stored.answers))
        )
        lines.extend(_answer_lines(stored.answers))
    lines += ["", _("To erase all of it, send /delete.")]
    return View("\n".join(lines))


def resume_offer(screen: OfferResume) -> View:
    return View.of(
        _n(
            "Welcome back! You have answered {count} of {total} questions. "
            "Shall we continue where you stopped?",
            "Welcome back! You have answered {count} of {total} questions. "
            "Shall we continue where you stopped?",
            screen.answered,
            total=screen.total,
        ),
        [[Button(_("Continue"), Resume(False)), Button(_("Start over"), Resume(True))]],
    )


def by_invitation_only() -> View:
    return View(
        _(
            "Thank you for your interest. This survey is by invitation: please open the link "
            "you were sent. If you have none, or it no longer works, please ask whoever told "
            "you about the survey."
        ),
        html=False,
    )


def round_offer(screen: OfferRound) -> View:
    """The invitation into a new round, for someone who answered an earlier one."""
    round_id = screen.round.round_id
    return View.of(
        _(
            "A new round of the survey has begun: “{title}”. Your answers to the earlier "
            "round stay as they are. You can start from your previous answers: each "
            "question shows yours, and you keep it with one tap or change it. Or you can "
            "start afresh.",
            title=escape(screen.round.title),
        ),
        [
            [Button(_("Start from my previous answers"), JoinRound(round_id, True))],
            [Button(_("Start afresh"), JoinRound(round_id, False))],
        ],
    )


def declined() -> View:
    return View(
        _(
            "No problem: none of your answers have been stored. If you change your mind, "
            "send /start."
        ),
        html=False,
    )


def still_taking_part() -> View:
    return View(
        _(
            "You are already taking part, so nothing was changed: your answers are kept. "
            "To erase them, send /delete."
        ),
        html=False,
    )


def confirm_start_over() -> View:
    return View.of(
        _("Start over? The answers you have given so far will be erased."),
        [
            [
                Button(_("Yes, start over"), ConfirmStartOver(True)),
                Button(_("No, continue"), ConfirmStartOver(False)),
            ]
        ],
    )


def paused() -> View:
    return View(
        _(
            "Paused. Your answers are saved. Send /start or any message whenever you want "
            "to continue."
        ),
        html=False,
    )


def confirm_erase() -> View:
    return View.of(
        _(
            "This erases your answers and everything else we store about you. It cannot be "
            "undone. Erase everything?"
        ),
        [[Button(_("Yes, erase everything"), Erase(True)), Button(_("No, keep it"), Erase(False))]],
    )


def erased(confirmed: bool) -> View:
    if not confirmed:
        return View(_("Nothing was erased."), html=False)
    return View(
        _(
            "Done: everything we stored about you has been erased. Thank you for your "
            "time. Send /start if you ever want to take part again."
        ),
        html=False,
    )


def unsupported() -> View:
    return View(
        _("I can only read typed text and taps on the buttons. Nothing was changed."), html=False
    )


def screen(
    shown: ChooseLanguage
    | AskConsent
    | ByInvitationOnly
    | Declined
    | AskQuestion
    | OfferResume
    | OfferRound
    | Paused
    | AlreadyCompleted,
) -> View:
    """The view of any screen that is one message."""
    match shown:
        case ChooseLanguage(suggested=suggested):
            return language_choice(suggested)
        case AskConsent(survey=survey):
            return consent(survey.title.get(current_language()), survey.minutes)
        case ByInvitationOnly():
            return by_invitation_only()
        case Declined():
            return declined()
        case StillTakingPart():
            return still_taking_part()
        case AskQuestion():
            return ask(shown)
        case OfferResume():
            return resume_offer(shown)
        case OfferRound():
            return round_offer(shown)
        case Paused():
            return paused()
        case AlreadyCompleted():
            return View(already_completed(), html=False)
