"""Named errors of the survey; bot/survey/messages.py explains each in the current language."""

from __future__ import annotations

from bot.core.errors import HiwarError, StaleButton
from bot.survey.model import Text


class NoActiveSurvey(HiwarError):
    """The user has no response in progress (not started, declined, or already deleted)."""


class SurveyAlreadyCompleted(HiwarError):
    """The user tried to answer after finishing."""


class StaleQuestion(StaleButton):
    """A button of a question that is no longer being asked."""


class AlreadyAnswered(HiwarError):
    """The same answer button was tapped again after the answer was recorded."""

    def __init__(self, question_id: str) -> None:
        super().__init__(question_id)
        self.question_id = question_id


class ButtonExpected(HiwarError):
    """Text was sent where the question is answered with buttons."""


class EmptyAnswer(HiwarError):
    """Blank text for a free-text or number question."""


class TextTooLong(HiwarError):
    def __init__(self, limit: int, length: int) -> None:
        super().__init__(limit, length)
        self.limit = limit
        self.length = length


class NotANumber(HiwarError):
    def __init__(self, integer: bool) -> None:
        super().__init__(integer)
        self.integer = integer


class AnswerOutOfRange(HiwarError):
    def __init__(self, minimum: float | None, maximum: float | None) -> None:
        super().__init__(minimum, maximum)
        self.minimum = minimum
        self.maximum = maximum


class TooManyChoices(HiwarError):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class NothingChosen(HiwarError):
    """Done pressed on a multiple-choice question with nothing selected."""


class NotOptional(HiwarError):
    """/skip on a question that must be answered; `message`: the survey's own words, if any."""

    def __init__(self, message: Text | None = None) -> None:
        super().__init__(message)
        self.message = message


class ConstraintViolated(HiwarError):
    """An answer the question's constraint refuses; `message`: the survey's own words."""

    def __init__(self, message: Text | None) -> None:
        super().__init__(message)
        self.message = message


class NotADate(HiwarError):
    """Typed text that is not a date (or not a real one, such as 31 February)."""


class NothingToGoBackTo(HiwarError):
    """/back on the first question."""


class PasteTooLong(HiwarError):
    """A paste so long that Telegram split it into several messages: refused as a whole."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class PasteContinued(HiwarError):
    """A later part of a paste refused as too long (the person has been told once)."""


class EditNotAnAnswer(HiwarError):
    """An edited message that answered no question (or an answer given with a button)."""


class EditAfterCompletion(HiwarError):
    """An edited answer after the survey was completed."""


class UploadGone(HiwarError):
    """Publish or Cancel on a survey file already published or cancelled."""


class VersionTaken(HiwarError):
    """A survey id and version that are already published (responses keep both, so each
    pair names one survey)."""

    def __init__(self, survey_id: str, version: int) -> None:
        super().__init__(survey_id, version)
        self.survey_id = survey_id
        self.version = version


class RoundClosed(HiwarError):
    """A new response in a round that is not open (closed meanwhile, or none is open)."""


class NoOpenRound(HiwarError):
    """/rounds close (or a Close button) when no round of the survey is open."""


class RoundTitleMissing(HiwarError):
    """/rounds open without a title."""


class RoundTitleTooLong(HiwarError):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit
