"""What a feature contributes to the Telegram layer: its commands, its error table, and the
registration of its handlers. bot/app.py lists the features; nothing else needs editing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from telegram.ext import Application

from bot.core.commands import Command
from bot.core.errors import ErrorTable


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    commands: tuple[Command, ...]
    errors: ErrorTable
    register: Callable[[Application], None]


def all_commands(features: Iterable[Feature]) -> list[Command]:
    return [command for feature in features for command in feature.commands]
