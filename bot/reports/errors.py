"""Named errors of coordinator reports; bot/reports/messages.py explains each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.errors import HiwarError

if TYPE_CHECKING:
    from bot.reports.model import Scope
    from bot.survey.model import Survey


class ReportError(HiwarError):
    """Base of the errors a coordinator or an admin can cause."""


class GrantUnknown(ReportError):
    """An invitation link whose code was never issued (mistyped or made up)."""


class GrantUsed(ReportError):
    """An invitation link that has already been used once."""


class GrantExpired(ReportError):
    """An invitation link older than its 24 hours."""


class AlreadyStaff(ReportError):
    """An invitation link opened by someone who is already an admin or a coordinator."""


class BadCampaignCommand(ReportError):
    """/campaign with something other than `new SOURCE [USES]` or `close SOURCE`."""


class BadSource(ReportError):
    """A campaign source that is not a short slug (lowercase letters, digits, dashes)."""

    def __init__(self, most: int) -> None:
        super().__init__(most)
        self.most = most


class BadLinkUses(ReportError):
    """/campaign new with something other than a number of people from 1 to the most."""

    def __init__(self, most: int) -> None:
        super().__init__(most)
        self.most = most


class SourceTaken(ReportError):
    """/campaign new for a source that has an open link already."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.source = source


class UnknownCampaign(ReportError):
    """/campaign close for a source without an open link (or a stale Close button)."""


class BadAuditFilter(ReportError):
    """/audit with something other than a page, who=ID or action=KEY."""


class UnknownCoordinator(ReportError):
    """/revoke for someone who is not a coordinator."""


class UnknownFilter(ReportError):
    """A filter that names no country, sector or level of the survey (or several)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class FilterSuppressed(ReportError):
    """A filter whose group could expose someone (see bot/reports/privacy.py)."""

    def __init__(self, threshold: int) -> None:
        super().__init__(threshold)
        self.threshold = threshold


class TooFewResponses(ReportError):
    """Fewer completed responses than the smallest group that may be shown."""

    def __init__(self, threshold: int) -> None:
        super().__init__(threshold)
        self.threshold = threshold


class UnknownQuestion(ReportError):
    """/comments for a question that has no free-text answers to show."""


class TooFewComments(ReportError):
    """A free-text question with fewer answers than the smallest group that may be shown."""

    def __init__(self, threshold: int) -> None:
        super().__init__(threshold)
        self.threshold = threshold


class UnknownSurvey(ReportError):
    """/grant survey=ID naming a survey the bot has never run."""

    def __init__(self, known: list[str]) -> None:
        super().__init__(known)
        self.known = known


class OtherSurvey(ReportError):
    """A coordinator limited to one survey, looking while another one is run."""

    def __init__(self, survey_id: str) -> None:
        super().__init__(survey_id)
        self.survey_id = survey_id


class UnknownRound(ReportError):
    """`round=N` or /change naming a round the survey does not have (None: one number
    where /change needs two)."""

    def __init__(self, number: int | None) -> None:
        super().__init__(number)
        self.number = number


class NothingToCompare(ReportError):
    """/change before two rounds each have a snapshot."""

    def __init__(self, threshold: int) -> None:
        super().__init__(threshold)
        self.threshold = threshold


class BadGrantArgument(ReportError):
    """/grant followed by something that is neither a Telegram user id nor a country, sector
    or level of the survey (or that names several)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class OutsideScope(ReportError):
    """A scoped coordinator's filter that leaves nobody of their scope."""

    def __init__(self, survey: Survey, scope: Scope) -> None:
        super().__init__(str(scope))
        self.survey = survey
        self.scope = scope
