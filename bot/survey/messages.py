"""The survey's errors, each explained in the current language (one table, see
handlers/base/errors.py), with whether the screen is brought up to date afterwards."""

from __future__ import annotations

from bot.core.errors import ErrorTable, Explanation
from bot.core.i18n import _, _n, current_language
from bot.survey.errors import (
    AlreadyAnswered,
    AnswerOutOfRange,
    ButtonExpected,
    ConstraintViolated,
    EditAfterCompletion,
    EditNotAnAnswer,
    EmptyAnswer,
    NoActiveSurvey,
    NoOpenRound,
    NotADate,
    NotANumber,
    NothingChosen,
    NothingToGoBackTo,
    NotOptional,
    PasteContinued,
    PasteTooLong,
    RoundClosed,
    RoundTitleMissing,
    RoundTitleTooLong,
    StaleQuestion,
    SurveyAlreadyCompleted,
    TextTooLong,
    TooManyChoices,
    UploadGone,
    VersionTaken,
)


def already_completed() -> str:
    return _("You have already completed the survey. Thank you! See your answers with /mydata.")


def _too_long(error: TextTooLong) -> str:
    return _n(
        "Your answer is {length} characters long; the limit is {count} character. "
        "Please shorten it and send it again.",
        "Your answer is {length} characters long; the limit is {count} characters. "
        "Please shorten it and send it again.",
        error.limit,
        # Without a thousands comma: beside the Arabic comma that follows it, a Latin one
        # read as a list («4,319،»).
        length=str(error.length),
    )


def _not_a_number(error: NotANumber) -> str:
    if error.integer:
        return _("Please type a whole number, for example 7.")
    return _("Please type a number, for example 7.")


def _out_of_range(error: AnswerOutOfRange) -> str:
    if error.minimum is not None and error.maximum is not None:
        return _(
            "Please type a number from {minimum} to {maximum}.",
            minimum=error.minimum,
            maximum=error.maximum,
        )
    return _("That number is out of range for this question.")


def _too_many(error: TooManyChoices) -> str:
    return _n(
        "You can choose at most {count} answer. Untick one first.",
        "You can choose at most {count} answers. Untick one first.",
        error.limit,
    )


def _paste_too_long(error: PasteTooLong) -> str:
    return _n(
        "Your message was so long that Telegram split it into several parts, so none of it "
        "was saved. Please send a shorter answer, at most {count} character.",
        "Your message was so long that Telegram split it into several parts, so none of it "
        "was saved. Please send a shorter answer, at most {count} characters.",
        error.limit,
    )


def _not_optional(error: NotOptional) -> str:
    if error.message is not None:
        return error.message.get(current_language())
    return _("This question cannot be skipped, but you can change your answer later with /back.")


def _constraint(error: ConstraintViolated) -> str:
    if error.message is not None:
        return error.message.get(current_language())
    return _("This answer is not accepted here. Please check it and send it again.")


ERRORS: ErrorTable = {
    PasteTooLong: Explanation(_paste_too_long),
    PasteContinued: Explanation(lambda _e: None),
    EditNotAnAnswer: Explanation(
        lambda _e: _(
            "Editing a message does not change your answers. To change an answer, send /back "
            "until you reach its question."
        )
    ),
    EditAfterCompletion: Explanation(
        lambda _e: _(
            "You have completed the survey, so editing a message no longer changes your "
            "answers. See them with /mydata."
        )
    ),
    StaleQuestion: Explanation(
        lambda _e: _(
            "That button belongs to an earlier question, so nothing was changed. "
            "Please answer the current question."
        ),
        refresh=True,
    ),
    AlreadyAnswered: Explanation(
        lambda _e: _("Your answer to that question is already saved."), refresh=True, alert=False
    ),
    ButtonExpected: Explanation(
        lambda _e: _("Please answer this question with the buttons under it."), refresh=True
    ),
    EmptyAnswer: Explanation(lambda _e: _("That message is empty. Please type your answer.")),
    TextTooLong: Explanation(_too_long),
    NotANumber: Explanation(_not_a_number),
    AnswerOutOfRange: Explanation(_out_of_range),
    TooManyChoices: Explanation(_too_many),
    NothingChosen: Explanation(
        lambda _e: _("Please choose at least one answer before pressing “Done”.")
    ),
    NotOptional: Explanation(_not_optional),
    ConstraintViolated: Explanation(_constraint),
    NotADate: Explanation(
        lambda _e: _("Please type a date, for example 2025-03-31 or 31/03/2025.")
    ),
    NothingToGoBackTo: Explanation(
        lambda _e: _("This is the first question; there is nothing before it.")
    ),
    SurveyAlreadyCompleted: Explanation(lambda _e: already_completed()),
    NoActiveSurvey: Explanation(
        lambda _e: _("You are not answering the survey right now. Send /start to begin.")
    ),
    RoundClosed: Explanation(
        lambda _e: _("That round of the survey has closed. Send /start to see what is open.")
    ),
}

PUBLISHING_ERRORS: ErrorTable = {
    UploadGone: Explanation(
        lambda _e: _("That file was already published or cancelled, so nothing was changed.")
    ),
    VersionTaken: Explanation(
        lambda e: _(
            "Version {version} of survey {id} is already published, so nothing was changed. "
            "Give the file a higher version and send it again.",
            version=e.version,
            id=e.survey_id,
        )
    ),
}

ROUNDS_ERRORS: ErrorTable = {
    NoOpenRound: Explanation(lambda _e: _("No round is open, so nothing was closed.")),
    RoundTitleMissing: Explanation(
        lambda _e: _(
            "Please give the round a title, for example: /rounds open Before the workshop"
        )
    ),
    RoundTitleTooLong: Explanation(
        lambda e: _n(
            "A round’s title can be at most {count} character long.",
            "A round’s title can be at most {count} characters long.",
            e.limit,
        )
    ),
}
