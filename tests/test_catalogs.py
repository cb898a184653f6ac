"""Meta-tests: every message in the code has an Arabic and an English translation with the
same placeholders, every command of every feature has help text, and Arabic plurals have six
forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from telegram.ext import ApplicationBuilder, CommandHandler

from bot.app import FEATURES
from bot.core.i18n import LANGUAGES, LOCALES_DIR, _, _n, use_language
from bot.survey.errors import TextTooLong
from bot.survey.messages import ERRORS
from handlers.base.feature import all_commands

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")
KEYWORDS = {"_": None, "_n": (1, 2), "N_": None}


def extracted() -> dict[str, tuple[str, ...]]:
    """msgid → all its source strings (singular and plural), straight from the code."""
    found: dict[str, tuple[str, ...]] = {}
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            strings = (message,) if isinstance(message, str) else tuple(message)
            found[strings[0]] = strings
    return found


def catalog_entries(language: str) -> dict[str, object]:
    entries: dict[str, object] = {}
    for po_path in sorted((LOCALES_DIR / language / "LC_MESSAGES").glob("*.po")):
        with po_path.open("rb") as po_file:
            for message in read_po(po_file, locale=language):
                if message.id and not message.fuzzy:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    entries[key] = message.string
    return entries


MESSAGES = extracted()


def test_messages_are_extracted():
    assert len(MESSAGES) > 50


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders(language):
    entries = catalog_entries(language)
    problems = []
    for msgid, sources in MESSAGES.items():
        if msgid not in entries:
            problems.append(f"missing: {msgid!r}")
            continue
        translated = entries[msgid]
        forms = (translated,) if isinstance(translated, str) else tuple(translated)
        expected_forms = 6 if language == "ar" and len(sources) > 1 else len(sources)
        if len(forms) != expected_forms or not all(f.strip() for f in forms):
            problems.append(f"empty or wrong number of forms: {msgid!r}")
            continue
        wanted = set().union(*(PLACEHOLDER.findall(s) for s in sources))
        for index, form in enumerate(forms):
            have = set(PLACEHOLDER.findall(form))
            # Arabic zero/one/two forms name the number in words, so {count} may be absent.
            allowed_missing = {"count"} if len(sources) > 1 and index < 3 else set()
            if not have <= wanted or (wanted - have) - allowed_missing:
                problems.append(f"placeholders {sorted(have)} != {sorted(wanted)}: {msgid!r}")
    assert not problems, "\n".join(problems)


def test_arabic_translations_read_right_to_left():
    """An Arabic message must start with an Arabic letter so Telegram shows it right-to-left.

    A message that starts with a value ("{place}: {problem}") puts parts together; the text
    it is shown in starts with a right-to-left mark (bot/survey/publishing_views.py)."""
    arabic = re.compile(r"[\u0600-\u06FF]")
    entries = catalog_entries("ar")
    for msgid in MESSAGES:
        if msgid.startswith("{"):
            continue
        translated = entries.get(msgid)
        for form in (translated,) if isinstance(translated, str) else tuple(translated or ()):
            first_strong = re.search(r"[A-Za-z\u0600-\u06FF]", form)
            assert first_strong and arabic.match(first_strong.group()), form


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "لم يُختر"), (1, "إجابة واحدة"), (2, "إجابتين"), (3, "إجابات"), (11, "إجابةً"),
     (100, "100\u2069 إجابة ")],
)
def test_arabic_has_six_plural_forms(count, expected):
    with use_language("ar"):
        assert expected in _n("{count} chosen so far.", "{count} chosen so far.", count)


def test_every_command_has_help_text_in_both_languages():
    commands = all_commands(FEATURES)
    assert {"start", "summary", "grant", "invite", "unsubscribe"} <= {c.name for c in commands}
    translated = {language: catalog_entries(language) for language in LANGUAGES}
    for command in commands:
        for language in LANGUAGES:
            assert command.help in translated[language], (command.name, language)
            with use_language(language):
                assert _(command.help).strip(), command.name


def test_every_command_is_registered_and_every_registered_command_listed():
    application = ApplicationBuilder().token("1:TEST").build()
    for feature in FEATURES:
        feature.register(application)
    registered = {
        name
        for group in application.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    assert registered == {c.name for c in all_commands(FEATURES)}


def test_command_names_are_unique_across_features():
    names = [c.name for c in all_commands(FEATURES)]
    assert len(names) == len(set(names))


def test_commands_inside_arabic_are_isolated():
    with use_language("ar"):
        text = _("To erase all of it, send /delete.")
    assert "\u2068/delete\u2069" in text


def all_arabic_texts() -> list[str]:
    """Every Arabic text a respondent or a coordinator may read: the catalogs, the survey."""
    from bot.survey.loader import DEFAULT_SURVEY_PATH, load_survey

    texts: list[str] = []
    for translated in catalog_entries("ar").values():
        texts += [translated] if isinstance(translated, str) else list(translated)  # type: ignore[arg-type]
    survey = load_survey(DEFAULT_SURVEY_PATH)
    texts += [survey.title.ar, survey.introduction.ar]
    for question in survey.questions:
        texts += [question.text.ar, *(o.label.ar for o in question.options)]
        texts += [question.short_label.ar] if question.short_label else []
    return texts


def test_arabic_writes_tanween_one_way_and_pcve_one_way():
    """Issue #15: شكرًا, not شكراً (tanween on the letter before the alif), and one Arabic
    term for P/CVE (منع التطرف العنيف ومواجهته, never منع ومواجهة التطرف العنيف)."""
    texts = all_arabic_texts()
    assert not [t for t in texts if "اً" in t]
    assert not [t for t in texts if "منع ومواجهة" in t or "الوطنيون" in t or "المحليون" in t]
    assert any("منع التطرف العنيف ومواجهته" in t for t in texts)


def test_help_lines_in_arabic_start_with_arabic_and_list_unsubscribe():
    """Issue #15: /help omitted nothing a respondent may use, and its Arabic lines started
    with a bare Latin command."""
    from handlers.base.menus import help_lines

    with use_language("en"):
        english = help_lines(FEATURES, None)
    assert any(line.startswith("/unsubscribe — ") for line in english)
    with use_language("ar"):
        arabic = help_lines(FEATURES, None)
    commands = [line for line in arabic if "/" in line]
    assert len(commands) == len([line for line in english if line.startswith("/")])
    for line in commands:
        assert re.match(r"[\u0600-\u06FF]", line), line
        assert re.search("\u2068/[a-z]+\u2069$", line), line


def test_arabic_counts_the_answered_questions_with_their_plural():
    """Issue #15: «عن 17 سؤالًا من أصل 18», not «عن 17 من أصل 18 من الأسئلة»; and the
    length of an answer in characters, without a Latin thousands comma."""
    with use_language("ar"):
        welcome = _n(
            "Welcome back! You have answered {count} of {total} questions. "
            "Shall we continue where you stopped?",
            "Welcome back! You have answered {count} of {total} questions. "
            "Shall we continue where you stopped?",
            17,
            total=18,
        )
        assert "عن \u206817\u2069 سؤالًا من أصل \u206818\u2069." in welcome
        too_long = ERRORS[TextTooLong].text(TextTooLong(1000, 4319))
        assert too_long is not None
        assert too_long.startswith("عدد أحرف إجابتك \u20684319\u2069، والحد الأقصى ")
