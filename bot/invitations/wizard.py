"""The /invite wizard as explicit states (see invite_flow.mmd beside this file).

Pure rules, no storage: each typed step parses and validates one message and moves on; a
refused message raises a named error and the step stays where it is, so it is asked again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from bot.invitations.errors import (
    BadDateTime,
    BadDuration,
    DateInPast,
    DateTooFar,
    NotArabic,
    TimeAmbiguous,
    TimeSkipped,
    UnknownTimeZone,
)
from bot.invitations.model import Audience, Dimension, Event
from bot.survey.errors import EmptyAnswer, TextTooLong
from bot.survey.model import Text


class Step(StrEnum):
    TITLE_AR = "title_ar"
    TITLE_EN = "title_en"
    DESCRIPTION_AR = "description_ar"
    DESCRIPTION_EN = "description_en"
    TIME_ZONE = "time_zone"
    START = "start"
    DURATION = "duration"
    PLACE = "place"
    AUDIENCE = "audience"
    PREVIEW = "preview"


STEPS: tuple[Step, ...] = tuple(Step)
TYPED_STEPS = frozenset(STEPS[: STEPS.index(Step.AUDIENCE)])
"""Steps answered by typing a message; the last two are answered with buttons."""

TEXT_LIMITS: dict[Step, int] = {
    Step.TITLE_AR: 100,
    Step.TITLE_EN: 100,
    Step.DESCRIPTION_AR: 400,
    Step.DESCRIPTION_EN: 400,
    Step.PLACE: 150,
}
"""Characters; with these the invitation fits in one captioned document (1,024 characters)."""
LONGEST_EVENT = timedelta(hours=72)

_ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")
_START = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2})[:.](\d{2})")
_HOURS_MINUTES = re.compile(r"(\d{1,2})[:.](\d{2})")


@dataclass(frozen=True, slots=True)
class Draft:
    """An invitation being prepared by one admin; stored after every step."""

    step: Step = Step.TITLE_AR
    title_ar: str = ""
    title_en: str = ""
    description_ar: str = ""
    description_en: str = ""
    time_zone: str = ""
    start: datetime | None = None
    """Aware, in `time_zone`."""
    duration_minutes: int = 0
    place: str = ""
    audience: Audience = field(default_factory=Audience)
    editing: Dimension | None = None
    """On the audience step: the dimension whose values are shown for ticking."""

    def event(self) -> Event:
        """The announced event; only once every typed step is done."""
        assert self.start is not None and self.duration_minutes > 0
        return Event(
            title=Text(ar=self.title_ar, en=self.title_en),
            description=Text(ar=self.description_ar, en=self.description_en),
            starts_at=self.start,
            duration=timedelta(minutes=self.duration_minutes),
            place=self.place,
        )


def following(step: Step) -> Step:
    return STEPS[min(STEPS.index(step) + 1, len(STEPS) - 1)]


def previous(step: Step) -> Step | None:
    index = STEPS.index(step)
    return STEPS[index - 1] if index > 0 else None


def accept(draft: Draft, text: str, now: datetime) -> Draft:
    """Take the message typed at the current step and move to the next step."""
    assert draft.step in TYPED_STEPS
    value = text.strip()
    if not value:
        raise EmptyAnswer
    match draft.step:
        case Step.TIME_ZONE:
            changed = replace(draft, time_zone=time_zone(value))
        case Step.START:
            changed = replace(draft, start=start(value, draft.time_zone, now))
        case Step.DURATION:
            changed = replace(draft, duration_minutes=duration_minutes(value))
        case step:
            changed = replace(draft, **{step.value: bounded_text(step, value)})
    return replace(changed, step=following(draft.step))


def bounded_text(step: Step, value: str) -> str:
    limit = TEXT_LIMITS[step]
    if len(value) > limit:
        raise TextTooLong(limit, len(value))
    if step in (Step.TITLE_AR, Step.DESCRIPTION_AR) and not _ARABIC_LETTER.search(value):
        raise NotArabic
    if step in (Step.TITLE_AR, Step.TITLE_EN):
        return " ".join(value.split())
    return value


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def time_zone(value: str) -> str:
    """An IANA zone name, in any letter case; a city alone (Amman) when it names one zone."""
    wanted = value.strip().replace(" ", "_").lower()
    zones = _zones_by_lower_name()
    if wanted in zones:
        return zones[wanted]
    by_city = [name for lower, name in zones.items() if lower.endswith("/" + wanted)]
    if len(by_city) == 1:
        return by_city[0]
    raise UnknownTimeZone(value.strip())


LATEST_START = timedelta(days=2 * 365)
"""How far ahead a workshop may be set (a typo such as year 9999 is refused)."""


def start(value: str, zone_name: str, now: datetime) -> datetime:
    """`YYYY-MM-DD HH:MM` in the event's zone; must exist there and be in the future."""
    match = _START.fullmatch(value.strip())
    if match is None:
        raise BadDateTime
    year, month, day, hour, minute = (int(part) for part in match.groups())
    try:
        naive = datetime(year, month, day, hour, minute)
    except ValueError:
        raise BadDateTime from None
    zone = ZoneInfo(zone_name)
    local = naive.replace(tzinfo=zone)
    if local.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None) != naive:
        raise TimeSkipped
    if local.utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset():
        raise TimeAmbiguous  # the clocks go back: this time happens twice that night
    if local <= now:
        raise DateInPast
    if local - now > LATEST_START:
        raise DateTooFar(LATEST_START.days // 365)
    return local


def duration_minutes(value: str) -> int:
    """Minutes (`90`) or hours and minutes (`1:30`), more than none and at most three days."""
    value = value.strip()
    hours_minutes = _HOURS_MINUTES.fullmatch(value)
    if hours_minutes is not None:
        hours, minutes = (int(part) for part in hours_minutes.groups())
        total = hours * 60 + minutes if minutes < 60 else 0
    elif value.isdecimal():
        total = int(value)
    else:
        total = 0
    longest = int(LONGEST_EVENT.total_seconds() // 60)
    if not 0 < total <= longest:
        raise BadDuration(longest // 60)
    return total
