"""The invitation as an iCalendar (.ics) file, built with the `icalendar` library."""

from __future__ import annotations

from datetime import date, datetime
from uuid import NAMESPACE_URL, uuid5

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from bot.invitations.model import Event

PRODUCT_ID = "-//Hiwar//Workshop invitations//EN"


def event_uid(invitation_id: int, created_at: datetime) -> str:
    """The same in both languages and on every send, so a calendar updates one entry rather
    than adding two; unique across deployments (it hangs on when the invitation was made,
    to the microsecond, not only on its number)."""
    return f"{uuid5(NAMESPACE_URL, f'hiwar:{invitation_id}:{created_at.isoformat()}')}@hiwar"


def ics(invitation_id: int, event: Event, language: str, stamp: datetime) -> bytes:
    """One VEVENT in the event's own time zone (with its VTIMEZONE), texts in `language`;
    `stamp`: when the invitation was made (a preview's: now, so every preview differs)."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = CalendarEvent()
    entry.add("uid", event_uid(invitation_id, stamp))
    entry.add("dtstamp", stamp)
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.ends_at)
    entry.add("summary", event.title.get(language), parameters={"LANGUAGE": language})
    entry.add("description", event.description.get(language), parameters={"LANGUAGE": language})
    entry.add("location", event.place)
    if event.is_online:
        entry.add("url", event.place)
    calendar.add_component(entry)
    calendar.add_missing_timezones(
        first_date=date(event.starts_at.year - 1, 1, 1),
        last_date=date(event.ends_at.year + 1, 12, 31),
    )
    return calendar.to_ical()
