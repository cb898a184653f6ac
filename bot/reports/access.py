"""Making and removing coordinators: admins (HIWAR_ADMIN_IDS) invite them by one-time links.

An admin's /grant issues a one-time code, valid for 24 hours, inside a deep link
(`t.me/<bot>?start=grant-…`); whoever opens it first becomes a coordinator. Permissions and
the audit log are bot/core/access.py's `Access.authorize`, shared by every feature.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.access import Access, Actor, AuditEntry, Role, first_broken
from bot.core.clock import Clock
from bot.reports.actions import AUDIT, GRANT, JOINED, REVOKE, ROLES
from bot.reports.errors import (
    AlreadyStaff,
    GrantExpired,
    GrantUnknown,
    GrantUsed,
    UnknownCoordinator,
)
from bot.reports.model import Coordinator, Grant
from bot.reports.ports import AccessStore

GRANT_LIFETIME = timedelta(hours=24)
GRANT_PREFIX = "grant-"
GRANT_CODE = re.compile(rf"^{GRANT_PREFIX}[A-Za-z0-9_-]{{16,48}}$")
"""A grant code as it appears in a /start payload (deep-link payloads allow A-Z a-z 0-9 _ -)."""
AUDIT_PAGE = 30


@dataclass(frozen=True, slots=True)
class IssuedGrant:
    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]
    page: int
    """1-based."""
    pages: int
    broken_at: int | None
    """The first entry whose link does not hold (altered, removed or inserted), if any."""


@dataclass(frozen=True, slots=True)
class Roles:
    admins: tuple[int, ...]
    coordinators: tuple[Coordinator, ...]
    pending: tuple[Grant, ...]
    """Invitation links not used yet and not expired."""


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class AccessControl:
    def __init__(self, store: AccessStore, access: Access, clock: Clock) -> None:
        self._store = store
        self._access = access
        self._clock = clock

    async def grant(self, actor: Actor) -> IssuedGrant:
        """/grant: a new one-time code for making someone a coordinator."""
        await self._access.authorize(actor, Role.ADMIN, GRANT)
        code = GRANT_PREFIX + secrets.token_urlsafe(18)
        now = self._clock()
        issued = IssuedGrant(code, now + GRANT_LIFETIME)
        await self._store.add_grant(Grant(_hash(code), actor.user_id, now, issued.expires_at))
        return issued

    async def redeem(self, actor: Actor, code: str) -> Coordinator:
        """Opening an invitation link: the actor becomes a coordinator, once per code."""
        grant = await self._store.grant(_hash(code))
        if grant is None:
            raise GrantUnknown
        if grant.used_by is not None:
            raise GrantUsed
        now = self._clock()
        if now >= grant.expires_at:
            raise GrantExpired
        if await self._access.role_of(actor.user_id) is not None:
            raise AlreadyStaff
        coordinator = Coordinator(actor.user_id, actor.name, grant.created_by, now)
        if not await self._store.use_grant(grant.code_hash, coordinator):
            raise GrantUsed
        await self._access.record(actor, Role.COORDINATOR, JOINED, f"by {grant.created_by}")
        return coordinator

    async def revoke(self, actor: Actor, user_id: int) -> Coordinator:
        """/revoke: the coordinator loses access at once."""
        await self._access.authorize(actor, Role.ADMIN, REVOKE, str(user_id))
        coordinator = await self._store.coordinator(user_id)
        if coordinator is None or not await self._store.remove_coordinator(user_id):
            raise UnknownCoordinator
        return coordinator

    async def roles(self, actor: Actor) -> Roles:
        await self._access.authorize(actor, Role.ADMIN, ROLES)
        return Roles(
            tuple(sorted(self._access.admins)),
            tuple(await self._store.coordinators()),
            tuple(await self._store.pending_grants(self._clock())),
        )

    async def coordinators(self, actor: Actor) -> list[Coordinator]:
        """For /revoke without an id: whom it could apply to."""
        await self._access.authorize(actor, Role.ADMIN, ROLES)
        return await self._store.coordinators()

    async def audit(self, actor: Actor, page: int = 1) -> AuditPage:
        """/audit [page]: the entries, newest first (this look included), a page at a time,
        and whether the chain still holds (no entry altered or removed)."""
        await self._access.authorize(actor, Role.ADMIN, AUDIT, f"page {page}")
        pages = max(1, -(-(await self._store.audit_size()) // AUDIT_PAGE))
        number = min(max(page, 1), pages)
        entries = await self._store.recent(AUDIT_PAGE, (number - 1) * AUDIT_PAGE)
        broken = first_broken(await self._store.audit_chain())
        return AuditPage(tuple(entries), number, pages, broken)
