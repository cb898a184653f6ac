"""Reports over rounds through the real bot over HTTP, on both databases and in both
languages: each round is summarised on its own (a person who answered both is never counted
twice), any round on request, and the change view between two rounds, including a change
that must not be shown because a group is under k in one of the rounds."""

from __future__ import annotations

import pytest

from tests.coordinators import make_coordinator, near, respond, said, shown, texts
from tests.e2e import SHIPPED_SURVEY, Harness

TITLES = {
    "en": ("Before the Amman workshop", "Six months later"),
    "ar": ("قبل ورشة عمّان", "بعد ستة أشهر"),
}
TRUST = "barrier_trust"


async def answered(hiwar: Harness, agree: int, disagree: int, **profile: str) -> None:
    await respond(hiwar, agree, scale={TRUST: 4}, **profile)
    await respond(hiwar, disagree, scale={TRUST: 2}, **profile)


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_each_round_on_its_own_and_the_change_between_them(hiwar: Harness, language: str):
    admin = hiwar.admin(language)
    nour = await make_coordinator(hiwar, language)
    first, second = TITLES[language]
    await admin.send_command(f"/rounds open {first}")
    await answered(hiwar, 4, 6, country="jordan")
    await answered(hiwar, 3, 3, country="iraq", sector="academia")
    await admin.send_command("/rounds close")
    await admin.send_command(f"/rounds open {second}")
    await answered(hiwar, 9, 1, country="jordan")
    # two from academia: a group under k in this round, whose change is not shown
    await answered(hiwar, 1, 1, country="jordan", sector="academia")

    completed = said(language, "Completed responses: {count}", count="")
    current = texts(await nour.send_command("/summary"))
    assert said(language, "Round {number}: “{title}”", number=2, title=second) in current
    assert near(shown(current, completed), 12)  # this round only: never 28
    earlier = texts(await nour.send_command("/summary round=1"))
    assert said(language, "Round {number}: “{title}”", number=1, title=first) in earlier
    assert near(shown(earlier, completed), 16)
    # the group buttons under an earlier round's summary stay in that round
    await nour.tap(said(language, "Country"))
    jordan = SHIPPED_SURVEY.question("country").option("jordan").label.get(language)
    group = texts(await nour.tap(jordan))
    assert said(language, "Round {number}: “{title}”", number=1, title=first) in group
    assert near(shown(group, completed), 10)

    change = texts(await nour.send_command("/change"))
    heading = said(
        language,
        "Change from “{before}” to “{after}”: {group}",
        before=first,
        after=second,
        group=said(language, "all respondents"),
    )
    assert heading in change
    trust = next(
        line for line in change.splitlines() if line.startswith(f"• {TRUST_LABEL[language]}")
    )
    assert said(language, "from {before} to {after}", before="", after="").split()[0] in trust
    assert "95" in trust  # the interval, said in words
    assert TRUST_LABEL[language] in texts(await nour.send_command("/change 1 2 country=jordan"))
    suppressed = texts(await nour.send_command("/change sector=academia"))
    assert (
        said(
            language,
            "This group cannot be shown: it, or what sets it apart from the other groups, "
            "has fewer than {threshold} respondents, so someone could be recognised.",
            threshold=5,
        )
        in suppressed
    )
    unknown = texts(await nour.send_command("/change 1 7"))
    assert (
        said(
            language,
            "The survey has no round with that number. The rounds and their numbers are "
            "listed by /rounds; write for example /summary round=2, or /change 1 2.",
        )
        in unknown
    )
    rows = await hiwar.query("SELECT action, detail FROM audit_log WHERE action = 'change'")
    assert rows[0][1] == "round 1 snapshot 1; round 2 snapshot 1"


TRUST_LABEL = {"en": "Little national–local trust", "ar": "ضعف الثقة المتبادلة"}
