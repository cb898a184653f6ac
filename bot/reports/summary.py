"""The coordinator summary: what respondents think, and where local and national differ.

`build_summary` is pure: it turns pre-counted cells and tallies (storage/reports.py) into a
`Summary`, applying the privacy rules of bot/reports/privacy.py through a `ReleasePlan`.
Every decision (what to show) is taken on the true counts; the numbers shown can then be
perturbed by a `Perturb` (bot/reports/snapshots.py: the cell-key noise of a snapshot).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from threading import RLock

from bot.core.i18n import _, percent
from bot.reports.errors import FilterSuppressed, TooFewResponses
from bot.reports.filters import all_filters, dimension_question, filter_option
from bot.reports.model import EVERYWHERE, Cell, Filter, ReportRound, Scope, Tally
from bot.reports.privacy import Disclosure, hidden_cells
from bot.reports.scoring import DONT_KNOW_ITEM, Agreement, Extreme, agreement
from bot.survey.engine import SCALE_VALUES
from bot.survey.model import Option, Question, ReportRole, Side, Survey

Perturb = Callable[[str, int], int]
"""(the cell's name within its group, its true count) -> the count shown."""


def exact(_cell: str, count: int) -> int:
    return count


def in_words(extreme: Extreme) -> str:
    return _("nearly all") if extreme == Extreme.NEARLY_ALL else _("almost none")


def shown_share(share: float, extreme: Extreme | None) -> str:
    """A share as shown: a percentage, or words where (nearly) everyone answered alike."""
    return in_words(extreme) if extreme else percent(share)


def coarse_mean(agreement: Agreement, threshold: int) -> float:
    """A mean as shown: to the nearest half below 4k answers (so that it never pins down a
    group's sum), else to one decimal."""
    step = 0.5 if agreement.answered < 4 * threshold else 0.1
    return round(round(agreement.mean / step) * step, 1)


def extreme(count: int, of: int) -> Extreme | None:
    if count >= of - 1:
        return Extreme.NEARLY_ALL
    if count <= 1:
        return Extreme.ALMOST_NONE
    return None


@dataclass(frozen=True, slots=True)
class BarrierResult:
    """One barrier statement; None where the numbers are suppressed."""

    question: Question
    overall: Agreement | None
    local: Agreement | None = None
    national: Agreement | None = None

    @property
    def gap(self) -> float | None:
        """Local minus national share who agree (positive: local respondents agree more)."""
        if self.local is None or self.national is None:
            return None
        return self.local.share - self.national.share


@dataclass(frozen=True, slots=True)
class CountRow:
    option: Option | None
    """None: respondents who did not answer the question."""
    respondents: int


@dataclass(frozen=True, slots=True)
class Breakdown:
    """How many respondents chose each option; rows below the threshold are left out."""

    question: Question
    rows: tuple[CountRow, ...]
    hidden: int
    """Respondents in the rows left out, together (0, or at least the threshold)."""


@dataclass(frozen=True, slots=True)
class Sources:
    """Completed responses per campaign link source ('': without a link); like a
    `Breakdown`, sources of fewer than k are left out and counted together in `hidden`."""

    rows: tuple[tuple[str, int], ...]
    hidden: int


@dataclass(frozen=True, slots=True)
class Choice:
    option: Option
    respondents: int
    share: float
    """Of all respondents in the summary."""
    extreme: Extreme | None = None


@dataclass(frozen=True, slots=True)
class Ranking:
    question: Question
    choices: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    survey: Survey
    only: Filter | None
    threshold: int
    respondents: int
    """Completed responses in the summary."""
    in_progress: int | None
    """Responses under way that match; None when between 1 and threshold - 1."""
    sides: tuple[int, int] | None
    """Local and national respondents, when the local–national comparison is released."""
    breakdowns: tuple[Breakdown, ...]
    barriers: tuple[BarrierResult, ...]
    """Ranked by the share who agree, then by the mean."""
    priorities: tuple[Ranking, ...]
    formats: tuple[Ranking, ...]
    invitations: int | None
    """Respondents who asked for workshop invitations (None: the survey does not ask)."""
    invitations_extreme: Extreme | None = None
    published_at: datetime | None = None
    """The snapshot's date (None: live numbers, for trusted local callers only)."""
    round: ReportRound | None = None
    """The round it is of (set when read back from a snapshot; not stored with it)."""
    after_reminder: int | None = None
    """Responses finished after a reminder, in everyone's view only (None: fewer than k)."""
    sources: Sources | None = None
    """Everyone's summary only, when some respondents came through a campaign link."""
    scope: Scope = EVERYWHERE
    """The coordinator's scope: the view is of its group, narrowed by `only`."""

    @property
    def gaps(self) -> tuple[BarrierResult, ...]:
        """Barriers with a local–national gap, largest gap (either way) first."""
        with_gap = [b for b in self.barriers if b.gap is not None]
        return tuple(sorted(with_gap, key=lambda b: -abs(b.gap or 0.0)))


class ReleasePlan:
    """The rule-1 decisions (bot/reports/privacy.py) for one state of the data.

    Everyone and everyone's sides are decided at once; the filters' groups and then their
    sides only when first needed, in the fixed order, since they cost more.
    """

    def __init__(
        self,
        survey: Survey,
        cells: Sequence[Cell],
        threshold: int,
        disclosure: Disclosure | None = None,
        first: Sequence[Filter] = (),
        scopes: Sequence[Scope] = (),
        first_scoped: Sequence[str] = (),
    ) -> None:
        """`disclosure` carries the history of earlier snapshots (its groups are sets of
        indices into `cells`); the filters in `first` (released last time) are decided
        before the others, so that what was released stays released while it is safe.
        `scopes` are the coordinators' scopes: their groups, and each narrowed by each
        filter, are decided after every unscoped group (those of `first_scoped`, by key,
        first), on the same disclosure state."""
        self.cells = tuple(cells)
        self._survey = survey
        self._first = tuple(first)
        self._scopes = tuple(sorted(set(scopes) - {EVERYWHERE}, key=str))
        self._first_scoped = tuple(first_scoped)
        self._scoped: tuple[Scope, ...] | None = None
        self._scoped_sides: frozenset[Scope] = frozenset()
        self._disclosure = disclosure or Disclosure([c.respondents for c in cells], threshold)
        sides = level_sides(survey)
        self._local = _indices(cells, lambda c: sides.get(c.level) == Side.LOCAL)
        self._national = _indices(cells, lambda c: sides.get(c.level) == Side.NATIONAL)
        total = sum(c.respondents for c in cells)
        self.everyone = total >= threshold and self._disclosure.release(range(len(cells)))
        self.sides = self.everyone and self._disclosure.release(self._local, self._national)
        self._lock = RLock()
        """Decisions change the disclosure state: one at a time (plans are used from threads)."""
        self._offered: tuple[Filter, ...] | None = None
        self._with_sides: frozenset[Filter] | None = None

    def _group(self, only: Filter | Scope) -> frozenset[int]:
        group = only if isinstance(only, Scope) else Scope.of(only)
        return _indices(self.cells, group.covers)

    def shown(self, group: Scope) -> bool:
        """Whether a view of this group (everyone, a filter's, a scoped one) is released."""
        if group.everyone:
            return self.everyone
        if (only := group.single) is not None:
            return only in self.offered()
        return group in self.scoped()

    def split(self, group: Scope) -> bool:
        """Whether a released group's view may show its local and national sides."""
        if group.everyone:
            return self.sides
        if (only := group.single) is not None:
            return only in self.with_sides()
        self.scoped()
        return group in self._scoped_sides

    def scoped(self) -> tuple[Scope, ...]:
        """The scoped groups released (after every unscoped decision), in decision order;
        their sides are then decided in the same order."""
        with self._lock:
            if self._scoped is None:
                self.with_sides()  # unscoped groups first, whatever the scopes
                self._scoped = self._decide_scoped() if self.everyone else ()
                self._scoped_sides = frozenset(
                    g
                    for g in self._scoped
                    if self._disclosure.release(
                        self._group(g) & self._local, self._group(g) & self._national
                    )
                )
            return self._scoped

    def _decide_scoped(self) -> tuple[Scope, ...]:
        """Each scope's group, then each scope narrowed by each filter; groups of one filter
        or everyone are the unscoped decisions already taken."""
        narrowed = [
            group
            for scope in self._scopes
            for only in all_filters(self._survey)
            if (group := scope.narrowed(only)) is not None
        ]
        candidates = dict.fromkeys(
            g for g in (*self._scopes, *narrowed) if not g.everyone and g.single is None
        )
        sizes = {g: sum(self.cells[i].respondents for i in self._group(g)) for g in candidates}
        keys = {g: str(g) for g in candidates}
        first = {key: index for index, key in enumerate(self._first_scoped)}
        ordered = sorted(
            (g for g, size in sizes.items() if size),
            key=lambda g: (keys[g] not in first, first.get(keys[g], 0)),
        )
        return tuple(g for g in ordered if self._disclosure.release(self._group(g)))

    def offered(self) -> tuple[Filter, ...]:
        """The filters that may be used now, largest group first."""
        with self._lock:
            if self._offered is None:
                self._offered = self._decide_offered() if self.everyone else ()
            return self._offered

    def with_sides(self) -> frozenset[Filter]:
        """The offered filters whose group may also be split into local and national."""
        with self._lock:
            if self._with_sides is None:
                self._with_sides = frozenset(
                    f
                    for f in self.offered()
                    if self._disclosure.release(
                        self._group(f) & self._local, self._group(f) & self._national
                    )
                )
            return self._with_sides

    def _decide_offered(self) -> tuple[Filter, ...]:
        sizes = {
            f: sum(self.cells[i].respondents for i in self._group(f))
            for f in all_filters(self._survey)
        }
        ordered = sorted(
            (f for f, size in sizes.items() if size),
            key=lambda f: (
                f not in self._first,
                self._first.index(f) if f in self._first else 0,
                -sizes[f],
            ),
        )
        return tuple(f for f in ordered if self._disclosure.release(self._group(f)))


def build_summary(
    survey: Survey,
    plan: ReleasePlan,
    tallies: Iterable[Tally],
    in_progress: int,
    threshold: int,
    only: Filter | None = None,
    perturb: Perturb = exact,
    sources: Mapping[str, int] | None = None,
    scope: Scope = EVERYWHERE,
) -> Summary:
    """The summary of everyone (`only` None) or of one filter's group, within the rules;
    with a `scope`, of that scope's group (narrowed by `only`); `sources`: everyone's
    completed responses per campaign link source.

    The numbers shown go through `perturb`, each named within the group ("n", "n/local",
    "barrier_trust/local/4"…); the decisions use the true counts."""
    if not plan.everyone:
        raise TooFewResponses(threshold)
    for each in (*scope.filters, *((only,) if only else ())):
        filter_option(survey, each)
    group = scope.narrowed(only)
    if group is None or not plan.shown(group):
        raise FilterSuppressed(threshold)
    released = plan.split(group)
    cells = [c for c in plan.cells if group.covers(c)]
    pinned = {d for d, ids in group.options().items() if len(ids) == 1}
    respondents = sum(c.respondents for c in cells)
    counts = _Counts(tallies)
    sides_of = level_sides(survey)
    side_levels = {
        side: frozenset(level for level, s in sides_of.items() if s == side) for side in Side
    }
    local, national = (
        sum(c.respondents for c in cells if c.level in side_levels[side])
        for side in (Side.LOCAL, Side.NATIONAL)
    )
    show_sides = released and local > 0 and national > 0
    sides = (perturb("n/local", local), perturb("n/national", national)) if show_sides else None
    shown = perturb("n", respondents)
    barriers = [
        BarrierResult(
            question,
            counts.agreement(question, None, threshold, perturb),
            *(
                (
                    counts.agreement(question, side_levels[side], threshold, perturb, side)
                    for side in (Side.LOCAL, Side.NATIONAL)
                )
                if show_sides
                else (None, None)
            ),
        )
        for question in survey.with_role(ReportRole.BARRIER)
    ]
    barriers.sort(key=lambda b: (-b.overall.share, -b.overall.mean) if b.overall else (1.0, 0.0))
    invited = _invitations(survey, counts)
    return Summary(
        survey=survey,
        only=only,
        scope=scope,
        threshold=threshold,
        respondents=shown,
        in_progress=perturb("in_progress", in_progress)
        if in_progress == 0 or in_progress >= threshold
        else None,
        sides=sides,
        breakdowns=tuple(
            _breakdown(
                question, dimension, cells, threshold, side_levels if show_sides else {}, perturb
            )
            for dimension in (ReportRole.SECTOR, ReportRole.LEVEL)
            if (question := dimension_question(survey, dimension)) is not None
            and dimension not in pinned
        ),
        barriers=tuple(barriers),
        priorities=tuple(
            counts.ranking(q, respondents, shown, perturb)
            for q in survey.with_role(ReportRole.PRIORITY)
        ),
        formats=tuple(
            counts.ranking(q, respondents, shown, perturb)
            for q in survey.with_role(ReportRole.FORMATS)
        ),
        invitations=perturb("invitations", invited) if invited is not None else None,
        invitations_extreme=extreme(invited, respondents) if invited is not None else None,
        sources=_sources(sources, threshold, perturb) if sources and only is None else None,
    )


class _Counts:
    """Tallies by question and item, per level."""

    def __init__(self, tallies: Iterable[Tally]) -> None:
        self._by_item: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        for tally in tallies:
            self._by_item[tally.question_id, tally.item][tally.level] = tally.answers

    def count(self, question_id: str, item: str, levels: frozenset[str] | None = None) -> int:
        per_level = self._by_item.get((question_id, item), {})
        return sum(n for level, n in per_level.items() if levels is None or level in levels)

    def agreement(
        self,
        question: Question,
        levels: frozenset[str] | None,
        threshold: int,
        perturb: Perturb = exact,
        side: Side | None = None,
    ) -> Agreement | None:
        """Scored as bot/reports/scoring.py says; None when fewer than `threshold` gave a
        view. Decided on the true counts; the numbers shown go through `perturb`."""
        items = (*(str(v) for v in SCALE_VALUES), DONT_KNOW_ITEM)
        counts = {i: self.count(question.id, i, levels) for i in items}
        scored = agreement(question, counts)
        if scored.answered < threshold:
            return None
        name = f"{question.id}/{side or 'all'}"
        shown = max(perturb(f"{name}/answered", scored.answered), 1)
        return Agreement(
            shown,
            min(perturb(f"{name}/agree", scored.agreeing), shown),
            min(max(perturb(f"{name}/score", scored.score_total), shown), max(SCALE_VALUES) * shown),
            perturb(f"{name}/dont_know", scored.dont_know) if scored.dont_know else 0,
            extreme(scored.agreeing, scored.answered),
            max(counts[str(v)] for v in SCALE_VALUES) >= scored.answered - 1,
        )

    def ranking(
        self, question: Question, respondents: int, shown: int, perturb: Perturb = exact
    ) -> Ranking:
        """Every option; a share of `shown` (the respondents as shown), perturbed."""
        choices = []
        for option in question.options:
            n = self.count(question.id, option.id)
            given = perturb(f"{question.id}/{option.id}", n)
            choices.append(
                Choice(
                    option,
                    given,
                    min(given / shown, 1.0) if shown else 0.0,
                    extreme(n, respondents),
                )
            )
        choices.sort(key=lambda c: -c.respondents)
        return Ranking(question, tuple(choices))


def _invitations(survey: Survey, counts: _Counts) -> int | None:
    questions = survey.with_role(ReportRole.INVITATIONS)
    if not questions:
        return None
    return sum(counts.count(questions[0].id, o.id) for o in questions[0].options if o.opt_in)


def _breakdown(
    question: Question,
    dimension: ReportRole,
    cells: Sequence[Cell],
    threshold: int,
    side_levels: dict[Side, frozenset[str]],
    perturb: Perturb = exact,
) -> Breakdown:
    counts: dict[str, int] = defaultdict(int)
    for cell in cells:
        key = cell.value(dimension)
        counts[key if question.option(key) else ""] += cell.respondents
    groups = side_levels.values() if dimension == ReportRole.LEVEL else ()
    hidden = hidden_cells(counts, threshold, [[k for k in g if k in counts] for g in groups])
    rows = [
        CountRow(question.option(key), perturb(f"{question.id}/{key}", n))
        for key, n in counts.items()
        if key not in hidden and n
    ]
    rows.sort(key=lambda row: -row.respondents)
    hidden_total = sum(counts[key] for key in hidden)
    return Breakdown(
        question, tuple(rows), perturb(f"{question.id}/hidden", hidden_total) if hidden else 0
    )


def _sources(counts: Mapping[str, int], threshold: int, perturb: Perturb) -> Sources | None:
    """The sources table (rule 2 of bot/reports/privacy.py, as for a `Breakdown`); None
    when nobody came through a campaign link."""
    if not any(source for source, n in counts.items() if n):
        return None
    hidden = hidden_cells(counts, threshold)
    rows = sorted(
        ((source, perturb(f"source/{source}", n)) for source, n in counts.items() if n),
        key=lambda row: (-row[1], row[0]),
    )
    hidden_total = sum(counts[source] for source in hidden)
    return Sources(
        tuple(row for row in rows if row[0] not in hidden),
        perturb("source/hidden", hidden_total) if hidden else 0,
    )


def level_sides(survey: Survey) -> dict[str, Side]:
    level = dimension_question(survey, ReportRole.LEVEL)
    return {o.id: o.side for o in level.options if o.side} if level else {}


def _indices(cells: Sequence[Cell], keep: Callable[[Cell], bool]) -> frozenset[int]:
    return frozenset(i for i, cell in enumerate(cells) if keep(cell))
