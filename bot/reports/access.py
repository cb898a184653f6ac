"""Making and removing coordinators: admins (HIWAR_ADMIN_IDS) invite them by one-time links.

An admin's /grant issues a one-time code, valid for 24 hours, inside a deep link
(`t.me/<bot>?start=grant-…`). A link is bound to a person: either the admin names them
(`/grant 12345`, their Telegram id) and only they can use it, or whoever opens it first waits
until the admin confirms them. A link can limit the coordinator to a scope (`/grant
country=jordan country=iraq`: bot/reports/model.py `Scope`), kept with their role. The issuer must still be an admin when the link is opened;
unused links can be cancelled. Permissions and the audit log are bot/core/access.py's
`Access.authorize`, shared by every feature.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.access import ACTIONS, Access, Actor, AuditEntry, Role, first_broken
from bot.core.clock import Clock
from bot.reports.actions import (
    AUDIT,
    CAMPAIGN_LINK,
    CAMPAIGNS,
    CANCEL_GRANT,
    CLOSE_LINK,
    CONFIRM,
    GRANT,
    JOINED,
    REFUSE,
    REVOKE,
    ROLES,
)
from bot.reports.errors import (
    AlreadyStaff,
    BadAuditFilter,
    BadCampaignCommand,
    BadGrantArgument,
    BadLinkUses,
    BadSource,
    GrantExpired,
    GrantUnknown,
    GrantUsed,
    SourceTaken,
    UnknownCampaign,
    UnknownCoordinator,
    UnknownFilter,
    UnknownRound,
    UnknownSurvey,
)
from bot.reports.filters import parse_scope, split_rounds
from bot.reports.model import (
    EVERY_ENTRY,
    EVERYWHERE,
    Arrival,
    AuditFilter,
    CampaignLink,
    Coordinator,
    Grant,
    Scope,
)
from bot.reports.ports import AccessStore
from bot.survey.model import Survey

GRANT_LIFETIME = timedelta(hours=24)
LINK_PREFIX = "in-"
"""Campaign links: t.me/<bot>?start=in-… (the survey service stores their source with the
response; with HIWAR_COUNT_ONLY_INVITED or HIWAR_REQUIRE_LINK only those responses count)."""
LINK_CODE = re.compile(rf"^{LINK_PREFIX}[A-Za-z0-9_-]{{16,48}}$")
MAX_LINK_USES = 10_000
SOURCE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_SOURCE = 40
GRANT_PREFIX = "grant-"
GRANT_CODE = re.compile(rf"^{GRANT_PREFIX}[A-Za-z0-9_-]{{16,48}}$")
"""A grant code as it appears in a /start payload (deep-link payloads allow A-Z a-z 0-9 _ -)."""
AUDIT_PAGE = 30


@dataclass(frozen=True, slots=True)
class IssuedGrant:
    code: str
    expires_at: datetime
    for_user: int | None = None
    scope: Scope = EVERYWHERE
    survey_id: str | None = None


@dataclass(frozen=True, slots=True)
class AwaitingConfirmation:
    """Someone opened an unbound link: the issuing admin is asked to confirm them."""

    grant: Grant
    opener: Actor


@dataclass(frozen=True, slots=True)
class Confirmed:
    opener: Actor
    coordinator: Coordinator | None
    """None: the admin refused, and the link is cancelled."""
    language: str
    """The opener's, as their app said when they opened the link ("" if unknown)."""


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: tuple[AuditEntry, ...]
    page: int
    """1-based."""
    pages: int
    broken_at: int | None
    """The first entry whose link does not hold (altered, removed or inserted), if any."""
    only: AuditFilter = EVERY_ENTRY


@dataclass(frozen=True, slots=True)
class Roles:
    admins: tuple[int, ...]
    coordinators: tuple[Coordinator, ...]
    pending: tuple[Grant, ...]
    """Invitation links not used yet and not expired."""


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CampaignRequest:
    """What /campaign asks for: the list (`action` ""), a new link or closing one."""

    action: str = ""
    source: str = ""
    uses: int | None = None
    """How many people a new link is for (None: no limit)."""
    round_id: int | None = None
    """The round a new link is for (None: the round open when each person starts)."""


def parse_campaign_arguments(args: Sequence[str]) -> CampaignRequest:
    """`/campaign`, `/campaign new SOURCE [USES] [round=N]` or `/campaign close SOURCE`."""
    if not args:
        return CampaignRequest()
    action, *rest = (a.strip() for a in args)
    rounds, rest = split_rounds(rest)
    if (
        action not in ("new", "close")
        or not 1 <= len(rest) <= (2 if action == "new" else 1)
        or len(rounds) > (1 if action == "new" else 0)
    ):
        raise BadCampaignCommand
    round_id = rounds[0] if rounds else None
    source = rest[0].lower()
    if len(source) > MAX_SOURCE or not SOURCE.match(source):
        raise BadSource(MAX_SOURCE)
    if len(rest) == 1:
        return CampaignRequest(action, source, round_id=round_id)
    if not rest[1].isdecimal() or not 1 <= int(rest[1]) <= MAX_LINK_USES:
        raise BadLinkUses(MAX_LINK_USES)
    return CampaignRequest(action, source, int(rest[1]), round_id)


def _parse_scope(survey: Survey, texts: Sequence[str]) -> Scope:
    try:
        return parse_scope(survey, texts)
    except UnknownFilter as error:
        raise BadGrantArgument(error.text) from error


def parse_audit_arguments(args: Sequence[str]) -> tuple[int, AuditFilter]:
    """`/audit [page] [who=ID] [action=KEY]`, in any order."""
    page, who, action = 1, None, None
    for argument in args:
        name, separator, value = argument.partition("=")
        if not separator and name.isdecimal():
            page = int(name)
        elif name == "who" and value.isdecimal() and len(value) <= 19:
            who = int(value)
        elif name == "action" and value in ACTIONS:
            action = value
        else:
            raise BadAuditFilter
    return page, AuditFilter(who, action)


class AccessControl:
    def __init__(self, store: AccessStore, access: Access, clock: Clock, survey: Survey) -> None:
        self._store = store
        self._access = access
        self._clock = clock
        self.survey = survey
        """The survey reported on; scopes are read against it (ReportService.follow)."""

    async def grant(
        self, actor: Actor, for_user: int | None = None, scope: Sequence[str] = ()
    ) -> IssuedGrant:
        """/grant [id] [filter…]: a new one-time code for making someone a coordinator; with
        an id, for that person only; with filters (`country=jordan`, `العراق`), for the
        group they name only (any of one dimension's, all dimensions')."""
        await self._access.check(actor.user_id, Role.ADMIN)  # roles before arguments
        survey_id, filters = await self._survey_limit(scope)
        limited = _parse_scope(self.survey, filters)
        detail = [f"for {for_user}"] if for_user is not None else []
        detail += [] if limited.everyone else [f"scope {limited}"]
        detail += [f"survey {survey_id}"] if survey_id else []
        await self._access.authorize(actor, Role.ADMIN, GRANT, "; ".join(detail))
        code = GRANT_PREFIX + secrets.token_urlsafe(18)
        now = self._clock()
        issued = IssuedGrant(code, now + GRANT_LIFETIME, for_user, limited, survey_id)
        await self._store.add_grant(
            Grant(_hash(code), actor.user_id, now, issued.expires_at, for_user=for_user,
                  scope=limited, survey_id=survey_id)
        )  # fmt: skip
        return issued

    async def _survey_limit(self, words: Sequence[str]) -> tuple[str | None, list[str]]:
        """`survey=ID` out of /grant's words (a survey the bot runs or has run), and the
        rest (the filters of a scope)."""
        limits = [w.partition("=")[2] for w in words if w.lower().startswith("survey=")]
        rest = [w for w in words if not w.lower().startswith("survey=")]
        if not limits:
            return None, rest
        known = {self.survey.id, *await self._store.survey_ids()}
        if len(limits) > 1 or limits[0] not in known:
            raise UnknownSurvey(sorted(known))
        return limits[0], rest

    async def create_link(
        self,
        actor: Actor,
        survey_id: str,
        source: str,
        uses: int | None = None,
        round_id: int | None = None,
    ) -> str:
        """/campaign new SOURCE [USES] [round=N]: the code of a new link to `survey_id` for
        `source` (128 random bits), for `uses` people or without limit, landing in round
        `round_id` (None: the round open when each person starts)."""
        limit = f"{uses} uses" if uses is not None else "no limit"
        within = f", round {round_id}" if round_id is not None else ""
        await self._access.authorize(actor, Role.ADMIN, CAMPAIGN_LINK, f"{source}, {limit}{within}")
        if round_id is not None and round_id not in {
            r.round_id for r in await self._store.report_rounds(survey_id) if r.round_id
        }:
            raise UnknownRound(round_id)
        code = LINK_PREFIX + secrets.token_urlsafe(16)
        link = CampaignLink(_hash(code), survey_id, source, round_id, uses, 0, 0, closed=False)
        if not await self._store.add_link(link, actor.user_id, self._clock()):
            raise SourceTaken(source)
        return code

    async def links(self, actor: Actor, survey_id: str) -> list[CampaignLink]:
        """/campaign: the survey's links, open ones first, newest first."""
        await self._access.authorize(actor, Role.ADMIN, CAMPAIGNS)
        return await self._store.links(survey_id)

    async def close_link(self, actor: Actor, survey_id: str, which: str) -> str:
        """/campaign close SOURCE, or a Close button (`which` is then the link's key): the
        open link stops admitting anyone; its source."""
        await self._access.authorize(actor, Role.ADMIN, CLOSE_LINK, which)
        source = await self._store.close_link(survey_id, which, self._clock())
        if source is None:
            raise UnknownCampaign
        return source

    async def arrive(self, user_id: int, code: str) -> Arrival:
        """A respondent opened a campaign link: whether it let them in, and if not why."""
        code = code.strip()
        if not LINK_CODE.match(code):
            return Arrival.UNKNOWN
        return await self._store.arrive(user_id, _hash(code), self._clock())

    async def redeem(
        self, actor: Actor, code: str, language: str = ""
    ) -> Coordinator | AwaitingConfirmation:
        """Opening an invitation link: the named person becomes a coordinator at once;
        someone opening an unbound link waits for the issuing admin's confirmation."""
        grant = await self._usable(await self._store.grant(_hash(code)))
        if grant.for_user is not None and grant.for_user != actor.user_id:
            raise GrantUnknown  # somebody else's link: it tells them nothing
        if await self._access.role_of(actor.user_id) is not None:
            raise AlreadyStaff
        if grant.for_user is None:
            opened = await self._store.open_grant(
                grant.code_hash, actor.user_id, actor.name, language
            )
            if not opened:
                raise GrantUsed
            return AwaitingConfirmation(grant, actor)
        return await self._make(grant, actor, grant.created_by)

    async def confirm(self, actor: Actor, key: str, user_id: int, approve: bool) -> Confirmed:
        """The issuing admin's answer about who opened their link."""
        await self._access.authorize(
            actor, Role.ADMIN, CONFIRM if approve else REFUSE, str(user_id)
        )
        grant = await self._usable(await self._store.grant_by_key(key))
        if grant.opened_by != user_id:
            raise GrantUnknown
        opener = Actor(user_id, grant.opened_name)
        if not approve:
            await self._store.cancel_grant(grant.code_hash, self._clock())
            return Confirmed(opener, None, grant.opened_language)
        made = await self._make(grant, opener, actor.user_id)
        return Confirmed(opener, made, grant.opened_language)

    async def cancel(self, actor: Actor, key: str) -> Grant:
        """An unused link made useless (before anyone opened it, or while they wait)."""
        await self._access.authorize(actor, Role.ADMIN, CANCEL_GRANT, key)
        grant = await self._store.grant_by_key(key)
        if grant is None or not await self._store.cancel_grant(grant.code_hash, self._clock()):
            raise GrantUnknown
        return grant

    async def _usable(self, grant: Grant | None) -> Grant:
        """A link that may still be used: known, not cancelled, its issuer still an admin."""
        if grant is None or grant.cancelled or not self._access.is_admin(grant.created_by):
            raise GrantUnknown
        if grant.used_by is not None:
            raise GrantUsed
        if self._clock() >= grant.expires_at:
            raise GrantExpired
        return grant

    async def _make(self, grant: Grant, person: Actor, approved_by: int) -> Coordinator:
        coordinator = Coordinator(
            person.user_id, person.name, approved_by, self._clock(), grant.scope, grant.survey_id
        )
        if not await self._store.use_grant(grant.code_hash, coordinator):
            raise GrantUsed
        await self._access.record(person, Role.COORDINATOR, JOINED, f"by {approved_by}")
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

    async def audit(
        self, actor: Actor, page: int = 1, only: AuditFilter = EVERY_ENTRY
    ) -> AuditPage:
        """/audit [page] [who=ID] [action=KEY]: the entries, newest first (this look
        included), a page at a time, and whether the chain still holds (no entry altered or
        removed)."""
        await self._access.authorize(actor, Role.ADMIN, AUDIT, f"page {page} {only}".strip())
        pages = max(1, -(-(await self._store.audit_size(only)) // AUDIT_PAGE))
        number = min(max(page, 1), pages)
        entries = await self._store.recent(AUDIT_PAGE, (number - 1) * AUDIT_PAGE, only)
        broken = first_broken(await self._store.audit_chain())
        return AuditPage(tuple(entries), number, pages, broken, only)
