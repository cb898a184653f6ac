"""Structured logs: one JSON object per line, naming events, never message contents.

Only ids, counts and event names are logged: answer texts, names and usernames never are.
httpx is kept at WARNING because its request lines contain the bot token.
"""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter


def configure_logging(structured: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    if structured:
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "message": "event"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
