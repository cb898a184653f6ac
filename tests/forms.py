"""Realistic XLSForms written for the tests, as a KoBoToolbox user would author them.

Each form is built with openpyxl, sheet by sheet, the first row of each sheet its header, so
that row numbers in reports are the rows a person sees in Excel.
"""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook

Sheet = list[list[object]]

EN, AR = "English (en)", "Arabic (ar)"


def workbook(**sheets: Sheet) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    for number, (title, rows) in enumerate(sheets.items()):
        sheet = first if number == 0 else book.create_sheet(title)
        sheet.title = title
        for row in rows:
            sheet.append(row)
    output = BytesIO()
    book.save(output)
    return output.getvalue()


def columns(*names: str) -> list[str]:
    """`label` → `label::English (en)`, `label::Arabic (ar)`; other names as given."""
    expanded: list[str] = []
    for name in names:
        if name.endswith("*"):
            expanded += [f"{name[:-1]}::{EN}", f"{name[:-1]}::{AR}"]
        else:
            expanded.append(name)
    return expanded


AMMAN_DISTRICTS = [
    ("abdali", "Abdali", "العبدلي"),
    ("abu_nseir", "Abu Nseir", "أبو نصير"),
    ("badr", "Badr", "بدر"),
    ("basman", "Basman", "بسمان"),
    ("jubeiha", "Jubeiha", "الجبيهة"),
    ("khraibet", "Khraibet Al-Souq", "خريبة السوق"),
    ("marka", "Marka", "ماركا"),
    ("muqablain", "Muqablain", "المقابلين"),
    ("naour", "Naour", "ناعور"),
    ("qweismeh", "Qweismeh", "القويسمة"),
    ("ras_al_ain", "Ras Al-Ain", "راس العين"),
    ("sweileh", "Sweileh", "صويلح"),
    ("tla_al_ali", "Tla' Al-Ali", "تلاع العلي"),
]
AGREEMENT = [
    ("1", "Strongly disagree", "لا أوافق بشدة"),
    ("2", "Disagree", "لا أوافق"),
    ("3", "Neutral", "محايد"),
    ("4", "Agree", "أوافق"),
    ("5", "Strongly agree", "أوافق بشدة"),
]


def youth_voices() -> bytes:
    """A bilingual youth consultation: consent, a profile group, a district list filtered by
    governorate (13 districts in Amman: two pages), or_other, a calculate that opens a group,
    multiple choice with a constraint, a likert list, a note, a range and a date."""
    header = columns(
        "type", "name", "label*", "hint*", "required", "required_message*", "relevant",
        "constraint", "constraint_message*", "choice_filter", "calculation", "appearance",
        "parameters", "default",
    )  # fmt: skip

    def row(kind: str, name: str, en: str = "", ar: str = "", **cells: str) -> list[object]:
        values = {"type": kind, "name": name, f"label::{EN}": en, f"label::{AR}": ar}
        for key, value in cells.items():
            if key.endswith(("_en", "_ar")):
                key = f"{key[:-3]}::{EN if key.endswith('_en') else AR}"
            values[key] = value
        return [values.get(column) for column in header]

    survey: Sheet = [
        header,
        row("acknowledge", "consent", "I agree to take part in this consultation.",
            "أوافق على المشاركة في هذه المشاورة.", required="yes"),
        row("begin_group", "profile", "About you", "عنك"),
        row("integer", "age", "How old are you?", "كم عمرك؟", required="yes",
            hint_en="In years.", hint_ar="بالسنوات.",
            constraint=". >= 15 and . <= 35",
            constraint_message_en="Please give an age from 15 to 35.",
            constraint_message_ar="يُرجى إدخال عمر بين 15 و35."),
        row("select_one governorate", "gov", "Which governorate do you live in?",
            "في أي محافظة تسكن؟", required="yes"),
        row("select_one district", "district", "Which district?", "في أي لواء؟",
            required="yes", choice_filter="governorate=${gov}"),
        row("select_one role or_other", "role", "What best describes you?",
            "ما الذي يصفك أكثر؟", required="yes"),
        row("end_group", ""),
        row("calculate", "is_adult", calculation="if(${age} >= 18, 'yes', 'no')"),
        row("begin_group", "work", "Your activities", "نشاطاتك", relevant="${is_adult} = 'yes'"),
        row("select_multiple activity", "activities", "Which activities do you take part in?",
            "في أي نشاطات تشارك؟", required="yes", constraint="count-selected(.) <= 3",
            constraint_message_en="Please choose at most three.",
            constraint_message_ar="يُرجى اختيار ثلاثة على الأكثر."),
        row("text", "volunteering", "Where do you volunteer?", "أين تتطوع؟",
            relevant="selected(${activities}, 'volunteering')"),
        row("decimal", "hours", "How many hours a week?", "كم ساعة في الأسبوع؟",
            constraint=". > 0 and . <= 80"),
        row("end_group", ""),
        row("select_one agree", "trust_local", "I trust the local authorities.",
            "أثق بالسلطات المحلية.", required="yes", appearance="likert"),
        row("select_one agree", "trust_national", "I trust the national authorities.",
            "أثق بالسلطات الوطنية.", required="yes", appearance="likert"),
        row("note", "almost", "Almost done: two more questions.", "أوشكنا على الانتهاء: بقي سؤالان."),
        row("range", "hope", "How hopeful do you feel, from 0 to 10?",
            "ما مدى تفاؤلك، من 0 إلى 10؟", required="yes", parameters="start=0 end=10 step=1"),
        row("date", "last_event", "When did you last attend a community event?",
            "متى حضرت آخر فعالية مجتمعية؟", constraint=". <= today()",
            constraint_message_en="That date is in the future.",
            constraint_message_ar="هذا التاريخ في المستقبل."),
        row("text", "comment", "Anything else you want to tell us?", "هل تود إضافة شيء آخر؟"),
    ]  # fmt: skip
    choices: Sheet = [
        ["list_name", "name", f"label::{EN}", f"label::{AR}", "governorate"],
        ["governorate", "amman", "Amman", "عمّان", None],
        ["governorate", "irbid", "Irbid", "إربد", None],
        ["governorate", "zarqa", "Zarqa", "الزرقاء", None],
        *(["district", n, en, ar, "amman"] for n, en, ar in AMMAN_DISTRICTS),
        ["district", "bani_kinana", "Bani Kinana", "بني كنانة", "irbid"],
        ["district", "ramtha", "Ramtha", "الرمثا", "irbid"],
        ["district", "koura", "Koura", "الكورة", "irbid"],
        ["district", "russeifa", "Russeifa", "الرصيفة", "zarqa"],
        ["district", "hashimiyya", "Hashimiyya", "الهاشمية", "zarqa"],
        ["role", "student", "Student", "طالب/ة", None],
        ["role", "employed", "Employed", "موظف/ة", None],
        ["role", "looking", "Looking for work", "أبحث عن عمل", None],
        ["activity", "sports", "Sports", "الرياضة", None],
        ["activity", "arts", "Arts and culture", "الفنون والثقافة", None],
        ["activity", "volunteering", "Volunteering", "التطوع", None],
        ["activity", "religious", "Religious groups", "مجموعات دينية", None],
        ["activity", "online", "Online communities", "مجتمعات على الإنترنت", None],
        *(["agree", n, en, ar, None] for n, en, ar in AGREEMENT),
    ]
    settings: Sheet = [
        ["form_title", "form_id", "version", "default_language"],
        ["Youth voices", "youth_voices", "2025031501", EN],
    ]
    return workbook(survey=survey, choices=choices, settings=settings)


def arabic_only() -> bytes:
    """A short Arabic form with bare `label` columns and no settings sheet: it runs in Arabic
    alone. A required multiple choice with its own required message, skip logic on it, and a
    note."""
    survey: Sheet = [
        ["type", "name", "label", "hint", "required", "required_message", "relevant"],
        ["select_multiple needs", "needs", "ما أكثر ما يحتاجه حيّك؟", "اختر كل ما ينطبق.",
         "yes", "يُرجى اختيار إجابة واحدة على الأقل.", None],
        ["text", "needs_detail", "ما الذي تقترحه لتلبية هذه الحاجات؟", None, "no", None,
         "count-selected(${needs}) > 1"],
        ["note", "bye", "شكرًا لوقتك.", None, None, None, None],
        ["select_one yes_no", "contact", "هل تقبل أن نتواصل معك لاحقًا؟", None, "yes", None, None],
    ]  # fmt: skip
    choices: Sheet = [
        ["list_name", "name", "label"],
        ["needs", "jobs", "فرص عمل"],
        ["needs", "youth_centre", "مركز شبابي"],
        ["needs", "transport", "مواصلات"],
        ["yes_no", "yes", "نعم"],
        ["yes_no", "no", "لا"],
    ]
    return workbook(survey=survey, choices=choices)


def english_only() -> bytes:
    """English labels in one-colon columns (`label:English (en)`) and a French translation
    Hiwar has no interface for; an integer with a default."""
    survey: Sheet = [
        ["type", "name", "label:English (en)", "label:French (fr)", "required", "default"],
        ["integer", "household", "How many people live in your household?",
         "Combien de personnes vivent dans votre foyer ?", "yes", "4"],
        ["select_one yes_no", "school", "Do all children go to school?",
         "Tous les enfants vont-ils à l'école ?", "yes", None],
    ]  # fmt: skip
    choices: Sheet = [
        ["list_name", "name", "label:English (en)", "label:French (fr)"],
        ["yes_no", "yes", "Yes", "Oui"],
        ["yes_no", "no", "No", "Non"],
    ]
    settings: Sheet = [["form_title", "form_id"], ["Household check", "household"]]
    return workbook(survey=survey, choices=choices, settings=settings)


def with_unsupported(*, reads_left_out: bool = False) -> bytes:
    """A KoBo form using what Hiwar cannot run: a repeat, a GPS point, a photo, choices from
    a CSV file, pulldata(), a time. With `reads_left_out`, a question's relevant reads the
    GPS point, so the survey cannot run."""
    survey: Sheet = [
        ["type", "name", "label", "required", "relevant", "calculation"],
        ["text", "name_of_site", "Name of the site", "yes", None, None],  # row 2
        ["geopoint", "location", "Where is the site?", None, None, None],  # row 3
        ["image", "photo", "Take a photo of the site", None, None, None],  # row 4
        ["begin_repeat", "staff", "Staff member", None, None, None],  # row 5
        ["text", "staff_name", "Name", None, None, None],  # row 6
        ["end_repeat", None, None, None, None, None],  # row 7
        ["select_one_from_file sites.csv", "site_code", "Site code", None, None, None],  # 8
        ["calculate", "capacity", None, None, None, "pulldata('sites', 'cap', 'id', ${name_of_site})"],  # 9
        ["time", "opening", "Opening time", None, None, None],  # row 10
        ["start", "start", None, None, None, None],  # row 11
        ["integer", "visitors", "Visitors today", "yes",
         "${location} != ''" if reads_left_out else None, None],  # row 12
    ]  # fmt: skip
    return workbook(survey=survey)
