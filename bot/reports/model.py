"""Plain values of the reports domain: coordinators, what they may filter by, what storage
counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.survey.model import ReportRole


@dataclass(frozen=True, slots=True)
class Coordinator:
    user_id: int
    name: str
    granted_by: int
    granted_at: datetime
    scope: Scope = field(default_factory=lambda: EVERYWHERE)
    """Whom their reports cover (an admin's `/grant country=jordan`); everyone by default."""
    survey_id: str | None = None
    """The one survey their reports cover (`/grant survey=ID`); None: whichever is run."""


@dataclass(frozen=True, slots=True)
class Grant:
    """A one-time invitation code, as stored (only its hash is kept)."""

    code_hash: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    for_user: int | None = None
    """The only person who may use the link (the admin named them); None: anyone may open
    it, and the admin then confirms who did."""
    opened_by: int | None = None
    """Who opened an unbound link, waiting for the admin's confirmation."""
    opened_name: str = ""
    cancelled: bool = False
    opened_language: str = ""
    """The language the opener's Telegram app uses (to tell them the outcome)."""
    scope: Scope = field(default_factory=lambda: EVERYWHERE)
    """The coordinator's scope, given to them with the role."""
    survey_id: str | None = None
    """The one survey the coordinator's reports cover (None: whichever is run)."""

    @property
    def key(self) -> str:
        """A short handle for buttons (the hash's first 20 hex digits: 80 bits)."""
        return self.code_hash[:20]


@dataclass(frozen=True, slots=True)
class CampaignLink:
    """A survey link for one source (/campaign), as listed (only its code's hash is kept)."""

    code_hash: str
    survey_id: str | None
    """None: any survey (a survey invitation link made before campaign links)."""
    source: str
    round_id: int | None
    """None: the round open when the person starts."""
    uses_left: int | None
    """None: no limit."""
    arrivals: int
    completions: int
    closed: bool

    @property
    def key(self) -> str:
        """A short handle for buttons (the hash's first 20 hex digits: 80 bits)."""
        return self.code_hash[:20]


class Arrival(StrEnum):
    """What opening a campaign link did."""

    ADMITTED = "admitted"
    CLOSED = "closed"
    USED_UP = "used_up"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which audit entries to list: one person's, one action's, or (by default) all."""

    actor_id: int | None = None
    action: str | None = None

    def __str__(self) -> str:
        parts = [f"who={self.actor_id}"] if self.actor_id is not None else []
        return " ".join(parts + ([f"action={self.action}"] if self.action else []))


EVERY_ENTRY = AuditFilter()


@dataclass(frozen=True, slots=True)
class Counted:
    """Whose completed responses count in reports."""

    staff: tuple[int, ...]
    """The admins' ids: never counted (coordinators, known to storage, never are either)."""
    invited_only: bool = False
    """Only responses started through a campaign link (HIWAR_COUNT_ONLY_INVITED, or
    HIWAR_REQUIRE_LINK)."""


DIMENSIONS: tuple[ReportRole, ...] = (ReportRole.COUNTRY, ReportRole.SECTOR, ReportRole.LEVEL)
"""The profile questions a summary can be filtered by, in the order they are offered."""


@dataclass(frozen=True, slots=True, order=True)
class Filter:
    """Only the respondents who gave `option_id` to the survey's `dimension` question."""

    dimension: ReportRole
    option_id: str

    def __str__(self) -> str:
        return f"{self.dimension}={self.option_id}"


@dataclass(frozen=True, slots=True)
class Scope:
    """A group of respondents: for each dimension named, those who gave one of its options
    (several options of one dimension: any of them; several dimensions: all of them).

    A coordinator's scope, and every group a snapshot can release: everyone (no filter), one
    filter's group, and a scope narrowed by a filter. Its text is the group's key.
    """

    filters: frozenset[Filter] = frozenset()
    _allowed: tuple[tuple[int, frozenset[str]], ...] = field(
        init=False, repr=False, compare=False, hash=False
    )
    """(position in a (country, sector, level) profile, options allowed): for `covers`,
    which publishing calls for every tally row of every group."""

    def __post_init__(self) -> None:
        allowed = tuple((DIMENSIONS.index(d), ids) for d, ids in self.options().items())
        object.__setattr__(self, "_allowed", allowed)

    @classmethod
    def of(cls, *filters: Filter) -> Scope:
        return cls(frozenset(filters))

    @classmethod
    def parse(cls, key: str) -> Scope:
        """The scope of a group key (`str(scope)`); "*" is everyone."""
        if key == "*":
            return EVERYWHERE
        found = []
        for term in key.split("&"):
            dimension, _, options = term.partition("=")
            found += [Filter(ReportRole(dimension), o) for o in options.split("|")]
        return cls(frozenset(found))

    def __str__(self) -> str:
        """"*", "country=jordan", "country=iraq|jordan&sector=education": one text a group."""
        options = self.options()
        if not options:
            return "*"
        return "&".join(f"{d}={'|'.join(sorted(ids))}" for d, ids in options.items())

    def options(self) -> dict[ReportRole, frozenset[str]]:
        """The options allowed per dimension named, in the order of DIMENSIONS."""
        return {
            d: ids
            for d in DIMENSIONS
            if (ids := frozenset(f.option_id for f in self.filters if f.dimension == d))
        }

    @property
    def everyone(self) -> bool:
        return not self.filters

    @property
    def single(self) -> Filter | None:
        """The one filter this group is, if it is one filter's group."""
        return next(iter(self.filters)) if len(self.filters) == 1 else None

    def covers(self, row: Cell | Cohort | CellTally | tuple[str, str, str]) -> bool:
        """Whether respondents of this profile (a cell, or (country, sector, level)) are in."""
        values = row if isinstance(row, tuple) else (row.country, row.sector, row.level)
        return all(values[index] in ids for index, ids in self._allowed)

    def narrowed(self, only: Filter | None) -> Scope | None:
        """This group and `only`'s (both at once); None when none of it can be in both."""
        if only is None:
            return self
        allowed = self.options().get(only.dimension)
        if allowed is not None and only.option_id not in allowed:
            return None
        kept = {f for f in self.filters if f.dimension != only.dimension}
        return Scope(frozenset({*kept, only}))


EVERYWHERE = Scope()
"""Everyone: the scope of a coordinator the admin did not limit."""


@dataclass(frozen=True, slots=True)
class Cell:
    """Completed responses sharing one profile: option ids, '' where not answered."""

    country: str
    sector: str
    level: str
    respondents: int

    def value(self, dimension: ReportRole) -> str:
        match dimension:
            case ReportRole.COUNTRY:
                return self.country
            case ReportRole.SECTOR:
                return self.sector
            case ReportRole.LEVEL:
                return self.level
        raise ValueError(f"{dimension} is not a profile dimension")


@dataclass(frozen=True, slots=True, order=True)
class Tally:
    """How many completed responses at one level gave `item` to a counted question."""

    question_id: str
    item: str
    level: str
    answers: int


@dataclass(frozen=True, slots=True)
class Cohort:
    """Counted respondents of one profile cell who first entered the same snapshot."""

    country: str
    sector: str
    level: str
    arrived: int | None
    """The snapshot that first counted them; None: not counted yet (they enter the next)."""
    respondents: int
    source: str = ""
    """The campaign link they started through ('' none); not part of the profile `cell`."""

    @property
    def cell(self) -> tuple[str, str, str]:
        return (self.country, self.sector, self.level)


@dataclass(frozen=True, slots=True)
class CellTally:
    """Answer items of counted respondents in one profile cell."""

    question_id: str
    item: str
    country: str
    sector: str
    level: str
    answers: int


@dataclass(frozen=True, slots=True)
class ReportRound:
    """A round of the survey as reports name it (bot/survey/rounds.py opens and closes
    them); each has its own snapshots. Round 0 holds the responses started while no round
    was open."""

    round_id: int
    title: str = ""
    opened_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and self.closed_at is None


@dataclass(frozen=True, slots=True)
class ReleasedComment:
    """A free-text answer released to coordinators, with what scoped views need to know."""

    snapshot: int
    """The snapshot whose batch released it."""
    cell: tuple[str, str, str]
    """Its respondent's (country, sector, level)."""
    text: str


@dataclass(frozen=True, slots=True)
class History:
    """What earlier snapshots released, as stored."""

    released: tuple[tuple[str, ...], ...] = ()
    """Per snapshot (1, 2, …), the group keys it released, in the order released."""
    atoms: Mapping[int, int] = field(default_factory=dict)
    """After the last snapshot: respondents per history (a bit per released group, numbered
    across snapshots in order)."""
    population: int = 0
    """Respondents counted by the last snapshot."""
    published_at: datetime | None = None

    @property
    def number(self) -> int:
        return len(self.released)


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything a new snapshot is made of, read in one transaction."""

    cohorts: tuple[Cohort, ...]
    tallies: tuple[CellTally, ...]
    in_progress: tuple[Cohort, ...]
    """Responses under way, by the profile answers they gave so far ('' where none)."""
    pending_comments: Mapping[str, int]
    """Per free-text question, answers of counted respondents not released yet."""
    arrivals: tuple[int, ...] = ()
    """The responses the next snapshot counts for the first time (storage's ids)."""
    after_reminder: int = 0
    """Counted responses finished after a reminder to finish them had been sent."""

    def changes(self, history: History) -> int:
        """Responses completed or deleted since the last snapshot."""
        arrived = sum(c.respondents for c in self.cohorts if c.arrived is None)
        stayed = sum(c.respondents for c in self.cohorts if c.arrived is not None)
        return arrived + max(history.population - stayed, 0)
