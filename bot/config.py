"""Settings from environment variables (a `.env` file in the working directory is read too)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from bot.survey.loader import DEFAULT_SURVEY_PATH

TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line naming the setting."""


@dataclass(frozen=True, slots=True)
class Settings:
    bot_token: str | None = None
    api_base_url: str = TELEGRAM_API_BASE_URL
    db_path: Path = Path("hiwar.sqlite3")
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    survey_path: Path = DEFAULT_SURVEY_PATH
    min_cell_size: int = 5

    def require_token(self) -> str:
        if not self.bot_token:
            raise ConfigError(
                "HIWAR_BOT_TOKEN is not set: get a token from @BotFather and set it "
                "(or run `hiwar demo`, which needs none)"
            )
        return self.bot_token


def _parse_admin_ids(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            ids.add(int(part))
        except ValueError:
            raise ConfigError(
                f"HIWAR_ADMIN_IDS must be comma-separated Telegram user ids, got {part!r}"
            ) from None
    return frozenset(ids)


def _parse_positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Read settings; real environment variables win over the `.env` file."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        raw = values.get(name)
        return raw.strip() if raw and raw.strip() else None

    base_url = get("HIWAR_API_BASE_URL") or TELEGRAM_API_BASE_URL
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"HIWAR_API_BASE_URL must start with http:// or https://, got {base_url!r}"
        )
    survey = get("HIWAR_SURVEY")
    survey_path = Path(survey) if survey else DEFAULT_SURVEY_PATH
    if not survey_path.is_file():
        raise ConfigError(f"HIWAR_SURVEY: no survey file at {survey_path}")
    db = get("HIWAR_DB_PATH")
    min_cell = get("HIWAR_MIN_CELL_SIZE")
    return Settings(
        bot_token=get("HIWAR_BOT_TOKEN"),
        api_base_url=base_url,
        db_path=Path(db) if db else Path("hiwar.sqlite3"),
        admin_ids=_parse_admin_ids(get("HIWAR_ADMIN_IDS") or ""),
        survey_path=survey_path,
        min_cell_size=_parse_positive_int("HIWAR_MIN_CELL_SIZE", min_cell) if min_cell else 5,
    )
