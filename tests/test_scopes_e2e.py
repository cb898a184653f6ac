"""Scoped coordinators (issue 14) through the real bot over HTTP, on both databases.

k = 5. An admin's `/grant ID country=jordan` makes a coordinator who sees Jordan only: every
summary, chart, table and comment comes from inside that scope, and a filter outside it is
refused. The attacks: coordinators with overlapping scopes ({Jordan, Iraq} and {Jordan})
and an unscoped one pool what they saw, within one snapshot and across two; the scoped
groups are checked on the same release history as everyone else's, so the pooled views
never isolate fewer than k respondents.
"""

from __future__ import annotations

import csv
import io

import pytest

from bot.core.i18n import use_language
from bot.reports.filters import scope_name
from bot.reports.model import Filter, Scope
from bot.survey.model import ReportRole
from tests.coordinators import (
    make_coordinator,
    near,
    respond,
    said,
    services,
    shown,
    texts,
    visible,
    wait_for_files,
)
from tests.e2e import SHIPPED_SURVEY, Harness

JORDAN = Filter(ReportRole.COUNTRY, "jordan")
GRANT = {"en": "country=jordan", "ar": "الأردن"}
"""The scope as the admin writes it: by option id, or by its label in the admin's language."""
FILTERS = {
    "en": {"iraq": "iraq", "civil_society": "sector=civil_society"},
    "ar": {"iraq": "العراق", "civil_society": "منظمة مجتمع مدني أو منظمة مجتمعية"},
}
SUPPRESSED = "This group cannot be shown"


def _label(language: str, message: str) -> str:
    """What a view writes before a number, in `language` ("Completed responses:")."""
    return said(language, message, count=0).split("0")[0].strip()


def _completed(language: str, text: str) -> int:
    return shown(text, _label(language, "Completed responses: {count}"))


def _words(language: str, scope: Scope) -> str:
    with use_language(language):
        return visible(scope_name(SHIPPED_SURVEY, scope))


def _option(language: str, question: str, option: str) -> str:
    found = SHIPPED_SURVEY.question(question).option(option)
    assert found is not None
    return found.label.get(language)


def _body(text: str) -> str:
    """A summary's figures: without its heading (which names the group as the reader
    asked) and the buttons' prompt."""
    return "\n".join(text.splitlines()[1:]).split("To see one group")[0].strip()


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_a_coordinator_scoped_to_one_country_sees_only_it(hiwar: Harness, language: str):
    nour = await make_coordinator(hiwar, language, scope=GRANT[language])
    everyone = await make_coordinator(hiwar, "en", user_id=2002, name="Huda")
    words = _words(language, Scope.of(JORDAN))
    welcome = said(language, "Your reports cover {scope} only.", scope=words)
    assert welcome in visible(nour.last_text or "")
    for index in range(6):
        await respond(hiwar, 1, country="jordan", scale=5, missing_channel=f"Amman note {index}")
    channels = {"barrier_channels": 4}  # the comment is asked of those who agree with it
    for index in range(6):
        await respond(
            hiwar, 1, country="iraq", sector="law_enforcement", level="national",
            scale=channels, missing_channel=f"Basra note {index}",
        )  # fmt: skip
    for index in range(5):
        await respond(
            hiwar, 1, country="lebanon", scale=channels, missing_channel=f"Tyre note {index}"
        )

    summary = texts(await nour.send_command("/summary"))
    assert words in summary.splitlines()[0]
    dimensions = [said(language, "Sector"), said(language, "Level")]
    assert sorted(nour.button_labels()) == sorted(dimensions)  # no country within Jordan
    await nour.tap(dimensions[0])
    assert nour.button_labels() == [_option(language, "sector", "civil_society")]
    assert near(_completed(language, summary), 6)
    exact = await services(hiwar).reports.build_summary(JORDAN)  # straight from the tallies
    assert exact.respondents == 6
    jordan = texts(await everyone.send_command("/summary country=jordan"))
    if language == "en":  # the same stored view as an unscoped look at Jordan
        assert _body(summary) == _body(jordan)
    assert near(_completed("en", texts(await everyone.send_command("/summary"))), 17)

    outside = texts(await nour.send_command(f"/summary {FILTERS[language]['iraq']}"))
    assert outside == said(
        language,
        "This group is outside what you can see: your reports cover {scope} only. Send "
        "/summary and choose a group with the buttons.",
        scope=words,
    )
    within = texts(await nour.send_command(f"/summary {FILTERS[language]['civil_society']}"))
    assert words in within.splitlines()[0] and near(_completed(language, within), 6)

    comments = texts(await nour.send_command("/comments missing_channel"))
    assert all(f"Amman note {index}" in comments for index in range(6))
    assert "Basra" not in comments and "Tyre" not in comments
    assert "Basra note 0" in texts(await everyone.send_command("/comments missing_channel"))

    await nour.send_command("/tables")
    table = (await wait_for_files(hiwar, nour, "sendDocument", 2))[0].document
    assert table is not None
    groups = {row[0] for row in list(csv.reader(io.StringIO(table.decode("utf-8-sig"))))[1:]}
    assert groups and all(words in visible(group) for group in groups)
    await nour.send_command("/chart")
    assert await wait_for_files(hiwar, nour, "sendPhoto", 1)

    await hiwar.restart()  # the scope is stored with the role
    again = texts(await nour.send_command("/summary"))
    assert words in again.splitlines()[0] and near(_completed(language, again), 6)
    admin = hiwar.admin(language)
    roles = texts(await admin.send_command("/roles"))
    assert said(language, "Sees: {scope}", scope=words) in roles
    assert said(language, "Sees: {scope}", scope=_words(language, Scope())) in roles
    audit = texts(await admin.send_command(f"/audit who={nour.id}"))
    assert "scope country=jordan" in audit


async def test_a_bad_scope_is_refused_in_the_admins_language(hiwar: Harness):
    for language, wrong in (("en", "country=narnia"), ("ar", "نارنيا")):
        reply = texts(await hiwar.admin(language).send_command(f"/grant 4001 {wrong}"))
        assert reply == said(
            language,
            "I do not understand “{text}”. Please send /grant alone for a link you confirm "
            "when someone opens it, or give the person's Telegram id as a number; to limit "
            "what they see, add countries, sectors or levels, for example /grant 12345678 "
            "country=jordan or /grant country=jordan country=iraq.",
            text=wrong,
        )
    made = texts(await hiwar.admin("ar").send_command("/grant 4001 الأردن العراق"))
    assert _words("ar", Scope.of(JORDAN, Filter(ReportRole.COUNTRY, "iraq"))) in made


async def _three_coordinators(hiwar: Harness):  # type: ignore[no-untyped-def]
    """Nour sees everyone; Rami Jordan and Iraq; Dana Jordan only."""
    nour = await make_coordinator(hiwar)
    rami = await make_coordinator(
        hiwar, scope="country=jordan country=iraq", user_id=4001, name="Rami"
    )
    dana = await make_coordinator(hiwar, scope="country=jordan", user_id=4002, name="Dana")
    return nour, rami, dana


async def test_attack_overlapping_scopes_cannot_isolate_one_iraqi(hiwar: Harness):
    """One Iraqi in civil society, among Jordanians and Iraqi police (6 each). Nour (all)
    reads Iraq (7) and law enforcement (12); Dana (Jordan) would read Jordan's law
    enforcement (6): Iraq - law enforcement + Jordan's law enforcement is the one Iraqi.
    Jordan's sectors are decided on the same history as Nour's groups, so Dana is refused
    both of them; Rami's {Jordan, Iraq} civil society is all of civil society, and shown."""
    nour, rami, dana = await _three_coordinators(hiwar)
    await respond(hiwar, 6, country="jordan", sector="civil_society")
    await respond(hiwar, 6, country="jordan", sector="law_enforcement")
    await respond(hiwar, 1, country="iraq", sector="civil_society", scale=1)
    await respond(hiwar, 6, country="iraq", sector="law_enforcement")
    assert near(_completed("en", texts(await nour.send_command("/summary iraq"))), 7)
    police = texts(await nour.send_command("/summary sector=law_enforcement"))
    assert near(_completed("en", police), 12)
    assert SUPPRESSED in texts(await dana.send_command("/summary sector=law_enforcement"))
    assert SUPPRESSED in texts(await dana.send_command("/summary sector=civil_society"))
    assert near(_completed("en", texts(await dana.send_command("/summary"))), 12)
    society = texts(await rami.send_command("/summary sector=civil_society"))
    assert near(_completed("en", society), 7)
    await dana.send_command("/tables")
    table = (await wait_for_files(hiwar, dana, "sendDocument", 2))[0].document
    assert table is not None
    groups = {row[0] for row in list(csv.reader(io.StringIO(table.decode("utf-8-sig"))))[1:]}
    assert "Country: Jordan" in groups and not any("Sector:" in g for g in groups)


async def test_attack_a_scoped_group_stays_in_the_shared_history(hiwar: Harness):
    """Five of each of Jordan and Iraq, civil society and police: Dana (Jordan) reads
    Jordan's police at the first snapshot. One more Jordanian police officer, and four
    Iraqi ones, make a second: Jordan's police now minus before would be that one officer.
    Nothing unscoped tells it (Nour's Jordan is refused; all police grew by five), only
    the scoped group Dana saw before: it is in the shared history, so it is refused now."""
    nour, rami, dana = await _three_coordinators(hiwar)
    for country in ("jordan", "iraq"):
        for sector in ("civil_society", "law_enforcement"):
            await respond(hiwar, 5, country=country, sector=sector)
    police = "/summary sector=law_enforcement"
    assert near(_completed("en", texts(await dana.send_command(police))), 5)
    assert near(_completed("en", texts(await rami.send_command(police))), 10)
    await respond(hiwar, 1, country="jordan", sector="law_enforcement", scale=1)
    await respond(hiwar, 4, country="iraq", sector="law_enforcement")
    assert near(_completed("en", texts(await nour.send_command("/summary"))), 25)
    assert SUPPRESSED in texts(await nour.send_command("/summary jordan"))
    assert SUPPRESSED in texts(await dana.send_command(police))
