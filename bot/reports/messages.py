"""The reports' errors, each explained in the current language (see handlers/base/errors.py)."""

from __future__ import annotations

from bot.core.errors import ErrorTable, Explanation
from bot.core.i18n import _
from bot.reports.errors import (
    AlreadyStaff,
    BadAuditFilter,
    BadCampaignCommand,
    BadGrantArgument,
    BadLinkUses,
    BadSource,
    FilterSuppressed,
    GrantExpired,
    GrantUnknown,
    GrantUsed,
    NothingToCompare,
    OtherSurvey,
    OutsideScope,
    SourceTaken,
    TooFewComments,
    TooFewResponses,
    UnknownCampaign,
    UnknownCoordinator,
    UnknownFilter,
    UnknownQuestion,
    UnknownRound,
    UnknownSurvey,
)
from bot.reports.filters import scope_name


def _unknown_filter(error: UnknownFilter) -> str:
    return _(
        "I do not know the group “{group}”. Send /summary and choose a group with the "
        "buttons, or write for example /summary country=jordan.",
        group=error.text,
    )


def _suppressed(error: FilterSuppressed) -> str:
    return _(
        "This group cannot be shown: it, or what sets it apart from the other groups, "
        "has fewer than {threshold} respondents, so someone could be recognised.",
        threshold=error.threshold,
    )


def _too_few_responses(error: TooFewResponses) -> str:
    return _(
        "There are fewer than {threshold} completed responses so far. Results are shown "
        "from {threshold} on, so that nobody can be recognised.",
        threshold=error.threshold,
    )


def _too_few_comments(error: TooFewComments) -> str:
    return _(
        "This question has fewer than {threshold} answers, so they are not shown: with "
        "so few, someone could be recognised.",
        threshold=error.threshold,
    )


def _bad_grant_argument(error: BadGrantArgument) -> str:
    return _(
        "I do not understand “{text}”. Please send /grant alone for a link you confirm when "
        "someone opens it, or give the person's Telegram id as a number; to limit what they "
        "see, add countries, sectors or levels, for example /grant 12345678 country=jordan "
        "or /grant country=jordan country=iraq.",
        text=error.text,
    )


def _outside_scope(error: OutsideScope) -> str:
    return _(
        "This group is outside what you can see: your reports cover {scope} only. Send "
        "/summary and choose a group with the buttons.",
        scope=scope_name(error.survey, error.scope),
    )


ERRORS: ErrorTable = {
    GrantUnknown: Explanation(
        lambda _e: _(
            "This invitation link is not valid. Please ask an administrator for a new one."
        )
    ),
    GrantUsed: Explanation(
        lambda _e: _(
            "This invitation link has already been used. Please ask an administrator for a "
            "new one."
        )
    ),
    GrantExpired: Explanation(
        lambda _e: _(
            "This invitation link has expired: links work for 24 hours. Please ask an "
            "administrator for a new one."
        )
    ),
    AlreadyStaff: Explanation(
        lambda _e: _(
            "You already have access to the reports. The link was not used, so it can still "
            "be given to someone else."
        )
    ),
    BadGrantArgument: Explanation(_bad_grant_argument),
    OutsideScope: Explanation(_outside_scope),
    BadAuditFilter: Explanation(
        lambda _e: _(
            "Please write /audit alone, or with a page number, who= and a Telegram id, or "
            "action= and a kind of entry: for example /audit 2, /audit who=12345678 or "
            "/audit action=summary."
        )
    ),
    BadCampaignCommand: Explanation(
        lambda _e: _(
            "Please write /campaign alone to list the campaign links, /campaign new and a "
            "source (and, if you like, for how many people and for which round) to make one, "
            "or /campaign close and a source: for example /campaign new amman-plenary 60 "
            "round=2."
        )
    ),
    BadSource: Explanation(
        lambda error: _(
            "Please name the source with lowercase Latin letters, digits and dashes, at most "
            "{most} characters, for example amman-plenary or city-network-newsletter.",
            most=error.most,
        )
    ),
    BadLinkUses: Explanation(
        lambda error: _(
            "Please give how many people the link is for, from 1 to {most}, or leave it out "
            "for no limit: for example /campaign new amman-plenary 60.",
            most=error.most,
        )
    ),
    SourceTaken: Explanation(
        lambda error: _(
            "There is already an open link for {source}. Close it with /campaign close "
            "{source} first, or choose another name.",
            source=error.source,
        )
    ),
    UnknownCampaign: Explanation(
        lambda _e: _("No open campaign link has that source. Send /campaign to see them.")
    ),
    UnknownCoordinator: Explanation(
        lambda _e: _("That person is not a coordinator. See who is with /roles.")
    ),
    UnknownFilter: Explanation(_unknown_filter),
    FilterSuppressed: Explanation(_suppressed),
    TooFewResponses: Explanation(_too_few_responses),
    UnknownQuestion: Explanation(
        lambda _e: _("That question has no free-text answers. Send /comments to choose one.")
    ),
    TooFewComments: Explanation(_too_few_comments),
    UnknownSurvey: Explanation(
        lambda error: _(
            "The bot has run no survey of that id. Write survey= and one of: {ids}.",
            ids=", ".join(error.known),
        )
    ),
    OtherSurvey: Explanation(
        lambda error: _(
            "Your reports cover the survey {id} only, and the bot runs another survey now. "
            "Please ask an administrator if you need to see this one.",
            id=error.survey_id,
        )
    ),
    UnknownRound: Explanation(
        lambda _e: _(
            "The survey has no round with that number. The rounds and their numbers are "
            "listed by /rounds; write for example /summary round=2, or /change 1 2."
        )
    ),
    NothingToCompare: Explanation(
        lambda error: _(
            "There is nothing to compare yet: a change is shown once two rounds each have "
            "at least {threshold} completed responses.",
            threshold=error.threshold,
        )
    ),
}
