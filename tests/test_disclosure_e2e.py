"""The attacks of issue 12, each played by a coordinator through the real bot over HTTP.

k = 5. Each test does what the attacker did and checks that what they see no longer tells
them anything about fewer than k respondents. The single-moment attacks (filters,
complements, sums of siblings) are in test_reports_domain.py; free text that breaks a page
or reads backwards, and the audit chain, are in test_coordinator_e2e.py.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.simulator import FakeBotApi
from tests.coordinators import (
    make_coordinator,
    near,
    respond,
    services,
    shown,
    texts,
    wait_for_files,
)
from tests.e2e import SHIPPED_SURVEY, Harness, make_settings
from tests.respondents import BARRIERS, answers, complete


def _without_snapshot_line(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("Snapshot of"))


async def _countries(nour, command: str = "/summary") -> list[str]:  # type: ignore[no-untyped-def]
    await nour.send_command(command)
    await nour.tap("Country")
    return nour.button_labels()


async def test_attack_1_a_release_never_flips_to_expose_the_rest(hiwar: Harness):
    """Jordan 6, Iraq 6, Lebanon 1: only Jordan can be shown. Later more people answer as
    Iraqis (strangers, or the coordinator's own second accounts): a fresh count would now
    show Iraq and refuse Jordan, and everyone now - Iraq now - Jordan before would be the
    Lebanese respondent's answers."""
    nour = await make_coordinator(hiwar)
    await respond(hiwar, 6, country="jordan")
    await respond(hiwar, 6, country="iraq")
    await respond(hiwar, 1, country="lebanon", scale=1)
    before = texts(await nour.send_command("/summary"))
    assert await _countries(nour) == ["Jordan"]
    await respond(hiwar, 1, country="iraq")  # one more: no new snapshot at all
    assert texts(await nour.send_command("/summary")) == before
    await respond(hiwar, 4, country="iraq")  # k changes: a new snapshot
    after = texts(await nour.send_command("/summary"))
    assert _without_snapshot_line(after) != _without_snapshot_line(before)
    assert near(shown(after, "Completed responses:"), 18)
    assert await _countries(nour) == ["Jordan"]  # still Jordan; Iraq stays refused
    assert "This group cannot be shown" in texts(await nour.send_command("/summary iraq"))


async def test_attack_2_nothing_moves_between_snapshots(hiwar: Harness):
    """Two looks around one person's answers differed by exactly that person: the summary's
    counts ("under way" 0, then fewer than 5, then 0), the comments, the tables."""
    nour = await make_coordinator(hiwar)
    for index in range(5):
        await respond(hiwar, 1, missing_channel=f"Channel {index}: a monthly meeting")
    summary = texts(await nour.send_command("/summary"))
    comments = texts(await nour.send_command("/comments missing_channel"))
    assert "Answers in all: 5" in comments
    await nour.send_command("/tables")
    first_tables = (await wait_for_files(hiwar, nour, "sendDocument", 2))[0].document

    zarqa = "As imam of the only mosque in our quarter of Zarqa, I am never asked"
    survey = services(hiwar).survey
    await survey.choose_language(20_000, "en")  # someone starts: one response under way
    await survey.consent(20_000, agreed=True)
    assert texts(await nour.send_command("/summary")) == summary
    await respond(hiwar, 1, missing_channel=zarqa)  # the imam finishes
    assert texts(await nour.send_command("/summary")) == summary
    assert texts(await nour.send_command("/comments missing_channel")) == comments
    await nour.send_command("/tables")
    again = (await wait_for_files(hiwar, nour, "sendDocument", 4))[2].document
    assert again == first_tables

    await respond(hiwar, 4)  # k changes without comments: a new snapshot, but the imam's
    newer = texts(await nour.send_command("/summary"))  # answer waits for k new ones
    assert _without_snapshot_line(newer) != _without_snapshot_line(summary)
    assert zarqa not in texts(await nour.send_command("/comments missing_channel"))
    for index in range(4):
        await respond(hiwar, 1, missing_channel=f"More channels {index}")
    await respond(hiwar, 1)
    released = texts(await nour.send_command("/comments missing_channel"))
    assert zarqa in released and "Answers in all: 10" in released


async def test_attack_3_padding_cannot_tell_the_real_answer(fake_api: FakeBotApi, tmp_path: Path):
    """Four accounts the coordinator controls answer as Lebanese, all disagreeing: the group
    of five is shown, and the real respondent's answer would be its total minus theirs. The
    view reads the same whether the real respondent agreed with every barrier or not."""

    async def world(real_scale: int) -> list[str]:
        database = tmp_path / f"world-{real_scale}.sqlite3"
        harness = Harness(fake_api, make_settings(fake_api, database), SHIPPED_SURVEY)
        await harness.start()
        try:
            nour = await make_coordinator(harness)
            await respond(harness, 6, country="jordan")
            await respond(harness, 6, country="iraq")
            await respond(harness, 4, country="lebanon", scale=1)  # the puppets
            await respond(harness, 1, country="lebanon", scale=real_scale)
            lebanon = texts(await nour.send_command("/summary lebanon"))
        finally:
            await harness.stop()
        start = lebanon.index("Barriers: how many agree")
        end = lebanon.index("Where local and national respondents differ most")
        return sorted(lebanon[start:end].splitlines())  # ranked by noisy shares

    agreed, disagreed = await world(5), await world(1)
    assert agreed == disagreed
    # Reversed statements score the other way: disagreeing with them is agreeing.
    words = ("almost nobody agrees", "nearly all agree")
    assert sum(any(w in line for w in words) for line in agreed) == len(BARRIERS)
    assert not any("mean" in line for line in agreed if line.startswith("•"))


async def test_attack_3_the_coordinators_own_answers_do_not_count(hiwar: Harness):
    """The coordinator answers as a Lebanese police officer to make a group of five with the
    real one and three others: staff answers are left out, so the group stays too small."""
    nour = await make_coordinator(hiwar)
    await respond(hiwar, 6, country="jordan")
    await respond(hiwar, 6, country="iraq")
    await respond(hiwar, 4, country="lebanon")
    await nour_answers(hiwar, country="lebanon")
    reply = texts(await nour.send_command("/summary lebanon"))
    assert "This group cannot be shown" in reply
    assert near(shown(texts(await nour.send_command("/summary")), "Completed responses:"), 16)


async def nour_answers(hiwar: Harness, **given: object) -> None:
    from tests.coordinators import NOUR_ID
    from tests.respondents import complete

    await complete(services(hiwar).survey, NOUR_ID, answers(**given))  # type: ignore[arg-type]


async def test_attack_4_coordinators_get_tables_never_rows(hiwar: Harness):
    """The consent screen says coordinators see totals: /export (one row a person) is for
    admins; coordinators get the snapshot's tables, the same figures as /summary."""
    nour = await make_coordinator(hiwar)
    await respond(hiwar, 5, country="jordan", level="local", scale=5)
    await respond(hiwar, 5, country="iraq", level="national", scale=2)
    assert "This command is for administrators." in texts(await nour.send_command("/export"))
    await nour.send_command("/tables")
    csv_file, xlsx_file = await wait_for_files(hiwar, nour, "sendDocument", 2)
    assert (csv_file.document_name, xlsx_file.document_name) == (
        "hiwar-tables.csv",
        "hiwar-tables.xlsx",
    )
    assert csv_file.document is not None
    rows = list(csv.reader(io.StringIO(csv_file.document.decode("utf-8-sig"))))
    assert rows[0] == ["Group", "Side", "Question", "Answer", "Respondents", "Share", "Mean"]
    groups = {row[0] for row in rows[1:]}
    assert groups == {"all respondents", "Country: Jordan", "Country: Iraq"} | {
        g for g in groups if g.startswith(("Sector:", "Level:"))
    }
    goals = SHIPPED_SURVEY.question("barrier_goals")  # worded as present: not reversed
    assert goals.short_label is not None and not goals.reversed
    sides = {(row[0], row[1], row[3], row[5]) for row in rows if row[2] == goals.short_label.en}
    assert ("all respondents", "local", "agree", "nearly all") in sides
    assert ("all respondents", "national", "agree", "almost none") in sides
    assert all(row[0] != "all respondents" or row[1] != "(hidden)" for row in rows)


async def test_attack_5_a_unanimous_group_is_said_in_words(hiwar: Harness):
    """"local 100 %, national 0 %" told each member's answer."""
    nour = await make_coordinator(hiwar)
    await respond(hiwar, 5, level="local", scale=5, priorities=("inclusion", "funding"))
    await respond(hiwar, 5, level="national", scale=2, priorities=("inclusion", "coordination"))
    summary = texts(await nour.send_command("/summary"))
    assert "100%" not in summary and " 0%" not in summary
    assert "local nearly all, national almost none" in summary
    ranking = summary[summary.index("What should come first") :]
    assert "Inclusion of local actors: nearly all" in ranking or "nearly all" in ranking


async def test_attack_7_the_audit_names_the_snapshot_and_filters(hiwar: Harness):
    nour = await make_coordinator(hiwar)
    await respond(hiwar, 5)
    await nour.send_command("/summary")
    await nour.send_command("/tables")
    admin = hiwar.admin()
    mine = texts(await admin.send_command("/audit who=2001"))
    entries = [line for line in mine.splitlines() if line.startswith("• ")]
    assert len(entries) == 3 and all("Nour (Telegram id 2001" in e for e in entries)
    assert "tables (snapshot 1)" in entries[0] and "summary (snapshot 1)" in entries[1]
    summaries = texts(await admin.send_command("/audit action=summary"))
    assert [line for line in summaries.splitlines() if line.startswith("• ")] == [entries[1]]
    wrong = texts(await admin.send_command("/audit who=nour"))
    assert "Please write /audit alone" in wrong


async def test_attack_3_with_invitation_links_only_invited_respondents_count(
    fake_api: FakeBotApi, tmp_path: Path
):
    """HIWAR_COUNT_ONLY_INVITED: the admin hands out a campaign link; the four puppets, who
    came without one, are not counted, so the Lebanese group stays too small."""
    settings = make_settings(fake_api, tmp_path / "invited.sqlite3", count_only_invited=True)
    hiwar = Harness(fake_api, settings, SHIPPED_SURVEY)
    await hiwar.start()
    try:
        nour = await make_coordinator(hiwar)
        admin = hiwar.admin()
        reply = texts(await admin.send_command("/campaign new workshop 14"))
        assert "Campaign link for workshop, for 14 people:" in reply
        code = reply.split("?start=")[1].split()[0]
        invited = {"jordan": range(30_000, 30_006), "iraq": range(30_100, 30_106)}
        invited["lebanon"] = range(30_200, 30_201)
        for country, people in invited.items():
            for user_id in people:
                await hiwar.user(user_id, "Invited", "en").send_command(f"/start {code}")
                await complete(services(hiwar).survey, user_id, answers(country=country))
        await respond(hiwar, 4, country="lebanon", scale=1)  # the puppets: no link
        summary = texts(await nour.send_command("/summary"))
        assert near(shown(summary, "Completed responses:"), 13)
        assert "This group cannot be shown" in texts(await nour.send_command("/summary lebanon"))
        late = hiwar.user(30_300, "Late", "en")
        for _attempt in range(2):  # the fourteenth use, then one too many
            replies = texts(await late.send_command(f"/start {code}"))
            late = hiwar.user(late.id + 1, "Late", "en")
        assert "Everyone this invitation link was for has used it." in replies
        assert "Please choose your language." in replies  # taking part is still possible
        refused = texts(await admin.send_command("/campaign new workshop many"))
        assert "Please give how many people the link is for" in refused
    finally:
        await hiwar.stop()
