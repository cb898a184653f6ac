"""The coordinators' and admins' report commands, with their help text."""

from __future__ import annotations

from bot.core.access import Role
from bot.core.commands import Command
from bot.core.i18n import N_

COMMANDS: tuple[Command, ...] = (
    Command("summary", N_("The results so far; for one group: /summary country=jordan"), Role.COORDINATOR),
    Command("chart", N_("The results as charts"), Role.COORDINATOR),
    Command(
        "change",
        N_("How views changed between two rounds: /change, or /change 1 2 country=jordan"),
        Role.COORDINATOR,
    ),
    Command("comments", N_("Read the free-text answers"), Role.COORDINATOR),
    Command("tables", N_("Download the results as tables (CSV and Excel)"), Role.COORDINATOR),
    Command("export", N_("Download the answers as CSV and Excel files"), Role.ADMIN),
    Command("reports", N_("The commands for coordinators"), Role.COORDINATOR),
    Command(
        "grant",
        N_(
            "Create a one-time link that makes someone a coordinator; to limit what they see: "
            "/grant country=jordan"
        ),
        Role.ADMIN,
    ),
    Command("revoke", N_("Remove a coordinator"), Role.ADMIN),
    Command(
        "campaign",
        N_(
            "Campaign links: /campaign lists them, /campaign new amman-plenary 60 makes one, "
            "/campaign close amman-plenary closes it"
        ),
        Role.ADMIN,
    ),
    Command("roles", N_("See the admins, the coordinators with what each sees, and unused links"), Role.ADMIN),
    Command("audit", N_("See what coordinators and admins have done"), Role.ADMIN),
)
