"""The invitations' commands, with their help text."""

from __future__ import annotations

from bot.core.access import Role
from bot.core.commands import Command
from bot.core.i18n import N_

COMMANDS: tuple[Command, ...] = (
    Command("unsubscribe", N_("Stop invitations and reminders (or send STOP)")),
    Command("subscribe", N_("Receive invitations and reminders again")),
    Command("invite", N_("Prepare a workshop invitation and send it"), Role.ADMIN),
    Command("invitations", N_("The invitations sent, with deliveries and answers"), Role.ADMIN),
)
