"""Who is acting, with which role, and the one `authorize()` every feature uses.

Admins are named in the configuration (HIWAR_ADMIN_IDS); coordinators are stored (the
reports feature grants the role). Every permitted coordinator or admin action goes through
`Access.authorize`, which writes the audit log, so no feature can forget to. Refused
attempts are not logged: that would record the Telegram ids of respondents who merely
tried a command. Each feature names its actions with `Action`, whose labels the audit view
shows in the reader's language.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.core.clock import Clock, utc_now
from bot.core.errors import NotACoordinator, NotAnAdmin


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone sending a coordinator or admin command (their Telegram id and display name)."""

    user_id: int
    name: str


@dataclass(frozen=True, slots=True)
class Action:
    """Something the audit log records: a stable key and its label (marked with N_)."""

    key: str
    label: str

    def __post_init__(self) -> None:
        ACTIONS.setdefault(self.key, self)


ACTIONS: dict[str, Action] = {}
"""Every action any feature declared, by key (for naming audit entries)."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor_id: int
    actor_name: str
    role: Role
    action: str
    detail: str = ""


def audit_digest(previous: str, entry: AuditEntry) -> str:
    """The entry's link in the audit chain: a hash of the previous link and of every field,
    so that changing, removing or reordering an entry is detected (`hiwar verify-audit`)."""
    fields = (
        previous, entry.at.isoformat(), str(entry.actor_id), entry.actor_name,
        entry.role.value, entry.action, entry.detail,
    )  # fmt: skip
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def first_broken(chain: Iterable[tuple[int, AuditEntry, str | None]]) -> int | None:
    """The id of the first entry whose digest does not follow from the ones before it (an
    entry altered, removed or inserted); None when the chain holds. Entries from before the
    chain existed (no digest) may only come first."""
    previous: str | None = None
    for entry_id, entry, digest in chain:
        if digest is None:
            if previous is not None:
                return entry_id
            continue
        if digest != audit_digest(previous or "", entry):
            return entry_id
        previous = digest
    return None


class CoordinatorLookup(Protocol):
    async def coordinator(self, user_id: int) -> object | None:
        """The stored coordinator with this id, or None."""
        ...


class AuditLog(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...


class Access:
    def __init__(
        self,
        coordinators: CoordinatorLookup,
        audit: AuditLog,
        admin_ids: Collection[int],
        clock: Clock = utc_now,
    ) -> None:
        self._coordinators = coordinators
        self._audit = audit
        self.admins = frozenset(admin_ids)
        self._clock = clock

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admins

    async def role_of(self, user_id: int) -> Role | None:
        if self.is_admin(user_id):
            return Role.ADMIN
        return Role.COORDINATOR if await self._coordinators.coordinator(user_id) else None

    async def authorize(self, actor: Actor, needed: Role, action: Action, detail: str = "") -> Role:
        """Check that `actor` may do `action`, and record that they did; raises otherwise."""
        role = await self.check(actor.user_id, needed)
        await self.record(actor, role, action, detail)
        return role

    async def check(self, user_id: int, needed: Role) -> Role:
        """The role, if it suffices; for the steps inside an audited action (a wizard's)."""
        role = await self.role_of(user_id)
        if needed == Role.ADMIN and role != Role.ADMIN:
            raise NotAnAdmin
        if role is None:
            raise NotACoordinator
        return role

    async def record(self, actor: Actor, role: Role, action: Action, detail: str = "") -> None:
        """An audit entry for an action that is not a permission check (joining, say)."""
        entry = AuditEntry(self._clock(), actor.user_id, actor.name, role, action.key, detail)
        await self._audit.record(entry)
