"""XLSForm in and out: what is imported, what is reported with its row, the round trip, and
`hiwar import-xlsform` / `export-xlsform` as an operator runs them."""

from __future__ import annotations

import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from bot.survey.document import dump_yaml
from bot.survey.loader import DEFAULT_SURVEY_PATH, load_survey
from bot.survey.model import Condition, QuestionType
from bot.survey.sources import read_survey
from bot.survey.xlsform import XlsFormError, export_xlsform, import_xlsform
from bot.survey.xlsform.workbook import MAX_FILE_BYTES
from tests import forms
from tests.e2e import hiwar_command


def problems_of(data: bytes) -> list[str]:
    with pytest.raises(XlsFormError) as caught:
        import_xlsform(data, "form.xlsx")
    return [str(problem) for problem in caught.value.problems if problem.fatal]


# --- importing -------------------------------------------------------------------------------


def test_a_bilingual_kobo_form_becomes_a_survey():
    imported = import_xlsform(forms.youth_voices(), "youth.xlsx")
    survey = imported.survey
    assert imported.problems == []
    assert (survey.id, survey.version, survey.languages) == (
        "youth_voices",
        2025031501,
        ("ar", "en"),
    )
    types = {q.id: q.type for q in survey.questions}
    assert types == {
        "consent": QuestionType.ACKNOWLEDGE,
        "age": QuestionType.NUMBER,
        "gov": QuestionType.SINGLE_CHOICE,
        "district": QuestionType.SINGLE_CHOICE,
        "role": QuestionType.SINGLE_CHOICE,
        "role_other": QuestionType.FREE_TEXT,
        "is_adult": QuestionType.CALCULATE,
        "activities": QuestionType.MULTIPLE_CHOICE,
        "volunteering": QuestionType.FREE_TEXT,
        "hours": QuestionType.NUMBER,
        "trust_local": QuestionType.AGREEMENT_SCALE,  # a likert list is the agreement scale
        "trust_national": QuestionType.AGREEMENT_SCALE,
        "almost": QuestionType.NOTE,
        "hope": QuestionType.NUMBER,
        "last_event": QuestionType.DATE,
        "comment": QuestionType.FREE_TEXT,
    }
    age = survey.question("age")
    assert age.hint is not None and age.hint.ar == "بالسنوات."
    assert age.constraint == ". >= 15 and . <= 35" and not age.optional
    assert age.constraint_message is not None
    assert age.constraint_message.en == "Please give an age from 15 to 35."
    role = survey.question("role")
    assert [o.id for o in role.options][-1] == "other"  # or_other
    assert role.options[-1].label.ar == "أخرى"
    other = survey.question("role_other")
    assert other.show_if == Condition("role", ("other",))
    assert other.text.en == "Please specify:"
    # a group's relevant applies to each of its questions, with their own
    assert survey.question("activities").relevant == "${is_adult} = 'yes'"
    assert survey.question("volunteering").relevant == (
        "(${is_adult} = 'yes') and (selected(${activities}, 'volunteering'))"
    )
    district = survey.question("district")
    assert district.choice_filter == "governorate=${gov}"
    assert dict(district.options[0].filters) == {"governorate": "amman"}
    hope = survey.question("hope")
    assert (hope.min_value, hope.max_value, hope.integer) == (0, 10, True)  # range
    assert survey.question("hours").integer is False  # decimal


def test_a_form_in_arabic_only_runs_in_arabic_alone():
    survey = import_xlsform(forms.arabic_only(), "needs.xlsx").survey
    assert survey.languages == ("ar",)
    needs = survey.question("needs")
    assert needs.required_message is not None
    assert needs.required_message.ar == "يُرجى اختيار إجابة واحدة على الأقل."
    assert survey.question("needs_detail").relevant == "count-selected(${needs}) > 1"


def test_one_colon_columns_and_a_language_hiwar_has_no_interface_for():
    imported = import_xlsform(forms.english_only(), "household.xlsx")
    assert imported.survey.languages == ("en",)
    assert imported.survey.question("household").default == "4"
    assert [str(p) for p in imported.problems] == [
        "survey sheet, row 1: labels in 'French (fr)' are left out (Hiwar speaks Arabic and "
        "English)"
    ]


def test_each_unsupported_construct_is_reported_with_its_row():
    imported = import_xlsform(forms.with_unsupported(), "sites.xlsx")
    assert [q.id for q in imported.survey.questions] == ["name_of_site", "visitors"]
    assert [str(p) for p in imported.problems] == [
        "survey sheet, row 3: 'location' is left out: geographic questions are not supported",
        "survey sheet, row 4: 'photo' is left out: photos and other media are not supported",
        "survey sheet, row 5: 'staff': repeat groups are not supported; it is left out with "
        "its questions",
        "survey sheet, row 8: 'site_code' is left out: choices from a file (*_from_file) are "
        "not supported",
        "survey sheet, row 9: 'capacity' is left out: pulldata() is not supported: it reads a "
        "CSV file attached to the form",
        "survey sheet, row 10: 'opening' is left out: times are not supported (dates are)",
    ]


def test_a_survey_that_cannot_run_without_what_is_left_out_fails():
    assert problems_of(forms.with_unsupported(reads_left_out=True)) == [
        "survey sheet, row 12: relevant: it reads 'location', which is left out (row 3)"
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            ["integer", "age", "Age", ". > = 18"],
            "survey sheet, row 2: age: constraint left out",
        ),
        (
            ["integer", "age", "Age", "search('x')"],
            "survey sheet, row 2: age: constraint left out",
        ),
    ],
)
def test_a_constraint_hiwar_cannot_read_is_left_out_and_said(row, expected):
    data = forms.workbook(survey=[["type", "name", "label", "constraint"], row])
    imported = import_xlsform(data, "form.xlsx")
    assert imported.survey.question("age").constraint is None
    assert (
        str(imported.problems[0])
        .replace("age: ", "", 1)
        .startswith(expected.replace("age: ", "", 1))
    )


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [["text", "a", "A", None], ["text", "b", "B", "${a} > = 1"]],
            "survey sheet, row 3: relevant: '> =' is not an operator: write '>='",
        ),
        (
            [["text", "a", "A", None], ["text", "b", "B", "indexed-repeat(${a}, ${a}, 1)"]],
            "survey sheet, row 3: relevant: indexed-repeat() is not supported: repeats are "
            "not supported",
        ),
    ],
)
def test_a_relevant_hiwar_cannot_run_is_fatal(rows, expected):
    data = forms.workbook(survey=[["type", "name", "label", "relevant"], *rows])
    assert problems_of(data) == [expected]


def test_pyxforms_own_checks_keep_their_row():
    data = forms.workbook(
        survey=[["type", "name", "label"], ["text", "a", "A"], ["select_one nowhere", "q", "Q"]],
        choices=[["list_name", "name", "label"], ["yes_no", "yes", "Yes"]],
    )
    (problem,) = problems_of(data)
    assert problem.startswith("survey sheet, row 3: ") and "nowhere" in problem


def test_telegram_limits_are_checked_on_import():
    """A choice name too long for a button's 64 bytes of data is refused with its row; a
    long list is accepted (it is shown a page at a time)."""
    long_name = "x" * 40
    choices = [["list_name", "name", "label"], ["l", long_name, "X"], ["l", "y", "Y"]]
    data = forms.workbook(
        survey=[["type", "name", "label"], ["select_one l", "q", "Q"]], choices=choices
    )
    assert problems_of(data) == [
        "choices sheet, row 2: id: should have at most 32 characters"
    ]
    many = [["list_name", "name", "label"], *(["l", f"o{n}", f"Option {n}"] for n in range(150))]
    data = forms.workbook(
        survey=[["type", "name", "label"], ["select_one l", "q", "Q"]], choices=many
    )
    assert len(import_xlsform(data, "f.xlsx").survey.question("q").options) == 150


def test_an_answer_inside_a_label_is_said_to_stay_as_written():
    data = forms.workbook(
        survey=[
            ["type", "name", "label"],
            ["text", "name", "Your name?"],
            ["note", "hello", "Welcome, ${name}!"],
        ]
    )
    imported = import_xlsform(data, "f.xlsx")
    assert imported.survey.question("hello").text.en == "Welcome, ${name}!"
    assert [str(p) for p in imported.problems] == [
        "survey sheet, row 3: the label shows ${…} as written: Hiwar does not put answers "
        "into texts"
    ]


def test_names_become_hiwar_ids_and_expressions_follow():
    data = forms.workbook(
        survey=[
            ["type", "name", "label", "relevant"],
            ["integer", "What_Is_Your_Age", "Age", None],
            ["text", "why", "Why?", "${What_Is_Your_Age} > 17"],
        ]
    )
    survey = import_xlsform(data, "f.xlsx").survey
    assert [q.id for q in survey.questions] == ["what_is_your_age", "why"]
    assert survey.question("why").relevant == "${what_is_your_age} > 17"


# --- bad files -------------------------------------------------------------------------------


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    output = BytesIO()
    with zipfile.ZipFile(output, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return output.getvalue()


def with_formula() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["type", "name", "label"])
    sheet.append(["text", "a", '=CONCAT("A", "B")'])
    output = BytesIO()
    book.save(output)
    return output.getvalue()


BAD_FILES = {
    "not a workbook": (b"type,name,label\ntext,a,A\n", "not an Excel workbook (.xlsx)"),
    "password-protected": (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
        "password-protected or in the old .xls format",
    ),
    "huge": (b"PK" + bytes(MAX_FILE_BYTES + 1), "too large"),
    "zip bomb": (
        zip_of({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": bytes(40_000_000)}),
        "zip bomb",
    ),
    "macros": (
        zip_of({"xl/workbook.xml": b"<workbook/>", "xl/vbaProject.bin": b"\x00" * 100}),
        "contains macros",
    ),
    "formulas": (with_formula(), "contains formulas"),
    "zip, not a workbook": (zip_of({"word/document.xml": b"<w/>"}), "not an Excel workbook"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_files_are_refused_with_one_line(kind: str):
    data, reason = BAD_FILES[kind]
    (problem,) = problems_of(data)
    assert reason in problem and "\n" not in problem


@pytest.mark.parametrize("kind", ["not a workbook", "password-protected", "huge", "formulas"])
async def test_import_xlsform_refuses_bad_files_with_exit_2_and_no_traceback(
    tmp_path: Path, kind: str
):
    data, reason = BAD_FILES[kind]
    (tmp_path / "form.xlsx").write_bytes(data)
    finished = await hiwar_command("import-xlsform", {}, tmp_path, "form.xlsx")
    assert finished.code == 2
    assert reason in finished.err and "Traceback" not in finished.err
    assert finished.err.count("hiwar: error:") == 1


# --- the command line ------------------------------------------------------------------------


async def test_import_xlsform_writes_a_survey_file_that_hiwar_runs(tmp_path: Path):
    (tmp_path / "sites.xlsx").write_bytes(forms.with_unsupported())
    finished = await hiwar_command("import-xlsform", {}, tmp_path, "sites.xlsx", "-o", "s.yaml")
    assert finished.code == 0, finished.err
    lines = finished.err.splitlines()
    assert lines[0] == (
        "sites.xlsx: survey sheet, row 3: 'location' is left out: geographic questions are "
        "not supported"
    )
    assert lines[-1].startswith("sites.xlsx: OK, survey 'sites' version 1, 2 questions in en")
    checked = await hiwar_command("check-survey", {}, tmp_path, "s.yaml")
    assert checked.code == 0 and "2 questions" in checked.out
    fatal = tmp_path / "fatal.xlsx"
    fatal.write_bytes(forms.with_unsupported(reads_left_out=True))
    failed = await hiwar_command("import-xlsform", {}, tmp_path, fatal.name)
    assert failed.code == 2 and "row 12: relevant: it reads 'location'" in failed.err


async def test_export_xlsform_and_hiwar_survey_as_a_workbook(tmp_path: Path):
    finished = await hiwar_command("export-xlsform", {}, tmp_path, "-o", "shipped.xlsx")
    assert finished.code == 0, finished.err
    assert read_survey(tmp_path / "shipped.xlsx") == load_survey(DEFAULT_SURVEY_PATH)
    checked = await hiwar_command("check-survey", {}, tmp_path, tmp_path / "shipped.xlsx")
    assert checked.code == 0 and "'pcve-cooperation'" in checked.out
    # `hiwar run` reads HIWAR_SURVEY as a workbook too: a bad one stops it with one line
    (tmp_path / "bad.xlsx").write_bytes(BAD_FILES["formulas"][0])
    env = {"HIWAR_SURVEY": str(tmp_path / "bad.xlsx"), "HIWAR_BOT_TOKEN": "1:x"}
    run = await hiwar_command("run", env, tmp_path)
    assert run.code == 2 and "contains formulas" in run.err and "Traceback" not in run.err


# --- the way back ----------------------------------------------------------------------------


def test_the_shipped_survey_survives_yaml_to_xlsform_to_yaml(tmp_path: Path):
    shipped = load_survey(DEFAULT_SURVEY_PATH)
    workbook = export_xlsform(shipped)
    back = import_xlsform(workbook, "shipped.xlsx")
    assert back.problems == []
    assert back.survey == shipped
    (tmp_path / "back.yaml").write_text(dump_yaml(back.survey), encoding="utf-8")
    assert load_survey(tmp_path / "back.yaml") == shipped
    assert dump_yaml(load_survey(tmp_path / "back.yaml")) == dump_yaml(shipped)


@pytest.mark.parametrize("form", ["youth_voices", "arabic_only", "english_only"])
def test_an_imported_form_survives_xlsform_to_yaml_and_back(tmp_path: Path, form: str):
    survey = import_xlsform(getattr(forms, form)(), f"{form}.xlsx").survey
    again = import_xlsform(export_xlsform(survey), f"{form}.xlsx").survey
    assert again == survey
    (tmp_path / "s.yaml").write_text(dump_yaml(survey), encoding="utf-8")
    assert load_survey(tmp_path / "s.yaml") == survey


def test_hiwar_only_fields_travel_in_hiwar_columns():
    from openpyxl import load_workbook

    book = load_workbook(BytesIO(export_xlsform(load_survey(DEFAULT_SURVEY_PATH))))
    survey_header = [cell.value for cell in book["survey"][1]]
    choices_header = [cell.value for cell in book["choices"][1]]
    assert {"hiwar::report", "hiwar::short_label::Arabic (ar)", "hiwar::max_length"} <= set(
        survey_header
    )
    assert {"hiwar::side", "hiwar::opt_in"} <= set(choices_header)
    # Hiwar's limits are also a constraint, so that ODK Collect enforces them too
    years = next(row for row in book["survey"].iter_rows(values_only=True) if row[1] == "years")
    assert ". >= 0 and . <= 60" in years
