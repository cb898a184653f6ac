"""Settings from environment variables (a `.env` file in the working directory is read too)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.survey.loader import DEFAULT_SURVEY_PATH
from storage.url import BadDatabaseUrl, parse_database_url

TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_REMINDERS = (timedelta(hours=24), timedelta(hours=72))
DEFAULT_QUIET_HOURS = (time(21), time(8))
DEFAULT_TIME_ZONE = "Asia/Amman"
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line naming the setting."""


@dataclass(frozen=True, slots=True)
class Settings:
    bot_token: str | None = None
    api_base_url: str = TELEGRAM_API_BASE_URL
    db_path: Path = Path("hiwar.sqlite3")
    """The SQLite file, when `database_url` is not set."""
    database_url: str | None = None
    """`sqlite:///path` or `postgresql://…` (storage/url.py); wins over `db_path`."""
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    survey_path: Path = DEFAULT_SURVEY_PATH
    min_cell_size: int = 5
    snapshot_hours: int = 0
    """At least this many hours between two report snapshots (0: as soon as k responses
    have been completed or deleted since the last)."""
    count_only_invited: bool = False
    """Only responses started through a campaign link (/campaign) count in reports."""
    require_link: bool = False
    """Only people who came through a campaign link are asked the survey; implies
    `count_only_invited` (responses begun before it was set, without a link, leave reports)."""
    broadcast_rate: int = 25
    """Invitation messages per second at most, all recipients together (Telegram allows ~30)."""
    reminder_hours: int = 24
    """How long before a workshop those who answered attending or maybe are reminded."""
    survey_reminders: tuple[timedelta, ...] = DEFAULT_REMINDERS
    """After their last answer, when people who did not finish are reminded (empty: never)."""
    quiet_hours: tuple[time, time] | None = DEFAULT_QUIET_HOURS
    """Local times (in `time_zone`) between which no reminder is sent; None: any time."""
    time_zone: str = DEFAULT_TIME_ZONE
    """The survey's time zone (IANA name), for quiet hours."""
    concurrent_updates: int = 64
    """Updates processed at once (different users only; one user's are always in order)."""
    webhook_url: str | None = None
    """Public HTTPS URL Telegram posts updates to; unset means long polling."""
    webhook_secret: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    health_port: int | None = None
    """Where GET /healthz answers (bot/health.py); unset: no health endpoint."""

    @property
    def invited_only(self) -> bool:
        """Whether reports count only responses started through a campaign link."""
        return self.count_only_invited or self.require_link

    @property
    def database(self) -> str:
        """The database to use, as a URL."""
        return self.database_url or f"sqlite:///{self.db_path}"

    @property
    def api_file_url(self) -> str:
        """Where files sent to the bot are downloaded from: Telegram's `…/file/bot` beside
        its `…/bot` (PTB appends the token)."""
        return self.api_base_url.removesuffix("/bot") + "/file/bot"

    @property
    def webhook_path(self) -> str:
        """The path part of the webhook URL, which the local server listens on."""
        return urlsplit(self.webhook_url or "").path.lstrip("/")

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


def _parse_switch(name: str, raw: str | None) -> bool:
    value = (raw or "").strip().lower()
    if value in ("", "0", "no", "false", "off"):
        return False
    if value in ("1", "yes", "true", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0 (yes or no), got {raw!r}")


_DURATION = re.compile(r"^(\d+)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _parse_reminders(raw: str) -> tuple[timedelta, ...]:
    """`24h,72h` (minutes m, hours h, days d; at most two, increasing), or `off`."""
    if raw.lower() in ("off", "0", "no", "none"):
        return ()
    delays = []
    for part in raw.split(","):
        found = _DURATION.match(part.strip().lower())
        if not found or int(found[1]) == 0:
            raise ConfigError(
                f"HIWAR_REMINDERS must be one or two delays like 24h,72h (or off), got {raw!r}"
            )
        delays.append(timedelta(**{_UNITS[found[2]]: int(found[1])}))
    if len(delays) > 2 or delays != sorted(set(delays)):
        raise ConfigError(f"HIWAR_REMINDERS: at most two delays, the second longer, got {raw!r}")
    return tuple(delays)


_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")


def _parse_quiet_hours(raw: str) -> tuple[time, time] | None:
    """`21-08` or `21:30-07:00` (from-to, local time; may span midnight), or `off`."""
    if raw.lower() in ("off", "0", "no", "none"):
        return None
    moments = []
    for part in raw.split("-"):
        found = _CLOCK.match(part.strip())
        if not found or int(found[1]) > 23 or int(found[2] or 0) > 59:
            moments = []
            break
        moments.append(time(int(found[1]), int(found[2] or 0)))
    if len(moments) != 2 or moments[0] == moments[1]:
        raise ConfigError(f"HIWAR_QUIET_HOURS must be like 21-08 (from-to), or off, got {raw!r}")
    return moments[0], moments[1]


def _parse_time_zone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"HIWAR_TIMEZONE must be a time zone like Asia/Amman, got {raw!r}") from None
    return raw


def _parse_positive_int(name: str, raw: str, least: int = 1) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < least:
        raise ConfigError(f"{name} must be at least {least}, got {value}")
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

    def positive(name: str, default: int) -> int:
        raw = get(name)
        return _parse_positive_int(name, raw) if raw else default

    db, database_url = get("HIWAR_DB_PATH"), get("HIWAR_DATABASE_URL")
    if database_url is not None:
        if db is not None:
            raise ConfigError("set HIWAR_DATABASE_URL or HIWAR_DB_PATH, not both")
        try:
            parse_database_url(database_url)
        except BadDatabaseUrl as error:
            raise ConfigError(f"HIWAR_DATABASE_URL: {error}") from None
    webhook_url, webhook_secret = get("HIWAR_WEBHOOK_URL"), get("HIWAR_WEBHOOK_SECRET")
    if webhook_url is not None:
        if not webhook_url.startswith(("https://", "http://")):
            raise ConfigError(f"HIWAR_WEBHOOK_URL must be an https:// URL, got {webhook_url!r}")
        if webhook_secret is None:
            raise ConfigError("HIWAR_WEBHOOK_SECRET is required when HIWAR_WEBHOOK_URL is set")
        if not _SECRET.match(webhook_secret):
            raise ConfigError(
                "HIWAR_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
    return Settings(
        bot_token=get("HIWAR_BOT_TOKEN"),
        api_base_url=base_url,
        db_path=Path(db) if db else Path("hiwar.sqlite3"),
        database_url=database_url,
        admin_ids=_parse_admin_ids(get("HIWAR_ADMIN_IDS") or ""),
        survey_path=survey_path,
        min_cell_size=positive("HIWAR_MIN_CELL_SIZE", 5),
        count_only_invited=_parse_switch(
            "HIWAR_COUNT_ONLY_INVITED", get("HIWAR_COUNT_ONLY_INVITED")
        ),
        require_link=_parse_switch("HIWAR_REQUIRE_LINK", get("HIWAR_REQUIRE_LINK")),
        snapshot_hours=_parse_positive_int("HIWAR_SNAPSHOT_HOURS", hours, least=0)
        if (hours := get("HIWAR_SNAPSHOT_HOURS"))
        else 0,
        broadcast_rate=positive("HIWAR_BROADCAST_RATE", 25),
        reminder_hours=positive("HIWAR_REMINDER_HOURS", 24),
        survey_reminders=_parse_reminders(reminders)
        if (reminders := get("HIWAR_REMINDERS"))
        else DEFAULT_REMINDERS,
        quiet_hours=_parse_quiet_hours(quiet)
        if (quiet := get("HIWAR_QUIET_HOURS"))
        else DEFAULT_QUIET_HOURS,
        time_zone=_parse_time_zone(get("HIWAR_TIMEZONE") or DEFAULT_TIME_ZONE),
        concurrent_updates=positive("HIWAR_CONCURRENT_UPDATES", 64),
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_listen=get("HIWAR_WEBHOOK_LISTEN") or "0.0.0.0",
        webhook_port=positive("HIWAR_WEBHOOK_PORT", 8443),
        health_port=_parse_positive_int("HIWAR_HEALTH_PORT", health)
        if (health := get("HIWAR_HEALTH_PORT"))
        else None,
    )
