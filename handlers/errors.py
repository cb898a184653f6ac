"""Every domain error mapped, in one place, to a translated message; plus the error handler."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.i18n import _, _n
from bot.survey.errors import (
    AlreadyAnswered,
    AnswerOutOfRange,
    ButtonExpected,
    DuplicateUpdate,
    EmptyAnswer,
    HiwarError,
    NoActiveSurvey,
    NotANumber,
    NothingChosen,
    NothingToGoBackTo,
    NotOptional,
    StaleButton,
    SurveyAlreadyCompleted,
    TextTooLong,
    TooManyChoices,
)

log = logging.getLogger(__name__)


def message_for(error: HiwarError) -> str:
    """The user-facing explanation of a domain error, in the current language."""
    match error:
        case StaleButton():
            return _(
                "That button belongs to an earlier question, so nothing was changed. "
                "Please answer the current question."
            )
        case AlreadyAnswered():
            return _("Your answer to that question is already saved.")
        case ButtonExpected():
            return _("Please answer this question with the buttons under it.")
        case EmptyAnswer():
            return _("That message is empty. Please type your answer.")
        case TextTooLong(limit=limit, length=length):
            return _n(
                "Your answer is {length} characters long; the limit is {count} character. "
                "Please shorten it and send it again.",
                "Your answer is {length} characters long; the limit is {count} characters. "
                "Please shorten it and send it again.",
                limit,
                length=length,
            )
        case NotANumber(integer=True):
            return _("Please type a whole number, for example 7.")
        case NotANumber():
            return _("Please type a number, for example 7.")
        case AnswerOutOfRange(minimum=low, maximum=high) if low is not None and high is not None:
            return _("Please type a number from {minimum} to {maximum}.", minimum=low, maximum=high)
        case AnswerOutOfRange():
            return _("That number is out of range for this question.")
        case TooManyChoices(limit=limit):
            return _n(
                "You can choose at most {count} answer. Untick one first.",
                "You can choose at most {count} answers. Untick one first.",
                limit,
            )
        case NothingChosen():
            return _("Please choose at least one answer before pressing “Done”.")
        case NotOptional():
            return _(
                "This question cannot be skipped, but you can change your answer later with /back."
            )
        case NothingToGoBackTo():
            return _("This is the first question; there is nothing before it.")
        case SurveyAlreadyCompleted():
            return _(
                "You have already completed the survey. Thank you! See your answers with /mydata."
            )
        case NoActiveSurvey():
            return _("You are not answering the survey right now. Send /start to begin.")
        case DuplicateUpdate():
            return _("This was already received.")
    return _("Sorry, something went wrong.")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log first (without message contents), then apologise to the user in their language."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update_failed update_id=%s", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        await context.bot.send_message(
            update.effective_chat.id,
            _(
                "Sorry, something went wrong on our side. Your earlier answers are safe; "
                "please try again in a moment."
            ),
        )
