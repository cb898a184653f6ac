"""Pure rendering of domain screens into Telegram text (HTML) and inline keyboards.

Callback data is short and self-describing (`A:<question>:<value>`), so every button can be
checked against the current state when tapped: any button may be stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape, unescape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import LANGUAGES, N_, _, _n, current_language, is_rtl, number, use_language
from bot.survey.engine import SCALE_VALUES
from bot.survey.model import Question, QuestionType
from bot.survey.service import AskQuestion, Completed, MyData
from bot.survey.state import AnswerValue, Status

MESSAGE_LIMIT = 4096
SHORT_LABEL = 18
"""Options whose labels are all this short are laid out two to a row."""

SCALE_LABELS: dict[int, str] = {
    1: N_("Strongly disagree"),
    2: N_("Disagree"),
    3: N_("Neither agree nor disagree"),
    4: N_("Agree"),
    5: N_("Strongly agree"),
}
LANGUAGE_NAMES = {"ar": "العربية", "en": "English"}
CHOSEN = "✅ "


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    keyboard: InlineKeyboardMarkup | None = None


Button = tuple[str, str]


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """Build a keyboard, mirroring each row for right-to-left readers.

    Telegram does not mirror inline keyboard rows itself, so an Arabic reader would otherwise
    read a row such as "Back | Skip" from the wrong end.
    """
    rows = [list(reversed(row)) if is_rtl() else list(row) for row in rows if row]
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def pair_up(buttons: list[Button]) -> list[list[Button]]:
    if all(len(label) <= SHORT_LABEL for label, _data in buttons):
        return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return [[b] for b in buttons]


# -- language and consent -----------------------------------------------------------------


def language_choice(suggested: str) -> Rendered:
    """Shown before a language is known: the prompt in both languages, suggested one first."""
    order = [suggested, *(lang for lang in LANGUAGES if lang != suggested)]
    lines = []
    for lang in order:
        with use_language(lang):
            lines.append(_("Please choose your language."))
    buttons = [(LANGUAGE_NAMES[lang], f"L:{lang}") for lang in order]
    return Rendered("\n".join(lines), keyboard([[b] for b in buttons]))


def consent(title: str) -> Rendered:
    text = "\n\n".join(
        [
            f"<b>{escape(title)}</b>",
            _("Before we begin, here is what taking part means:"),
            _(
                "• We ask about your work and your views on cooperation between national and "
                "local actors in preventing violent extremism. It takes a few minutes."
            ),
            _(
                "• We store your answers, your language and the time you answered. We do not store "
                "your name or username with your answers."
            ),
            _(
                "• Coordinators only ever see totals and percentages, and groups too small to hide "
                "anyone are not shown. Nobody else sees who said what."
            ),
            _(
                "• You can see what we store with /mydata and erase all of it at any time with "
                "/delete."
            ),
            _("Do you agree to take part?"),
        ]
    )
    return Rendered(text, keyboard([[(_("I agree"), "C:y"), (_("No, thank you"), "C:n")]]))


# -- questions ----------------------------------------------------------------------------


def scale_label(value: int) -> str:
    return _(SCALE_LABELS[value])


def answer_text(question: Question, value: AnswerValue) -> str:
    """An answer as the respondent would recognise it, HTML-escaped."""
    if value is None:
        return _("(skipped)")
    if question.type == QuestionType.AGREEMENT_SCALE and isinstance(value, int):
        return escape(scale_label(value))
    if question.type == QuestionType.NUMBER and isinstance(value, int | float):
        return number(value)
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
        return _("How far do you agree?")
    if question.type == QuestionType.MULTIPLE_CHOICE:
        limit = question.max_choices or len(question.options)
        return (
            _n(
                "Choose up to {count} answer, then press “Done”.",
                "Choose up to {count} answers, then press “Done”.",
                limit,
            )
            + " "
            + _n("{count} chosen so far.", "{count} chosen so far.", draft_size)
        )
    if question.type == QuestionType.FREE_TEXT:
        return _n(
            "Type your answer in one message (up to {count} character).",
            "Type your answer in one message (up to {count} characters).",
            question.max_length or 4000,
        )
    if question.min_value is not None and question.max_value is not None:
        return _(
            "Type a number from {minimum} to {maximum}.",
            minimum=question.min_value,
            maximum=question.max_value,
        )
    return _("Type a number.")


def ask(screen: AskQuestion) -> Rendered:
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
    hint = question_hint(q, len(screen.draft))
    if q.optional:
        hint += " " + _("This question is optional: press “Skip” or send /skip.")
    parts.append(f"<i>{hint}</i>")
    if screen.answered_before:
        parts.append(_("Your earlier answer: {answer}", answer=answer_text(q, screen.previous)))
    return Rendered("\n\n".join(parts), keyboard(_question_buttons(screen)))


def _question_buttons(screen: AskQuestion) -> list[list[Button]]:
    q, language = screen.question, current_language()
    if q.type == QuestionType.SINGLE_CHOICE:
        rows = pair_up([(o.label.get(language), f"A:{q.id}:{o.id}") for o in q.options])
    elif q.type == QuestionType.AGREEMENT_SCALE:
        rows = [[(scale_label(v), f"A:{q.id}:{v}")] for v in SCALE_VALUES]
    elif q.type == QuestionType.MULTIPLE_CHOICE:
        rows = pair_up(
            [
                (
                    (CHOSEN if o.id in screen.draft else "") + o.label.get(language),
                    f"T:{q.id}:{o.id}",
                )
                for o in q.options
            ]
        )
        rows.append([(_("Done"), f"D:{q.id}")])
    else:
        rows = []
    navigation = []
    if screen.can_go_back:
        navigation.append((_("Back"), f"B:{q.id}"))
    if q.optional:
        navigation.append((_("Skip"), f"S:{q.id}"))
    return [*rows, navigation]


def saved_toast(question: Question, value: AnswerValue) -> str:
    """The short confirmation shown over the chat when a tap was saved (plain text)."""
    return _("Saved: {answer}", answer=unescape(answer_text(question, value)))


def recorded(question: Question, value: AnswerValue) -> str:
    """What a question's message turns into once answered (its keyboard is removed)."""
    return f"{escape(question.text.get(current_language()))}\n\n✔️ <b>{answer_text(question, value)}</b>"


def _answer_lines(answers: Sequence[tuple[Question, AnswerValue]]) -> list[str]:
    language = current_language()
    lines = []
    for question, value in answers:
        label = (question.short_label or question.text).get(language)
        lines.append(f"• {escape(label)}: {answer_text(question, value)}")
    return lines


def completed(screen: Completed) -> list[str]:
    lines = [
        "<b>" + _("Thank you! Your answers are saved.") + "</b>",
        _("Here is a summary of what you told us:"),
        "",
        *_answer_lines(screen.answers),
        "",
        _("You can see your data at any time with /mydata, or erase it with /delete."),
    ]
    return split_message(lines)


def my_data(data: MyData) -> list[str]:
    if data.respondent is None:
        return [_("We store nothing about you.")]
    lines = [
        "<b>" + _("What we store about you") + "</b>",
        _("Language: {language}", language=LANGUAGE_NAMES[current_language()]),
    ]
    if data.respondent.consented_at is not None:
        lines.append(
            _("Consent given: {date}", date=data.respondent.consented_at.date().isoformat())
        )
    if data.progress is None:
        lines.append(_("No answers are stored."))
    else:
        status = {
            Status.IN_PROGRESS: _("in progress"),
            Status.PAUSED: _("paused"),
            Status.COMPLETED: _("completed"),
        }[data.progress.status]
        lines.append(_("Survey: {status}", status=status))
        lines.append(_n("{count} answer stored:", "{count} answers stored:", len(data.answers)))
        lines.extend(_answer_lines(data.answers))
    lines += ["", _("To erase all of it, send /delete.")]
    return split_message(lines)


def split_message(lines: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join lines into as few messages as fit under Telegram's limit, splitting between lines.

    Only a single line longer than the limit is cut inside (free text is capped by the survey
    well below the limit, so this is a last resort).
    """
    messages: list[str] = []
    current = ""
    for line in lines:
        for start in range(0, max(len(line), 1), limit):
            piece = line[start : start + limit]
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) > limit:
                messages.append(current)
                current = piece
            else:
                current = candidate
    if current.strip():
        messages.append(current)
    return messages
