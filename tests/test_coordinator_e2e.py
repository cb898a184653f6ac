"""Coordinators and admins over real HTTP: the PTB Application polling the fake Bot API.

Respondents are written through the running bot's own survey service (the respondent flow
has its own end-to-end tests); everything a coordinator or an admin does goes over HTTP.
"""

from __future__ import annotations

import csv
import io
import logging
import re

import pytest
from openpyxl import load_workbook

from bot.core.text import visible_length
from tests.coordinators import (
    ADMIN_COMMANDS,
    COORDINATOR_COMMANDS,
    NOUR_ID,
    SAMI_ID,
    make_coordinator,
    near,
    respond,
    said,
    shown,
    texts,
    visible,
    wait_for_files,
)
from tests.e2e import ADMIN_ID, Harness, hiwar_command
from tests.respondents import column_name

# -- roles ----------------------------------------------------------------------------------


async def test_an_invitation_link_works_once_and_before_the_respondent_start(hiwar: Harness):
    admin = hiwar.admin()
    replies = await admin.send_command(f"/grant {NOUR_ID}")
    link = replies[-1].rendered_text or ""
    assert link.startswith(f"https://t.me/{hiwar.application.bot.username}?start=grant-")
    assert "UTC" in texts(replies)
    code = link.split("start=")[1]

    nour = hiwar.user(NOUR_ID, "Nour", "en")
    welcome = await nour.send_command(f"/start {code}")
    assert texts(welcome) == said(
        "en",
        "Welcome! You are now a coordinator of this consultation. Send /summary to see the "
        "results, or /reports for all your commands.",
    )
    assert not any(a.buttons for a in welcome)  # no language choice: /start was intercepted
    late = hiwar.user(2002, "Karim", "ar")
    assert texts(await late.send_command(f"/start {code}")) == said(
        "ar",
        "This invitation link has already been used. Please ask an administrator for a new one.",
    )
    made_up = await late.send_command("/start grant-abcdefghijklmnopqrstuvwx")
    assert "غير صالح" in texts(made_up)

    roles = texts(await admin.send_command("/roles"))
    assert "Nour (Telegram id 2001)" in roles and "Telegram id 900001" in roles
    help_text = texts(await nour.send_command("/reports"))
    assert "/summary" in help_text and "/grant" not in help_text
    assert "/grant" in texts(await admin.send_command("/reports"))


async def test_revoke_with_a_button_takes_access_away(hiwar: Harness):
    nour = await make_coordinator(hiwar)
    admin = hiwar.admin()
    await admin.send_command("/revoke")
    assert admin.button_labels() == ["Nour"]
    done = await admin.tap("Nour")
    assert texts(done) == said("en", "{name} is no longer a coordinator.", name="Nour")
    refusal = texts(await nour.send_command("/summary"))
    assert "for the coordinators of this consultation" in refusal


@pytest.mark.parametrize("command", COORDINATOR_COMMANDS + ADMIN_COMMANDS)
async def test_others_get_a_refusal_and_nothing_about_the_data(hiwar: Harness, command: str):
    await respond(hiwar, 6, one_step="a shared early-warning channel")
    sami = hiwar.user(SAMI_ID, "Sami", "en")
    replies = await sami.send_command(command)
    expected = (
        "This command is for administrators."
        if command in ADMIN_COMMANDS
        else "This command is for the coordinators of this consultation. If you coordinate "
        "it, ask an administrator for an invitation link."
    )
    assert [a.method for a in replies] == ["sendMessage"]
    assert texts(replies) == said("en", expected)
    assert not replies[0].buttons


async def test_coordinators_cannot_use_admin_commands(hiwar: Harness):
    nour = await make_coordinator(hiwar)
    for command in ADMIN_COMMANDS:
        assert texts(await nour.send_command(command)) == said(
            "en", "This command is for administrators."
        )


async def test_audit_lists_every_staff_action_newest_first(hiwar: Harness):
    nour = await make_coordinator(hiwar)
    await respond(hiwar, 5)
    await nour.send_command("/summary")
    await nour.send_command("/summary country=iraq")
    await hiwar.user(SAMI_ID, "Sami").send_command("/summary")  # refusals are not logged
    log = texts(await hiwar.admin().send_command("/audit")).splitlines()
    entries = [line for line in log if line.startswith("• ")]
    assert "Admin (Telegram id 900001, admin): audit log" in entries[0]
    assert "Nour (Telegram id 2001, coordinator): summary (country=iraq; snapshot 1)" in entries[1]
    assert "Nour (Telegram id 2001, coordinator): summary" in entries[2]
    assert "became a coordinator" in entries[3]
    assert "invitation link created" in entries[4]
    assert not any("3001" in line for line in log)


# -- summaries ------------------------------------------------------------------------------


@pytest.mark.parametrize(("completed", "released"), [(4, False), (5, True), (6, True)])
async def test_summary_appears_at_the_threshold(hiwar: Harness, completed: int, released: bool):
    nour = await make_coordinator(hiwar)
    await respond(hiwar, completed)
    reply = texts(await nour.send_command("/summary"))
    if released:
        assert near(shown(reply, "Completed responses:"), completed)
    else:
        assert reply == said(
            "en",
            "There are fewer than {threshold} completed responses so far. Results are shown "
            "from {threshold} on, so that nobody can be recognised.",
            threshold=5,
        )
        assert str(completed) not in reply


async def test_filter_by_buttons_by_text_and_a_suppressed_group(hiwar: Harness):
    nour = await make_coordinator(hiwar)
    await respond(hiwar, 5, country="jordan", level="local", scale=5)
    await respond(hiwar, 5, country="jordan", level="national", scale=2)
    await respond(hiwar, 6, country="iraq", level="local")
    await respond(hiwar, 2, country="lebanon", level="local")
    everyone = await nour.send_command("/summary")
    assert near(shown(texts(everyone), "Completed responses:"), 18)
    assert nour.button_labels() == ["Country", "Sector", "Level"]
    await nour.tap("Country")
    assert nour.button_labels() == ["Jordan"]  # Iraq would give away Lebanon by subtraction
    jordan = texts(await nour.tap("Jordan"))
    assert "Summary: Country: Jordan" in jordan
    assert near(shown(jordan, "Completed responses:"), 10)
    assert near(shown(jordan, "Local respondents:"), 5)
    assert near(shown(jordan, "national respondents:"), 5)
    # Every local respondent agrees and no national one does: shown in words, not as 100%/0%.
    assert "local nearly all, national almost none; local respondents agree more" in jordan
    assert "100%" not in jordan and " 0%" not in jordan
    assert "Jordan" in texts(await nour.send_command("/summary الأردن"))
    for hidden in ("/summary country=lebanon", "/summary iraq"):
        assert "This group cannot be shown" in texts(await nour.send_command(hidden))
    unknown = texts(await nour.send_command("/summary atlantis"))
    assert "I do not know the group “atlantis”" in unknown


async def test_a_deletion_leaves_the_next_snapshot_not_the_current_one(hiwar: Harness):
    """Live numbers moved with each deletion, which told when someone left and what they had
    answered; a snapshot changes only once k responses were completed or deleted."""
    nour = await make_coordinator(hiwar)
    ids = await respond(hiwar, 6)
    first = texts(await nour.send_command("/summary"))
    assert near(shown(first, "Completed responses:"), 6)
    leaving = hiwar.user(ids[0], "Leaving", "en")
    await leaving.send_command("/delete")
    await leaving.tap(said("en", "Yes, erase everything"))
    assert texts(await nour.send_command("/summary")) == first
    await respond(hiwar, 3)
    assert texts(await nour.send_command("/summary")) == first  # 4 changes: not yet
    await respond(hiwar, 1)
    second = texts(await nour.send_command("/summary"))
    assert second != first and near(shown(second, "Completed responses:"), 9)


@pytest.mark.parametrize("language", ["ar", "en"])
async def test_summary_and_charts_in_the_coordinators_language(hiwar: Harness, language: str):
    nour = await make_coordinator(hiwar, language)
    await respond(hiwar, 5, level="local", scale=5, formats=["workshops"])
    await respond(hiwar, 5, level="national", scale=2, invitations="no")
    replies = await nour.send_command("/summary")
    summary = texts(replies)
    first_line = summary.splitlines()[0]
    if language == "ar":
        assert first_line == "ملخص: جميع المشاركين"
        assert near(shown(summary, "الردود المكتملة:"), 10)
        assert "أبرز مواطن التباين بين المستويين المحلي والوطني" in summary
        # Issue #15: «الوطنيون» means "nationalists"; the sides are named by their level.
        assert "ويوافق المشاركون من المستوى المحلي أكثر بفارق" in summary
        # The reversed statements ("there is mutual trust"…) turn the other way round.
        assert "ويوافق المشاركون من المستوى الوطني أكثر بفارق" in summary
        assert "الوطنيون" not in summary and "المحليون" not in summary
        # Unanimous sides are said in words (issue #12, the dominance rule).
        assert "الجميع تقريبًا" in summary and "لا أحد تقريبًا" in summary
        assert nour.button_labels() == ["المستوى", "القطاع", "البلد"]  # mirrored row
    else:
        assert first_line == "Summary: all respondents"
        assert "Where local and national respondents differ most" in summary
        assert near(shown(summary, "Would like to be invited:"), 5)
        assert nour.button_labels() == ["Country", "Sector", "Level"]
    # Telegram counts the text once its HTML is parsed: tags and entities are not characters.
    assert all(visible_length(a.text or "") <= 4096 for a in replies)
    await nour.send_command("/chart")
    photos = await wait_for_files(hiwar, nour, "sendPhoto", 2)
    assert all(p.photo and p.photo.startswith(b"\x89PNG") for p in photos)


async def test_comments_come_in_pages_only_above_the_threshold(hiwar: Harness):
    nour = await make_coordinator(hiwar)
    await respond(hiwar, 4, grievances="Youth unemployment")
    for index in range(8):
        await respond(hiwar, 1, one_step=f"Step {index}: " + "monthly meetings " * 50)
    listing = texts(await nour.send_command("/comments"))
    assert "Fewer than 5 answers, so they are not shown." in listing
    assert "Answers: 8" in listing
    assert len(nour.button_labels()) == 1
    assert "fewer than 5 answers" in texts(await nour.send_command("/comments grievances"))
    first = texts(await nour.tap(nour.button_labels()[0]))
    assert "Page 1 of 3." in first and "Step 0:" in first and "Step 7:" not in first
    assert nour.button_labels() == ["Next page"]
    second = texts(await nour.tap("Next page"))
    assert "Page 2 of 3." in second
    assert nour.button_labels() == ["Previous page", "Next page"]
    last = texts(await nour.tap("Next page"))
    assert "Page 3 of 3." in last and "Step 7:" in last
    assert nour.button_labels() == ["Previous page"]
    assert "10000" not in first + second + last  # no Telegram ids, codes or profiles


async def test_export_files_open_back_cell_by_cell(hiwar: Harness):
    nour = await make_coordinator(hiwar)
    await respond(hiwar, 5, sector="frontline", level="local", scale=4, formats=["workshops"])
    refusal = texts(await nour.send_command("/export"))  # one row a person: admins only
    assert refusal == said("en", "This command is for administrators.")
    admin = hiwar.admin()
    await admin.send_command("/export")
    csv_file, xlsx_file = await wait_for_files(hiwar, admin, "sendDocument", 2)
    assert (csv_file.document_name, xlsx_file.document_name) == (
        "hiwar-answers.csv",
        "hiwar-answers.xlsx",
    )
    assert "Completed responses: 5" in visible(xlsx_file.rendered_text or "")
    assert csv_file.document is not None and xlsx_file.document is not None
    assert csv_file.document.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(csv_file.document.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(xlsx_file.document))["Responses"]
    cells = [["" if c.value is None else str(c.value) for c in row] for row in sheet.iter_rows()]
    assert cells == rows
    header = rows[0]
    survey = hiwar.survey

    def name(question_id: str, option_id: str = "") -> str:
        return column_name(survey, question_id, "en", option_id)

    assert header[:4] == [
        "Respondent code",
        name("sector"),
        name("level"),
        name("country"),
    ]
    stored = {row[0] for row in await hiwar.query("SELECT respondent_code FROM responses")}
    expected = {
        name("sector"): survey.question("sector").option("frontline").label.en,
        name("level"): survey.question("level").option("local").label.en,
        name("country"): survey.question("country").option("jordan").label.en,
        name("barrier_trust"): "2",  # answered 4 to "there is mutual trust": reverse-coded
        name("formats", "workshops"): "1",
        name("formats", "training"): "0",
        name("invitations"): survey.question("invitations").option("yes").label.en,
        name("years"): "",
    }
    codes = [row[0] for row in rows[1:]]
    assert len(codes) == 5 and not stored & set(codes)  # codes made afresh for this export
    for row in rows[1:]:
        record = dict(zip(header, row, strict=True))
        assert {column: record[column] for column in expected} == expected


# -- one Telegram layer: menus, audit, replayed taps -----------------------------------------


def menu(hiwar: Harness, chat_id: int | None, language: str = "") -> list[str]:
    scope = {"type": "chat", "chat_id": chat_id} if chat_id is not None else None
    return [c["command"] for c in hiwar.api.get_commands(scope, language)]


async def test_menus_follow_the_role_they_are_for(hiwar: Harness):
    everyone = menu(hiwar, None)
    assert "start" in everyone and "summary" not in everyone and "grant" not in everyone
    admin_menu = menu(hiwar, ADMIN_ID, "ar")
    assert {"start", "summary", "grant", "invite"} <= set(admin_menu)
    assert menu(hiwar, NOUR_ID) == []
    await make_coordinator(hiwar, "ar")
    coordinator_menu = menu(hiwar, NOUR_ID, "ar")
    assert {"start", "summary", "comments"} <= set(coordinator_menu)
    assert not {"grant", "invite", "export"} & set(coordinator_menu)
    await hiwar.admin().send_command(f"/revoke {NOUR_ID}")
    assert menu(hiwar, NOUR_ID, "ar") == menu(hiwar, NOUR_ID) == []


async def test_help_lists_the_commands_of_the_role(hiwar: Harness):
    sami = texts(await hiwar.user(SAMI_ID, "Sami", "en").send_command("/help"))
    assert "/mydata" in sami and "/unsubscribe" in sami and "/summary" not in sami
    admin = texts(await hiwar.admin().send_command("/help"))
    assert all(c in admin for c in ("/mydata", "/summary", "/grant", "/invite"))


async def test_invitation_admin_actions_are_in_the_audit_log(hiwar: Harness):
    admin = hiwar.admin()
    await admin.send_command("/invite")
    await admin.tap("Cancel")
    await admin.send_command("/invitations")
    log = texts(await admin.send_command("/audit"))
    for action in ("invitation wizard opened", "invitation discarded", "list of invitations"):
        assert said("en", action) in log, action
    sami = hiwar.user(SAMI_ID, "Sami", "en")
    assert "administrators" in texts(await sami.send_command("/invite"))
    assert "Sami" not in texts(await admin.send_command("/audit"))  # refusals are not logged


async def test_a_replayed_coordinator_tap_is_served_without_an_apology(hiwar: Harness):
    """Taps used to be answered first: one replayed after a crash (too old to answer) ended
    in a generic apology instead of its result."""
    nour = await make_coordinator(hiwar)
    await respond(hiwar, 6)
    await nour.send_command("/summary")
    replies = await nour.tap("Country", answerable=False)
    assert said("en", "Choose a group:") in texts(replies)
    assert not any("went wrong" in (a.text or "") for a in nour.messages)
    assert "answerCallbackQuery" not in [a.method for a in replies]  # too old to answer


async def test_malformed_and_forged_input_gets_polite_replies_and_no_log_of_contents(
    hiwar: Harness, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    mallory = hiwar.user(SAMI_ID, "Mallory Secretname", "en")
    await make_coordinator(hiwar)
    for command in (
        "/summary <b>secret-words",
        "/revoke 99999999999999999999999",
        "/comments x y z",
    ):
        replies = await mallory.send_command(command)
        assert texts(replies) == said(
            "en",
            "This command is for the coordinators of this consultation. If you coordinate it, "
            "ask an administrator for an invitation link.",
        ) or "administrators" in texts(replies)
    for forged in ("Kr:99999999999999999999999", "Kc:q:x", "A:secret-words:1", "zz:secret-words"):
        query = {
            "id": hiwar.api.new_callback_query_id(),
            "from": mallory.user_json,
            "message": {"message_id": 1, "chat": {"id": SAMI_ID, "type": "private"}, "date": 0},
            "chat_instance": "1",
            "data": forged,
        }
        await mallory.send_update("callback_query", query, expect_reply=False)
    nour = hiwar.user(NOUR_ID, "Nour", "en")
    replies = await nour.send_command("/comments secret-words 99999999999999999999")
    assert "no free-text answers" in texts(replies)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in ("secret-words", "Secretname", hiwar.api.token):
        assert secret not in logged
    assert "update_failed" not in logged  # nothing above was a bug


async def test_planted_comments_can_neither_break_a_page_nor_mislead(hiwar: Harness):
    """Regressions: an answer of `&`s escaped past Telegram's limit and its page was lost;
    line breaks made fake bullets; a U+202E made an answer read backwards."""
    nour = await make_coordinator(hiwar)
    planted = [
        "a" + "&" * 999,
        "fine\n• The coordinator agrees with me\n• so does everyone",
        "\u202eNOITISOPPO EHT HTIW SKROW RUON",
        "A shared early-warning channel",
        "Monthly meetings",
    ]
    for words in planted:
        await respond(hiwar, 1, grievances=words)
    replies = await nour.send_command("/comments grievances")
    pages = [replies]
    while "Next page" in nour.button_labels():
        pages.append(await nour.tap("Next page"))
    shown = [a for page in pages for a in page if a.text]
    assert not nour.chat.errors  # every page was accepted
    assert all(len(a.rendered_text or "") <= 4096 for a in shown)  # as Telegram counts
    text = "\n".join(a.rendered_text or "" for a in shown)
    assert "\u202e" not in text and "\n• The coordinator" not in text
    bullets = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(bullets) == len(planted)  # one line per answer, however it was typed


async def test_audit_pages_and_verify_audit_see_a_tampered_entry(hiwar: Harness, tmp_path):
    admin = hiwar.admin()
    for _look in range(32):
        await admin.send_command("/reports")
    first = texts(await admin.send_command("/audit"))
    assert "Page 1 of 2" in first and admin.button_labels() == ["Older entries"]
    older = texts(await admin.tap("Older entries"))
    assert "Page 2 of 2" in older
    code, out = await verify_audit(hiwar, tmp_path)
    assert code == 0 and "intact" in out
    await hiwar.query("UPDATE audit_log SET actor_name = 'Someone else' WHERE entry_id = 5")
    code, out = await verify_audit(hiwar, tmp_path)
    assert code == 1 and "entry 5" in out
    assert "altered at entry 5" in texts(await admin.send_command("/audit"))


async def verify_audit(hiwar: Harness, cwd) -> tuple[int, str]:
    finished = await hiwar_command(
        "verify-audit", {"HIWAR_DATABASE_URL": hiwar.settings.database}, cwd
    )
    return finished.code, finished.out


async def test_an_unbound_link_is_confirmed_by_the_admin_in_the_chat(hiwar: Harness):
    admin = hiwar.admin()
    await admin.send_command(
        "/grant", until=lambda sent: any("start=" in (a.text or "") for a in sent)
    )
    code = re.search(r"\?start=(grant-[\w-]+)", admin.last_text or "").group(1)
    karim = hiwar.user(2002, "Karim", "ar")
    waiting = await karim.send_command(f"/start {code}")
    assert texts(waiting) == said(
        "ar",
        "Thank you. The administrator who sent you this link will confirm it; you will get a "
        "message here.",
    )
    assert "Karim (Telegram id 2002)" in visible(admin.last_text or "")
    refused = texts(await karim.send_command("/summary"))  # not yet a coordinator
    assert refused == said(
        "ar",
        "This command is for the coordinators of this consultation. If you coordinate it, "
        "ask an administrator for an invitation link.",
    )
    await admin.tap("Yes, make them a coordinator")
    assert said(
        "ar",
        "Welcome! You are now a coordinator of this consultation. Send /summary "
        "to see the results, or /reports for all your commands.",
    ) in visible(karim.last_text or "")
    log = texts(await admin.send_command("/audit"))
    assert "coordinator confirmed" in log
    assert texts(await admin.send_command("/grant bad")) == said(
        "en",
        "I do not understand “{text}”. Please send /grant alone for a link you confirm when "
        "someone opens it, or give the person's Telegram id as a number; to limit what they "
        "see, add countries, sectors or levels, for example /grant 12345678 country=jordan "
        "or /grant country=jordan country=iraq.",
        text="bad",
    )
