"""The invitations' errors, each explained in the current language (handlers/base/errors.py)."""

from __future__ import annotations

from bot.core.errors import ErrorTable, Explanation
from bot.core.i18n import _, _n
from bot.invitations import clock, views
from bot.invitations.errors import (
    BadDateTime,
    BadDuration,
    DateInPast,
    DateTooFar,
    EventStarted,
    NobodyToInvite,
    NoInvitationDraft,
    NotArabic,
    PreviewOnly,
    TimeAmbiguous,
    TimeSkipped,
    UnknownInvitation,
    UnknownTimeZone,
)


def _bad_date(_error: BadDateTime) -> str:
    return _(
        "I could not read that date. Please send it as {pattern}, for example {example}.",
        pattern=views.DATE_PATTERN,
        example=views.example_start("UTC", clock.now()),
    )


def _unknown_zone(error: UnknownTimeZone) -> str:
    return _(
        "I do not know the time zone “{name}”. Please send an IANA name such as {examples}.",
        name=error.name,
        examples=views.ZONE_EXAMPLES,
    )


def _bad_duration(error: BadDuration) -> str:
    return _n(
        "Please send the duration in minutes (for example 90) or as hours:minutes (for "
        "example 2:30), at most {count} hour.",
        "Please send the duration in minutes (for example 90) or as hours:minutes (for "
        "example 2:30), at most {count} hours.",
        error.longest_hours,
    )


ERRORS: ErrorTable = {
    NoInvitationDraft: Explanation(
        lambda _e: _(
            "That button belongs to an earlier step, so nothing was changed. Send /invite "
            "to see where the invitation stands."
        )
    ),
    NotArabic: Explanation(
        lambda _e: _("This should be in Arabic, but it has no Arabic letters. Please send it again.")
    ),
    BadDateTime: Explanation(_bad_date),
    UnknownTimeZone: Explanation(_unknown_zone),
    TimeSkipped: Explanation(
        lambda _e: _(
            "That time does not exist in this time zone, because the clocks change then. "
            "Please send another time."
        )
    ),
    TimeAmbiguous: Explanation(
        lambda _e: _(
            "That time happens twice in this time zone, because the clocks go back that "
            "night. Please send a time outside the change, for example an hour later."
        )
    ),
    DateTooFar: Explanation(
        lambda error: _n(
            "That is more than {count} year ahead. Please check the year and send the date "
            "again.",
            "That is more than {count} years ahead. Please check the year and send the date "
            "again.",
            error.years,
        )
    ),
    DateInPast: Explanation(
        lambda _e: _("That moment has already passed. Please send a date and time in the future.")
    ),
    BadDuration: Explanation(_bad_duration),
    NobodyToInvite: Explanation(
        lambda _e: _("Nobody matches this audience, so there is no one to send it to.")
    ),
    UnknownInvitation: Explanation(lambda _e: _("This invitation is no longer available.")),
    PreviewOnly: Explanation(
        lambda _e: _("This is only a preview; these buttons work in the invitation people get.")
    ),
    EventStarted: Explanation(
        lambda _e: _("This event has already started, so answers are closed.")
    ),
}
