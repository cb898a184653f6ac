"""Named errors of the invitations feature; bot/invitations/messages.py explains each."""

from __future__ import annotations

from bot.core.errors import HiwarError, StaleButton


class NoInvitationDraft(StaleButton):
    """A wizard button was tapped but no invitation is being prepared (or another step is)."""


class NotArabic(HiwarError):
    """The Arabic title or description contains no Arabic letter (probably the wrong language)."""


class BadDateTime(HiwarError):
    """The start was not typed as YYYY-MM-DD HH:MM, or is no real date."""


class UnknownTimeZone(HiwarError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class TimeSkipped(HiwarError):
    """The local time does not exist in that zone (the clocks jump over it)."""


class TimeAmbiguous(HiwarError):
    """The local time happens twice in that zone (the clocks go back over it)."""


class DateTooFar(HiwarError):
    """The start is further ahead than any workshop is planned (a typo, such as year 9999)."""

    def __init__(self, years: int) -> None:
        super().__init__(years)
        self.years = years


class DateInPast(HiwarError):
    """The start is not in the future."""


class BadDuration(HiwarError):
    def __init__(self, longest_hours: int) -> None:
        super().__init__(longest_hours)
        self.longest_hours = longest_hours


class NobodyToInvite(HiwarError):
    """Send pressed while the audience matches nobody."""


class UnknownInvitation(HiwarError):
    """An RSVP button of an invitation that no longer exists or was not sent to this person."""


class PreviewOnly(HiwarError):
    """An RSVP button on the admin's preview."""


class EventStarted(HiwarError):
    """An RSVP after the event has begun."""
