"""Pure rendering of invitations, the wizard, progress and listings, in the current language,
and the feature's buttons (typed callback data; any of them may be stale).

Dates and times are formatted by Babel for the reader's locale, in the event's own time zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from babel.dates import (
    format_date,
    format_interval,
    format_time,
    get_datetime_format,
    get_timezone_location,
    get_timezone_name,
)

from bot.core.callbacks import CallbackData
from bot.core.i18n import N_, _, _n, current_language, is_rtl, isolate
from bot.core.views import CHOSEN, Button, Rows, View, pair_up
from bot.invitations import calendar, wizard
from bot.invitations.model import (
    BroadcastStatus,
    DeliveryFigures,
    Dimension,
    Event,
    Invitation,
    InvitationSummary,
    Rsvp,
)
from bot.invitations.service import PREVIEW_ID, Launched, RsvpSaved, WizardScreen
from bot.invitations.wizard import Step

RSVP_LABELS: dict[Rsvp, str] = {
    Rsvp.ATTENDING: N_("Attending"),
    Rsvp.MAYBE: N_("Maybe"),
    Rsvp.DECLINED: N_("Not attending"),
}
DIMENSION_LABELS: dict[Dimension, str] = {
    Dimension.SECTOR: N_("Sector"),
    Dimension.LEVEL: N_("Level"),
    Dimension.COUNTRY: N_("Country"),
    Dimension.LANGUAGE: N_("Language"),
}
PROMPTS: dict[Step, str] = {
    Step.TITLE_AR: N_("Send the title in Arabic (at most {limit} characters)."),
    Step.TITLE_EN: N_("Send the title in English (at most {limit} characters)."),
    Step.DESCRIPTION_AR: N_(
        "Send a short description in Arabic: what the workshop is about and who it is for "
        "(at most {limit} characters)."
    ),
    Step.DESCRIPTION_EN: N_("Send the same description in English (at most {limit} characters)."),
    Step.TIME_ZONE: N_(
        "Which time zone is the workshop's time given in? Send its IANA name, for example "
        "{examples}."
    ),
    Step.START: N_(
        "When does it start? Send the date and time in {zone} as {pattern}, for example {example}."
    ),
    Step.DURATION: N_(
        "How long does it last? Send minutes (for example {minutes}) or hours:minutes (for "
        "example {hours})."
    ),
    Step.PLACE: N_(
        "Where does it take place? Send the address, or the link of the online meeting (at "
        "most {limit} characters)."
    ),
}
ZONE_EXAMPLES = "Asia/Amman, Asia/Baghdad, Africa/Tunis, Europe/Brussels"
FLOW = "wizard"
"""The wizard's steps share one live keyboard per admin (handlers/base/present.py)."""


@dataclass(frozen=True)
class EditAudience(CallbackData):
    """Show the values of one audience dimension for ticking (None: back to the summary)."""

    prefix = "ivd"
    dimension: Dimension | None


@dataclass(frozen=True)
class TickAudience(CallbackData):
    prefix = "ivt"
    dimension: Dimension
    value: str


@dataclass(frozen=True)
class InviteEveryone(CallbackData):
    prefix = "iva"


@dataclass(frozen=True)
class WizardBack(CallbackData):
    prefix = "ivb"
    step: Step


@dataclass(frozen=True)
class ShowPreview(CallbackData):
    prefix = "ivp"


@dataclass(frozen=True)
class SendInvitation(CallbackData):
    prefix = "ivs"


@dataclass(frozen=True)
class DiscardInvitation(CallbackData):
    prefix = "ivc"


@dataclass(frozen=True)
class Subscribe(CallbackData):
    """Opt in again, under the confirmation of an opt-out."""

    prefix = "sub"


@dataclass(frozen=True)
class Answer(CallbackData):
    """An RSVP button of one invitation."""

    prefix = "rsvp"
    invitation: int
    answer: Rsvp
DATE_PATTERN = "YYYY-MM-DD HH:MM"


@dataclass(frozen=True, slots=True)
class Card:
    """An invitation as recipients get it: the .ics document, captioned, with RSVP buttons."""

    caption: str
    rows: Rows
    language: str
    """Whose reading order the buttons follow."""
    filename: str
    ics: bytes


# -- dates ----------------------------------------------------------------------------------


def zone_name(event: Event) -> str:
    """The zone as a place ("Jordan Time"); the zone's own name for zones naming no place."""
    zone, language = ZoneInfo(event.time_zone), current_language()
    if "/" in event.time_zone and not event.time_zone.startswith("Etc/"):
        return escape(get_timezone_location(zone, locale=language))
    # Names such as "Bosnia & Herzegovina Time" go into HTML.
    return escape(get_timezone_name(event.starts_at, "long", locale=language))


def _comma() -> str:
    return "، " if is_rtl() else ", "


def title(event: Event) -> str:
    """The event's title, escaped and isolated: an admin's text (a U+202E in it included)
    cannot reorder the message around it."""
    return isolate(escape(event.title.get(current_language())))


def moment(at: datetime) -> str:
    """A date with its time, without seconds, as the reader's locale writes them."""
    language = current_language()
    pattern = get_datetime_format("full", locale=language).replace("'", "")
    return pattern.replace("{0}", format_time(at, "short", locale=language)).replace(
        "{1}", format_date(at, "full", locale=language)
    )


def when(event: Event) -> list[str]:
    language, start, end = current_language(), event.starts_at, event.ends_at
    if start.date() == end.date():
        return [
            _("Date: {date}", date=format_date(start, "full", locale=language)),
            _(
                "Time: {start_end}, {zone}",
                start_end=format_interval(start, end, "hm", tzinfo=start.tzinfo, locale=language),
                zone=zone_name(event),
            ),
        ]
    return [
        _("Starts: {moment}", moment=moment(start)),
        _("Ends: {moment}", moment=moment(end)),
        _("Time zone: {zone}", zone=zone_name(event)),
    ]


def place(event: Event) -> str:
    if event.is_online:
        return _("Online: {link}", link=escape(event.place))
    return _("Place: {place}", place=escape(event.place))


def example_start(zone: str, now: datetime) -> str:
    """A week from now at 10:00 in the zone, typed the way the wizard wants it."""
    day = now.astimezone(ZoneInfo(zone or "UTC")).date().toordinal() + 7
    return datetime.fromordinal(day).strftime("%Y-%m-%d") + " 10:00"


# -- what recipients get --------------------------------------------------------------------


def rsvp_rows(invitation_id: int, chosen: Rsvp | None = None) -> Rows:
    return (
        tuple(
            Button((CHOSEN if answer == chosen else "") + _(label), Answer(invitation_id, answer))
            for answer, label in RSVP_LABELS.items()
        ),
    )


def invitation_card(invitation_id: int, event: Event, stamp: datetime) -> Card:
    language = current_language()
    lines = [
        _("We are pleased to invite you to:"),
        f"<b>{title(event)}</b>",
        "",
        escape(event.description.get(language)),
        "",
        *when(event),
        place(event),
        "",
        _("Please let us know whether you will come; you can change your answer later."),
        _("To stop receiving invitations, send /unsubscribe."),
    ]
    return Card(
        caption="\n".join(lines),
        rows=rsvp_rows(invitation_id),
        language=language,
        filename=f"hiwar-invitation-{invitation_id or 'preview'}.ics",
        ics=calendar.ics(invitation_id, event, language, stamp),
    )


def reminder(invitation: Invitation) -> View:
    event = invitation.event
    lines = [
        _("Reminder: you are expected at"),
        f"<b>{title(event)}</b>",
        "",
        *when(event),
        place(event),
        "",
        _("If your plans have changed, please update your answer:"),
    ]
    return View("\n".join(lines), rsvp_rows(invitation.id))


def unsubscribed() -> View:
    """STOP or /unsubscribe confirmed, with a way back."""
    return View.of(
        _(
            "Done: you will not receive any more invitations or reminders. Your survey "
            "answers are not affected. If you change your mind, send /subscribe or tap below."
        ),
        [[Button(_("Receive them again"), Subscribe())]],
        html=False,
    )


def subscribed(changed: bool) -> View:
    if not changed:
        return View(_("You already receive invitations and reminders."), html=False)
    return View(
        _(
            "Welcome back: you will receive invitations and reminders again. To stop them, "
            "send STOP."
        ),
        html=False,
    )


def rsvp_saved(saved: RsvpSaved) -> str:
    """The short notice shown when an RSVP button is tapped (at most 200 characters)."""
    text = _("Thank you! Your answer: {answer}.", answer=_(RSVP_LABELS[saved.answer]))
    if saved.reminder_at is not None:
        text += " " + _("We will remind you before it starts.")
    return text


# -- the admin's wizard ---------------------------------------------------------------------


def _header(step: Step) -> str:
    return (
        "<b>"
        + _(
            "New invitation: step {number} of {total}",
            number=wizard.STEPS.index(step) + 1,
            total=len(wizard.STEPS),
        )
        + "</b>"
    )


def _navigation(step: Step) -> list[Button]:
    buttons = [Button(_("Back"), WizardBack(step))] if wizard.previous(step) else []
    return [*buttons, Button(_("Cancel"), DiscardInvitation())]


def wizard_step(screen: WizardScreen, now: datetime) -> View:
    """The message of the wizard's current step (the preview's per-language cards aside)."""
    match screen.draft.step:
        case Step.AUDIENCE:
            return _audience(screen)
        case Step.PREVIEW:
            return _preview_summary(screen)
    return _typed_step(screen.draft, now)


def _typed_step(draft: wizard.Draft, now: datetime) -> View:
    prompt = _(
        PROMPTS[draft.step],
        limit=wizard.TEXT_LIMITS.get(draft.step, 0),
        examples=ZONE_EXAMPLES,
        zone=draft.time_zone,
        pattern=DATE_PATTERN,
        example=example_start(draft.time_zone, now),
        minutes=90,
        hours="2:30",
    )
    lines = [_header(draft.step), prompt]
    current = _typed_value(draft)
    if current:
        lines += ["", _("Now: {value}", value=escape(current))]
    return View.of("\n".join(lines), [_navigation(draft.step)])


def _typed_value(draft: wizard.Draft) -> str:
    match draft.step:
        case Step.START:
            return draft.start.strftime("%Y-%m-%d %H:%M") if draft.start else ""
        case Step.DURATION:
            hours, minutes = divmod(draft.duration_minutes, 60)
            return f"{hours}:{minutes:02d}" if draft.duration_minutes else ""
        case step:
            return str(getattr(draft, step.value))


def _recipients(recipients: Mapping[str, int]) -> str:
    total = sum(recipients.values())
    return (
        _n("{count} person would receive it", "{count} people would receive it", total)
        + " "
        + _(
            "(in Arabic: {ar}, in English: {en}).",
            ar=recipients.get("ar", 0),
            en=recipients.get("en", 0),
        )
    )


def audience_summary(screen: WizardScreen) -> str:
    language, audience = current_language(), screen.draft.audience
    if audience.is_everyone:
        return _("Audience: everyone who asked for invitations.")
    separator = "، " if is_rtl() else ", "
    lines = [_("Audience: people who asked for invitations and match:")]
    for dimension, values in audience.filters.items():
        labels = [c.label.get(language) for c in screen.choices[dimension] if c.id in values]
        lines.append(f"• {_(DIMENSION_LABELS[dimension])}: {escape(separator.join(labels))}")
    return "\n".join(lines)


def _audience(screen: WizardScreen) -> View:
    draft, language = screen.draft, current_language()
    lines = [
        _header(Step.AUDIENCE),
        _(
            "Who should be invited? Only people who asked for invitations in the survey can "
            "be invited; narrow them down with the buttons."
        ),
        "",
        audience_summary(screen),
        _recipients(screen.recipients or {}),
    ]
    if draft.editing is not None:
        chosen = draft.audience.values(draft.editing)
        rows = pair_up(
            [
                Button(
                    (CHOSEN if c.id in chosen else "") + c.label.get(language),
                    TickAudience(draft.editing, c.id),
                )
                for c in screen.choices[draft.editing]
            ]
        )
        lines += ["", _("Tick the values to include, then press “Done”.")]
        return View.of("\n".join(lines), [*rows, [Button(_("Done"), EditAudience(None))]])
    filters = pair_up(
        [
            Button(
                _(DIMENSION_LABELS[d])
                + (f" ({len(draft.audience.values(d))})" if draft.audience.values(d) else ""),
                EditAudience(d),
            )
            for d in screen.choices
        ]
    )
    everyone = (
        [] if draft.audience.is_everyone else [Button(_("Everyone who asked"), InviteEveryone())]
    )
    rows = [*filters, everyone, [Button(_("Preview"), ShowPreview())], _navigation(Step.AUDIENCE)]
    return View.of("\n".join(lines), rows)


def _preview_summary(screen: WizardScreen) -> View:
    """After the per-language previews: how many get it, and Send / Back / Cancel."""
    total = sum((screen.recipients or {}).values())
    lines = [
        _header(Step.PREVIEW),
        _("Above is the invitation exactly as recipients will see it in each language."),
        audience_summary(screen),
        _recipients(screen.recipients or {}),
    ]
    send = [Button(_("Send now"), SendInvitation())] if total else []
    if not total:
        lines.append(_("Nobody matches this audience yet; go back and change it."))
    return View.of("\n".join(lines), [send, _navigation(Step.PREVIEW)])


def launched(result: Launched) -> str:
    return _n(
        "Sending the invitation to {count} person. Progress is shown below.",
        "Sending the invitation to {count} people. Progress is shown below.",
        result.recipients,
    )


def cancelled() -> str:
    return _("The invitation was discarded; nothing was sent.")


# -- progress and listings for admins -------------------------------------------------------


def _figure_lines(figures: DeliveryFigures) -> list[str]:
    lines = [
        _("Sent: {count}", count=figures.sent),
        _("Blocked the bot: {count}", count=figures.blocked),
        _("Failed: {count}", count=figures.failed),
    ]
    if figures.cancelled:
        lines.append(_("Unsubscribed before it reached them: {count}", count=figures.cancelled))
    if figures.remaining:
        lines.append(_("Remaining: {count}", count=figures.remaining))
    return lines


def progress(invitation: Invitation, figures: DeliveryFigures, final: bool) -> str:
    name = escape(invitation.event.title.get(current_language()))
    heading = (
        _("Invitation sent: {title}", title=name)
        if final
        else _("Sending the invitation: {title}", title=name)
    )
    return "\n".join([f"<b>{heading}</b>", *_figure_lines(figures)])


def overview(summaries: Sequence[InvitationSummary]) -> list[str]:
    if not summaries:
        return [_("No invitations yet. Create one with /invite.")]
    lines = ["<b>" + _("Invitations, newest first") + "</b>"]
    for summary in summaries:
        invitation = summary.invitation
        event = invitation.event
        lines += [
            "",
            f"<b>{title(event)}</b>",
            _("Starts: {moment}", moment=moment(event.starts_at) + _comma() + zone_name(event)),
            _("Status: sending")
            if invitation.status == BroadcastStatus.SENDING
            else _("Status: delivery finished"),
            *_figure_lines(summary.figures),
            _(
                "Answers — attending: {attending}, maybe: {maybe}, not attending: {declined}, "
                "no answer: {unanswered}.",
                attending=summary.answers.get(Rsvp.ATTENDING, 0),
                maybe=summary.answers.get(Rsvp.MAYBE, 0),
                declined=summary.answers.get(Rsvp.DECLINED, 0),
                unanswered=summary.unanswered,
            ),
        ]
    return lines


def preview_card(screen: WizardScreen, now: datetime) -> Card:
    return invitation_card(PREVIEW_ID, screen.draft.event(), now)
