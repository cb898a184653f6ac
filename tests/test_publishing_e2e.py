"""Publishing a survey from the chat, through the real bot over HTTP, on both databases: a
good file previewed and published, bad files refused with their problems, a cancel, and a
respondent who started before a publish finishing the version they began."""

from __future__ import annotations

from bot.core.i18n import use_language
from bot.simulator import SimulatedUser
from bot.survey import engine
from bot.survey.document import dump_yaml
from bot.survey.model import Survey
from bot.survey.xlsform import export_xlsform
from tests import forms
from tests.coordinators import make_coordinator, respond, said, services, shown, visible
from tests.coordinators import texts as texts_of
from tests.e2e import SHIPPED_SURVEY, Harness
from tests.test_survey_e2e import consent, label, press_stale, texts
from tests.test_xlsform import BAD_FILES

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


OLD = SHIPPED_SURVEY.version
NEW = OLD + 1
WITHOUT_COUNTRY = ("country", "country_other")


def without_country(version: int = NEW) -> Survey:
    """The shipped survey, a version later, without the country questions."""
    shipped = SHIPPED_SURVEY
    return Survey(
        shipped.id,
        version,
        shipped.title,
        shipped.introduction,
        tuple(q for q in shipped.questions if q.id not in WITHOUT_COUNTRY),
        shipped.minutes,
    )


def count(number: int) -> str:
    return f"\u2068{number}\u2069"


async def send_yaml(admin: SimulatedUser, survey: Survey, name: str = "survey.yaml"):
    return await admin.send_document(dump_yaml(survey).encode(), name, "application/yaml")


async def versions_of(hiwar: Harness, user_id: int) -> dict[str, int]:
    rows = await hiwar.query(
        f"SELECT survey_id, survey_version FROM responses WHERE user_id = {user_id}"
    )
    return {row[0]: row[1] for row in rows}


async def audit(hiwar: Harness) -> list[tuple[str, str]]:
    rows = await hiwar.query("SELECT action, detail FROM audit_log ORDER BY entry_id")
    return [(row[0], row[1]) for row in rows]


async def test_a_published_version_is_for_new_starters_only(hiwar: Harness):
    early = hiwar.user(3001, "Rami", "en")
    await consent(early, "en")
    await early.tap("A:sector:civil_society")  # started on version 1, now at "level"
    admin = hiwar.admin("en")
    replies = await send_yaml(admin, without_country())
    preview = texts(replies)
    assert "Preview of “\u2068Hiwar: national–local cooperation" in preview
    asked = len(SHIPPED_SURVEY.questions) - len(WITHOUT_COUNTRY)
    assert f"version {count(NEW)}" in preview
    assert f"\u2068العربية\u2069: {count(asked)} questions" in preview
    assert f"\u2068English\u2069: {count(asked)} questions" in preview
    assert "Which sector do you mainly work in?" in preview  # the first card, as it will be
    assert "[National government]" in preview
    assert admin.button_labels() == [label("en", "Publish"), label("en", "Cancel")]
    assert await versions_of(hiwar, 3001) == {"pcve-cooperation": OLD}  # nothing changed yet
    replies = await admin.tap(label("en", "Publish"))
    assert texts(replies).startswith("Published: “\u2068Hiwar")

    late = hiwar.user(3002, "Sara", "en")
    await consent(late, "en")
    await late.tap("A:sector:academia")
    await late.tap("A:level:local")
    assert "How many years" in late.last_text  # version 2: no country question
    await early.tap("A:level:local")
    assert "Which country" in early.last_text  # version 1, as begun
    await early.tap("A:country:jordan")
    assert await versions_of(hiwar, 3001) == {"pcve-cooperation": OLD}
    assert await versions_of(hiwar, 3002) == {"pcve-cooperation": NEW}

    await hiwar.restart()  # the version published from the chat survives a restart
    newest = hiwar.user(3003, "Omar", "en")
    await consent(newest, "en")
    assert await versions_of(hiwar, 3003) == {"pcve-cooperation": NEW}
    replies = await admin.send_command("/surveys")
    listing = texts(replies)
    assert listing.index(f"version {count(NEW)}") < listing.index(f"version {count(OLD)}")
    assert "\u20682\u2069 started, \u20680\u2069 completed" in listing  # version 2: Sara, Omar
    assert "\u20681\u2069 started" in listing  # version 1: Rami
    published = ("survey_published", f"pcve-cooperation version {NEW} (survey.yaml)")
    assert published in await audit(hiwar)


async def test_cancel_publishes_nothing_and_an_old_button_changes_nothing(hiwar: Harness):
    admin = hiwar.admin("ar")
    await send_yaml(admin, without_country())
    preview = max(admin.chat.messages)
    replies = await admin.tap(label("ar", "Cancel"))
    assert texts(replies) == label("ar", "Cancelled: nothing was published.")
    replies = await press_stale(admin, preview, "PU:1:1")  # Publish, on the old preview
    toast = next(a for a in replies if a.method == "answerCallbackQuery")
    assert toast.callback_text == label(
        "ar", "That file was already published or cancelled, so nothing was changed."
    )
    amal = hiwar.user(3004, "Amal", "ar")
    await consent(amal, "ar")
    assert await versions_of(hiwar, 3004) == {"pcve-cooperation": OLD}
    actions = [action for action, _detail in await audit(hiwar)]
    assert "survey_upload_cancelled" in actions and "survey_published" not in actions


async def test_bad_files_are_refused_with_every_problem_and_change_nothing(hiwar: Harness):
    admin = hiwar.admin("en")
    broken = dump_yaml(SHIPPED_SURVEY).replace("type: single_choice", "type: one_choice", 1)
    replies = await admin.send_document(broken.encode(), "broken.yaml", "application/yaml")
    refusal = texts(replies)
    assert refusal.startswith("<b>“\u2068broken.yaml\u2069” cannot be published.")
    assert "sector: type: should be one of: single_choice" in visible(refusal)
    assert "(line 17)" in visible(refusal)
    replies = await send_yaml(admin, SHIPPED_SURVEY, "same.yaml")
    assert f"version {OLD} of survey pcve-cooperation is already published" in visible(
        texts(replies)
    )
    replies = await admin.send_document(b"%PDF-1.4", "notes.pdf", "application/pdf")
    assert "not a survey file" in texts(replies)
    for kind in ("formulas", "password-protected", "zip bomb", "huge"):
        data, reason = BAD_FILES[kind]
        replies = await admin.send_document(data, f"{kind}.xlsx", XLSX)
        assert reason in texts(replies), kind
    fatal = forms.with_unsupported(reads_left_out=True)
    replies = await admin.send_document(fatal, "sites.xlsx", XLSX)
    assert "row 12: relevant: it reads &#x27;location&#x27;" in visible(texts(replies))
    refusals = [d for a, d in await audit(hiwar) if a == "survey_refused"]
    assert len(refusals) == 8 and refusals[0].startswith("broken.yaml: sector: type:")
    replies = await admin.send_command("/surveys")
    assert f"version {count(NEW)}" not in texts(replies)
    sara = hiwar.user(3005, "Sara", "en")
    await consent(sara, "en")
    assert await versions_of(hiwar, 3005) == {"pcve-cooperation": OLD}


async def test_an_xlsform_published_in_arabic_while_someone_is_mid_survey(hiwar: Harness):
    """A different survey altogether (the youth form): new people get it, while whoever was
    answering the shipped survey finishes it."""
    layla = hiwar.user(3006, "Layla", "ar")
    await consent(layla, "ar")
    await layla.tap("A:sector:frontline")
    admin = hiwar.admin("ar")
    replies = await admin.send_document(forms.youth_voices(), "youth.xlsx", XLSX)
    preview = texts(replies)
    assert preview.startswith("<b>معاينة «\u2068Youth voices\u2069»")
    assert "أوافق على المشاركة في هذه المشاورة." in preview  # the first card, in Arabic
    assert f"[{label('ar', 'OK')}]" in preview
    await admin.tap(label("ar", "Publish"))
    await layla.tap("A:level:local")
    assert "A:country:jordan" in [d for row in layla.buttons() for _l, d in row]
    huda = hiwar.user(3007, "Huda", "ar")
    await consent(huda, "ar")
    assert "أوافق على المشاركة في هذه المشاورة." in huda.last_text
    await huda.tap(label("ar", "OK"))
    assert await versions_of(hiwar, 3006) == {"pcve-cooperation": OLD}
    assert await versions_of(hiwar, 3007) == {"youth_voices": 2025031501}
    # what was left out is listed in the preview
    replies = await admin.send_document(forms.with_unsupported(), "sites.xlsx", XLSX)
    with use_language("ar"):
        assert "ما تُرك" in texts(replies)
    assert "الصف 3: تُرك «location» جانبًا" in visible(texts(replies))


async def test_an_arabic_admin_reads_every_problem_in_arabic(hiwar: Harness):
    """Each problem line, not only the heading: the file's own names stay as written, and
    only the words of PyYAML and pyxform (which speak English only) are quoted as they are."""
    admin = hiwar.admin("ar")
    broken = dump_yaml(SHIPPED_SURVEY).replace("type: single_choice", "type: one_choice", 1)
    broken = broken.replace("version: ", "version: -", 1)
    refusal = texts(await admin.send_document(broken.encode(), "broken.yaml", "application/yaml"))
    lines = refusal.splitlines()[1:]
    assert len(lines) == 2 and all(line.startswith("\u200f• ") for line in lines)
    assert visible(lines[0]) == "• version: يجب ألا يقل عن 1 (السطر 2)"
    assert visible(lines[1]).startswith(
        "• sector: type: يجب أن يكون أحد ما يلي: single_choice, multiple_choice"
    )
    fatal = forms.with_unsupported(reads_left_out=True)
    refusal = visible(texts(await admin.send_document(fatal, "sites.xlsx", XLSX)))
    assert "ورقة survey، الصف 12: relevant: يقرأ «location» الذي تُرك جانبًا (الصف 3)" in refusal
    data, _reason = BAD_FILES["formulas"]
    refusal += texts(await admin.send_document(data, "f.xlsx", XLSX))
    assert "يحتوي المصنّف على صيغ حسابية: يُرجى لصق قيمها بدلًا منها" in refusal
    for english in ("should", "sheet,", "row", "line", "it reads", "workbook", "formula"):
        assert english not in refusal, english


async def test_a_document_from_a_respondent_is_not_a_survey(hiwar: Harness):
    sami = hiwar.user(3008, "Sami", "en")
    replies = await sami.send_document(export_xlsform(SHIPPED_SURVEY), "form.xlsx", XLSX)
    assert "I can only read typed text" in texts(replies)
    assert engine.first_question(SHIPPED_SURVEY).id == "sector"


async def test_reports_follow_the_survey_new_respondents_get(hiwar: Harness):
    """A new version of the survey keeps its snapshots; another survey is reported on its
    own, from the moment it is published, and still after a restart."""
    nour = await make_coordinator(hiwar)
    await respond(hiwar, 6)
    summary = texts_of(await nour.send_command("/summary"))
    completed = shown(summary, said("en", "Completed responses: {count}", count=""))
    admin = hiwar.admin("en")
    await send_yaml(admin, without_country())
    await admin.tap(label("en", "Publish"))
    again = texts_of(await nour.send_command("/summary"))  # the same survey, a version on
    assert shown(again, said("en", "Completed responses: {count}", count="")) == completed
    await admin.send_document(forms.youth_voices(), "youth.xlsx", XLSX)
    await admin.tap(label("en", "Publish"))
    assert services(hiwar).reports.survey.id == "youth_voices"
    fewer = said(
        "en",
        "There are fewer than {threshold} completed responses so far. Results are shown "
        "from {threshold} on, so that nobody can be recognised.",
        threshold=5,
    )
    assert fewer in texts_of(await nour.send_command("/summary"))  # not the old survey's
    await hiwar.restart()
    assert services(hiwar).reports.survey.id == "youth_voices"
