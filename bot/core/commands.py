"""A feature's commands: name, help text (marked with N_) and who sees them in the menu."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.access import Role
from bot.core.i18n import _, is_rtl, isolate


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    help: str
    role: Role | None = None
    """None: everyone; COORDINATOR: coordinators and admins; ADMIN: admins only."""

    def visible_to(self, role: Role | None) -> bool:
        if self.role is None:
            return True
        return role == Role.ADMIN or (role == Role.COORDINATOR and self.role == Role.COORDINATOR)


def visible(commands: Iterable[Command], role: Role | None) -> list[Command]:
    """The commands someone with `role` may use, everyone's first, then by role."""
    rank = {None: 0, Role.COORDINATOR: 1, Role.ADMIN: 2}
    return sorted((c for c in commands if c.visible_to(role)), key=lambda c: rank[c.role])


def command_line(command: Command) -> str:
    """`/name — help`; in Arabic `help: /name`, so that the line starts with Arabic and the
    command, isolated like every command inside Arabic, does not reorder it."""
    if is_rtl():
        return f"{_(command.help)}: {isolate('/' + command.name)}"
    return f"/{command.name} — {_(command.help)}"
