"""The README's conversation excerpts, written from a real run of the bot.

    python -m tests.readme_excerpts           # print the excerpts
    python -m tests.readme_excerpts --write   # put them into README.md

The real bot (`running_bot`, long polling over HTTP) answers simulated people on the local
fake Bot API; each excerpt is one scripted conversation, written down as it happened: what
the person sent or tapped ([a button]), then, indented, what the bot showed. Nothing is
typed by hand, so the README cannot show options or lines the bot no longer produces
(tests/test_readme.py fails when it does).
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from pathlib import Path

from bot.app import running_bot
from bot.config import Settings
from bot.simulator import BotAction, FakeBotApi, SimulatedUser, keyboard_rows
from bot.survey.loader import DEFAULT_SURVEY_PATH, load_survey

README = Path(__file__).resolve().parent.parent / "README.md"
MAX_BUTTONS = 8
"""A keyboard with more buttons is shortened to its first rows (the country list)."""
_INVISIBLE = re.compile("[\u200e\u200f\u2066-\u2069]")

Step = tuple[str, str]
"""("command", "/start"), ("tap", a button's label) or ("text", what is typed)."""

SCRIPTS: dict[str, list[Step]] = {
    "ar": [
        ("command", "/start"),
        ("tap", "العربية"),
        ("tap", "أوافق"),
        ("tap", "الحكومة المحلية / البلدية"),
        ("tap", "محلي: مدينة أو بلدية"),
        ("tap", "الأردن"),
        ("text", "abc"),
        ("text", "٧"),
        ("command", "/skip"),
        ("tap", "وطنية فقط"),
        ("tap", "شهريًا تقريبًا"),
    ],
    "en": [
        ("command", "/start"),
        ("tap", "English"),
        ("tap", "I agree"),
        ("tap", "Front-line practitioner"),
        ("tap", "Community: neighbourhood or village"),
        ("tap", "Skip"),
        ("text", "12"),
        ("tap", "Skip"),
        ("tap", "Don’t know"),
        ("tap", "Rarely or never"),
        ("tap", "Don’t know / not applicable"),
        ("tap", "Agree"),
    ],
}


def _shown(text: str) -> str:
    return _INVISIBLE.sub("", text)


def _buttons(action: BotAction) -> list[str]:
    rows = keyboard_rows(action.reply_markup)
    count = sum(len(row) for row in rows)
    lines, shown = [], 0
    for row in rows:
        if count > MAX_BUTTONS and shown >= 4:
            lines.append(f"… ({count - shown} more buttons)")
            break
        lines.append(" ".join(f"[{_shown(label)}]" for label, _data in row))
        shown += len(row)
    return lines


def _reaction(action: BotAction) -> list[str]:
    if action.method == "answerCallbackQuery":
        return [f"(a toast: «{_shown(action.callback_text)}»)"] if action.callback_text else []
    if action.method not in ("sendMessage", "editMessageText") or action.rendered_text is None:
        return []
    heading = ["(the card becomes:)"] if action.method == "editMessageText" else []
    text = [line for line in _shown(action.rendered_text).splitlines() if line.strip()]
    return [*heading, *text, *_buttons(action)]


async def _act(user: SimulatedUser, step: Step) -> list[BotAction]:
    kind, value = step
    if kind == "command":
        return await user.send_command(value)
    if kind == "tap":
        return await user.tap(value)
    return await user.send_text(value)


async def conversation(api: FakeBotApi, language: str, user_id: int) -> str:
    """One scripted conversation, as the README shows it."""
    user = api.make_user(user_id, "Amal", language_code=language)
    lines: list[str] = []
    for step in SCRIPTS[language]:
        kind, value = step
        lines.append(f"[{value}]" if kind == "tap" else value)
        for action in await _act(user, step):
            lines += ["  " + line for line in _reaction(action)]
    return "\n".join(lines)


async def excerpts() -> dict[str, str]:
    """Each language's excerpt, from one run of the real bot on a fresh database."""
    survey = load_survey(DEFAULT_SURVEY_PATH)
    with tempfile.TemporaryDirectory() as folder:
        async with FakeBotApi(token="424242:README", bot_username="hiwar_bot") as api:
            settings = Settings(
                bot_token=api.token,
                api_base_url=api.base_url,
                db_path=Path(folder) / "readme.sqlite3",
                admin_ids=frozenset(),
                survey_path=DEFAULT_SURVEY_PATH,
            )
            async with running_bot(settings, survey, api.token, poll_timeout=1):
                return {
                    language: await conversation(api, language, 5000 + number)
                    for number, language in enumerate(SCRIPTS)
                }


def block(language: str) -> re.Pattern[str]:
    """Where a language's excerpt sits in the README: a fenced block between markers."""
    return re.compile(
        rf"(<!-- excerpt:{language} -->\n```\n)(.*?)(\n```\n<!-- /excerpt:{language} -->)",
        re.DOTALL,
    )


def in_readme(text: str, language: str) -> str | None:
    found = block(language).search(text)
    return found.group(2) if found else None


def written(text: str, found: dict[str, str]) -> str:
    for language, excerpt in found.items():
        text = block(language).sub(lambda m, new=excerpt: m.group(1) + new + m.group(3), text)
    return text


def main(arguments: list[str]) -> int:
    found = asyncio.run(excerpts())
    if "--write" in arguments:
        README.write_text(written(README.read_text(encoding="utf-8"), found), encoding="utf-8")
    else:
        for language, excerpt in found.items():
            print(f"--- {language}\n{excerpt}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
