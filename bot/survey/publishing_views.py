"""What an admin sees when publishing a survey from the chat (bot/survey/publishing.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from bot.core.callbacks import CallbackData
from bot.core.i18n import RLM, Message, _, _n, current_language, is_rtl, use_language
from bot.core.views import Button, View
from bot.survey import engine, views
from bot.survey.model import QuestionType, Survey
from bot.survey.publishing import Preview, Published, Refused, Versions
from bot.survey.service import AskQuestion

FLOW = "publishing"
SHOWN_PROBLEMS = 20
"""Problems listed in one reply; the rest are counted."""


@dataclass(frozen=True)
class PublishUpload(CallbackData):
    """Publish (or cancel) a survey file that was sent and checked."""

    prefix = "PU"
    upload: int
    confirmed: bool


def _lines(problems: Sequence[Message]) -> list[str]:
    """Each problem in the reader's language (pyxform's and PyYAML's own words stay English),
    right to left in Arabic even when it starts with a name from the file."""
    mark = RLM if is_rtl() else ""
    shown = [f"{mark}• {escape(problem.translated())}" for problem in problems[:SHOWN_PROBLEMS]]
    if (more := len(problems) - SHOWN_PROBLEMS) > 0:
        shown.append(_n("… and {count} more.", "… and {count} more.", more))
    return shown


def refused(result: Refused) -> View:
    heading = _n(
        "“{file}” cannot be published. Nothing was changed. The problem:",
        "“{file}” cannot be published. Nothing was changed. The {count} problems:",
        len(result.problems),
        file=escape(result.file_name),
    )
    return View("\n".join([f"<b>{heading}</b>", *_lines(result.problems)]))


def preview(result: Preview) -> View:
    survey = result.survey
    language = current_language() if current_language() in survey.languages else None
    shown = [q for q in survey.questions if q.type != QuestionType.CALCULATE]
    lines = [
        "<b>"
        + _(
            "Preview of “{title}”, version {version}",
            title=escape(survey.title.get(language or survey.languages[0])),
            version=survey.version,
        )
        + "</b>",
        _("Survey id: {id}. File: {file}.", id=survey.id, file=escape(result.file_name)),
    ]
    for code in survey.languages:
        lines.append(
            _n(
                "{language}: {count} question",
                "{language}: {count} questions",
                len(shown),
                language=views.LANGUAGE_NAMES[code],
            )
        )
    lines += ["", "<b>" + _("The first question, as respondents will see it:") + "</b>"]
    lines.append(_first_question(survey, language or survey.languages[0]))
    if result.left_out:
        lines += ["", "<b>" + _("Left out (Hiwar cannot run these):") + "</b>"]
        lines += _lines(result.left_out)
    lines += ["", _("Publish it? People who start from then on get this version.")]
    buttons = [
        Button(_("Publish"), PublishUpload(result.upload_id, True)),
        Button(_("Cancel"), PublishUpload(result.upload_id, False)),
    ]
    return View.of("\n".join(lines), [buttons])


def _first_question(survey: Survey, language: str) -> str:
    """The first card as a respondent gets it: its text, then its buttons in brackets."""
    first = engine.first_question(survey)
    screen = AskQuestion(
        first,
        engine.Position(1, len(engine.path(survey, {}))),
        options=engine.options_shown(survey, {}, first),
        introduction=survey,
    )
    with use_language(language):
        card = views.ask(screen)
    buttons = " ".join(f"[{escape(button.label)}]" for row in card.rows for button in row)
    return "\n".join(part for part in ("――――", card.text, buttons, "――――") if part)


def published(result: Published) -> View:
    survey = result.survey
    return View(
        _(
            "Published: “{title}”, version {version}. People who start from now on get it; "
            "those answering now finish the version they began.",
            title=survey.title.get(
                current_language()
                if current_language() in survey.languages
                else survey.languages[0]
            ),
            version=survey.version,
        ),
        html=False,
    )


def cancelled() -> View:
    return View(_("Cancelled: nothing was published."), html=False)


def versions(result: Versions) -> View:
    if not result.versions:
        return View(_("No survey has been published yet."), html=False)
    lines = ["<b>" + _("Survey versions, the latest first") + "</b>"]
    for version in result.versions:
        line = _(
            "{id} version {version} ({file}), published {date}: {started} started, "
            "{completed} completed",
            id=version.survey_id,
            version=version.version,
            file=version.file_name,
            date=version.published_at.date().isoformat(),
            started=version.started,
            completed=version.completed,
        )
        if (version.survey_id, version.version) == result.active:
            line += " " + _("(new respondents get this one)")
        lines.append(f"• {escape(line)}")
    return View("\n".join(lines))
