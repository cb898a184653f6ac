"""Campaign links through the real bot over HTTP, in both languages and on both databases:
a valid link lands in the survey and is counted per source, a closed or forged one is
refused politely, required links keep out those who came without one, /delete erases the
source."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import pytest

from bot.core.i18n import _, use_language
from bot.simulator import SimulatedUser
from bot.survey import engine
from bot.survey.views import CONSENT_PROMISES, LANGUAGE_NAMES
from tests.coordinators import make_coordinator, near, respond, said, services, shown, texts
from tests.e2e import SHIPPED_SURVEY, Harness
from tests.respondents import answers, complete

LANGUAGES = pytest.mark.parametrize("language", ["en", "ar"])


def _first_question(language: str) -> str:
    return engine.first_question(SHIPPED_SURVEY).text.get(language).split("?")[0].split("؟")[0]


async def _link(admin: SimulatedUser, source: str) -> str:
    reply = texts(await admin.send_command(f"/campaign new {source}"))
    found = re.search(r"https://t\.me/\w+\?start=(in-[\w-]+)", reply)
    assert found, reply
    return found.group(1)


async def _arrive(user: SimulatedUser, code: str, language: str) -> str:
    """Open the link, choose the language; what the bot said after the choice."""
    opened = texts(await user.send_command(f"/start {code}"))
    assert said(language, "Please choose your language.") in opened
    return texts(await user.tap(LANGUAGE_NAMES[language]))


async def _ids(hiwar: Harness, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in await hiwar.query(sql)]


@LANGUAGES
async def test_a_campaign_link_is_counted_per_source_and_can_be_closed(
    hiwar: Harness, language: str
):
    nour = await make_coordinator(hiwar, language)
    admin = hiwar.admin(language)
    code = await _link(admin, "amman-plenary")
    assert len(f"start={code}") <= 6 + 64
    sara = hiwar.user(41_000, "Sara", language)
    consent = await _arrive(sara, code, language)
    assert said(language, CONSENT_PROMISES[1]) in consent  # says the link's source is stored
    asked = texts(await sara.tap(said(language, "I agree")))
    assert _first_question(language) in asked
    await complete(services(hiwar).survey, sara.id, answers(), language)
    for user_id in range(41_001, 41_005):  # four more through the link
        await _arrive(hiwar.user(user_id, "Guest", language), code, language)
        await complete(services(hiwar).survey, user_id, answers(country="iraq"), language)
    await respond(hiwar, 5)  # five without a link
    assert await _ids(hiwar, f"SELECT source FROM responses WHERE user_id = {sara.id}") == [
        ("amman-plenary",)
    ]
    stored = await _ids(hiwar, f"SELECT arrived_via FROM users WHERE user_id = {sara.id}")
    assert stored == [(hashlib.sha256(code.encode()).hexdigest(),)]  # which link: its hash
    summary = texts(await nour.send_command("/summary"))
    assert said(language, "Respondents by source") in summary
    assert near(shown(summary, "amman-plenary:"), 5)
    assert near(shown(summary, said(language, "without a link") + ":"), 5)

    listing = texts(await admin.send_command("/campaign"))
    figures = said(
        language,
        "arrived: {arrivals}, completed: {completed}, uses left: {left}, {state}",
        arrivals=5,
        completed=5,
        left=said(language, "no limit"),
        state=said(language, "open"),
    )
    assert f"amman-plenary: {figures}" in listing
    with use_language(language):  # a button's label keeps its isolates
        closing = _("Close {source}", source="amman-plenary")
    closed = texts(await admin.tap(closing))
    assert said(language, "The link for {source} is closed: whoever opens it now is told so. "
                "Those who came through it keep their place.", source="amman-plenary") in closed  # fmt: skip

    late = hiwar.user(41_100, "Late", language)
    refused = texts(await late.send_command(f"/start {code}"))
    assert said(language, "This invitation link has been closed.") in refused
    assert said(language, "Please choose your language.") in refused  # still free to take part
    forged = texts(await late.send_command(f"/start {code[:-2]}xy"))
    assert said(language, "This invitation link is not valid: it may have been copied "
                "incompletely.") in forged  # fmt: skip
    audit = texts(await hiwar.admin("en").send_command("/audit"))
    assert "campaign link closed" in audit and "campaign link created" in audit

    for attempt in ("/campaign new mine", "/campaign new Mine!! many"):  # roles first
        refused = texts(await sara.send_command(attempt))
        assert refused == said(language, "This command is for administrators.")
    await sara.send_command("/delete")
    await sara.tap(said(language, "Yes, erase everything"))
    assert await _ids(hiwar, f"SELECT source FROM responses WHERE user_id = {sara.id}") == []
    assert await _ids(hiwar, f"SELECT arrived_via FROM users WHERE user_id = {sara.id}") == []


@LANGUAGES
async def test_required_links_let_in_only_those_who_came_through_one(hiwar: Harness, language: str):
    """HIWAR_REQUIRE_LINK=1: without a link (or with a forged one) the survey is not asked;
    with one it is."""
    await hiwar.stop()
    hiwar.settings = replace(hiwar.settings, require_link=True)
    await hiwar.start()
    invitation_only = said(
        language,
        "Thank you for your interest. This survey is by invitation: please open the link you "
        "were sent. If you have none, or it no longer works, please ask whoever told you about "
        "the survey.",
    )
    stranger = hiwar.user(42_000, "Stranger", language)
    await stranger.send_command("/start")
    assert texts(await stranger.tap(LANGUAGE_NAMES[language])) == invitation_only
    assert texts(await stranger.send_command("/start in-forgedforgedforged12")).endswith(
        invitation_only
    )
    assert await _ids(hiwar, "SELECT user_id FROM responses") == []
    code = await _link(hiwar.admin(language), "city-network-newsletter")
    guest = hiwar.user(42_001, "Guest", language)
    await _arrive(guest, code, language)
    assert _first_question(language) in texts(await guest.tap(said(language, "I agree")))
    assert await _ids(hiwar, "SELECT source FROM responses") == [("city-network-newsletter",)]
