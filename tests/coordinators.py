"""What the coordinator tests share: respondents written through the service of the running
bot, a coordinator made through a real grant link, and readers of the bot's replies."""

from __future__ import annotations

import re
from itertools import count

from bot.core.i18n import _, use_language
from bot.simulator import BotAction, SimulatedUser
from handlers.base.context import SERVICES_KEY, Services
from tests.e2e import Harness
from tests.respondents import answers, complete

NOUR_ID = 2001  # the national P/CVE coordinator in Amman
SAMI_ID = 3001  # a respondent who tries the coordinators' commands
COORDINATOR_COMMANDS = ("/summary", "/chart", "/comments", "/reports")
ADMIN_COMMANDS = ("/grant", "/revoke", "/roles", "/audit", "/export")
_user_ids = count(10_000)


def visible(text: str) -> str:
    """Without the invisible isolates and direction marks (they are checked in the domain)."""
    return re.sub("[\u200e\u200f\u2066-\u2069]", "", text)


def said(language: str, message: str, **values: object) -> str:
    with use_language(language):
        return visible(_(message, **values))


def shown(text: str, label: str) -> int:
    """The number a view shows after `label` (snapshots perturb counts by at most 2)."""
    found = re.search(re.escape(label) + r"\s*(\d+)", text)
    assert found, f"{label!r} not in {text!r}"
    return int(found.group(1))


def near(value: int, true: int) -> bool:
    return abs(value - true) <= 2


def texts(actions: list[BotAction]) -> str:
    return visible("\n".join(a.rendered_text for a in actions if a.rendered_text))


def services(hiwar: Harness) -> Services:
    assert hiwar.application is not None
    found = hiwar.application.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found


async def respond(hiwar: Harness, how_many: int, **given: object) -> list[int]:
    """`how_many` respondents complete the survey alike; returns their Telegram ids."""
    ids = [next(_user_ids) for _ in range(how_many)]
    for user_id in ids:
        await complete(services(hiwar).survey, user_id, answers(**given))  # type: ignore[arg-type]
    return ids


async def make_coordinator(
    hiwar: Harness,
    language: str = "en",
    scope: str = "",
    user_id: int = NOUR_ID,
    name: str = "Nour",
) -> SimulatedUser:
    """A coordinator made through `/grant ID [scope]` (the admin writing in `language`),
    the link opened by them."""
    admin = hiwar.admin(language)
    await admin.send_command(
        f"/grant {user_id} {scope}".strip(),
        until=lambda sent: any("start=grant-" in (a.text or "") for a in sent),
    )
    code = re.search(r"\?start=(grant-[\w-]+)", admin.last_text or "")
    assert code is not None
    person = hiwar.user(user_id, name, language)
    await person.send_command(f"/start {code.group(1)}")
    return person


async def wait_for_files(
    hiwar: Harness, user: SimulatedUser, method: str, number: int
) -> list[BotAction]:
    await hiwar.api.wait_for(
        lambda: len([a for a in user.messages if a.method == method]) >= number
    )
    return [a for a in user.messages if a.method == method]
