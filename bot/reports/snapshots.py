"""Snapshots: what coordinators see, fixed at one moment and consistent over time.

A coordinator does not look once. Comparing live summaries before and after one person
answers shows that person's answers, so every view (summaries, charts, comments, tables)
comes from a stored snapshot instead:

- A new snapshot is published only when at least k responses have been completed or
  deleted since the previous one (and, if an admin set an interval, not before it is up).
- Its release decisions are checked against every group released by every earlier
  snapshot (bot/reports/privacy.py, rule 5): what was released stays released while that is
  safe, what was refused stays refused unless releasing it is safe against the whole
  history. The history is stored (which groups each snapshot released, and how many
  respondents share each history), never recomputed from answers that may be gone.
- Its numbers carry cell-key noise (`Noise`): a small perturbation drawn from the cell's
  name and true count with a secret key, so the same cell with the same count always shows
  the same number (asking again, or in a later snapshot, does not average it out), and
  shares and means are derived from the perturbed counts.
- A snapshot's views are stored as shown. Free-text answers are released in batches of at
  least k new answers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.reports.model import (
    EVERYWHERE,
    Cell,
    CellTally,
    Filter,
    History,
    Inputs,
    Scope,
    Tally,
)
from bot.reports.privacy import Disclosure
from bot.reports.summary import (
    Agreement,
    BarrierResult,
    Breakdown,
    Choice,
    CountRow,
    Extreme,
    Perturb,
    Ranking,
    ReleasePlan,
    Sources,
    Summary,
    build_summary,
    level_sides,
)
from bot.survey.model import Side, Survey

EVERYONE = str(EVERYWHERE)
"""The group key of all respondents; a filter's key is its text ("country=jordan"), a
scoped group's its scope's ("country=iraq|jordan&sector=education"), and a group's local
or national side adds "/local" or "/national"."""

NOISE = ((-2, 0.1), (-1, 0.2), (0, 0.4), (1, 0.2), (2, 0.1))
"""The perturbation table: change and probability (mean 0, standard deviation 1.1)."""


class Noise:
    """Cell-key noise: the same (group, cell, true count) always gets the same change."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def for_group(self, group: str) -> Perturb:
        def perturb(cell: str, count: int) -> int:
            digest = hmac.new(self._secret, f"{group}|{cell}|{count}".encode(), hashlib.sha256)
            draw = int.from_bytes(digest.digest()[:8], "big") / 2**64
            for change, probability in NOISE:
                draw -= probability
                if draw < 0:
                    return max(count + change, 0)
            return count

        return perturb


@dataclass(frozen=True, slots=True)
class Snapshot:
    number: int
    published_at: datetime
    population: int
    released: tuple[str, ...]
    atoms: Mapping[int, int]
    views: Mapping[str, Summary]
    """Per released group (everyone, each offered filter), the summary as shown."""
    comments: tuple[str, ...]
    """The free-text questions whose pending answers this snapshot releases."""

    @property
    def offered(self) -> tuple[Filter, ...]:
        return tuple(v.only for v in self.views.values() if v.only is not None)


def publish(
    survey: Survey,
    history: History,
    inputs: Inputs,
    threshold: int,
    noise: Noise,
    at: datetime,
    scopes: Sequence[Scope] = (),
) -> Snapshot:
    """The next snapshot: releases decided against the whole history, views perturbed.

    `scopes` are the coordinators' scopes: their groups (and each narrowed by each filter)
    are released too, on the same history, so that nobody can combine views of different
    scopes."""
    number = history.number + 1
    cells_index: dict[tuple[str, str, str], int] = {}
    for cohort in inputs.cohorts:
        cells_index.setdefault(cohort.cell, len(cells_index))
    population = Counter[tuple[str, str, str]]()
    for cohort in inputs.cohorts:
        population[cohort.cell] += cohort.respondents
    cells = [Cell(*key, population[key]) for key in cells_index]
    columns = _columns(history)
    members, histories, member_cells = [], [], []
    present = Counter[int]()
    for cohort in inputs.cohorts:
        past = _past_signature(survey, columns, cohort.cell, cohort.arrived or number)
        present[past] += cohort.respondents
        members.append(cohort.respondents)
        histories.append(past)
        member_cells.append(cells_index[cohort.cell])
    for past, stored in history.atoms.items():
        if (left := stored - present[past]) > 0:
            members.append(left)
            histories.append(past)
            member_cells.append(None)
    disclosure = Disclosure(
        members, threshold, cells=member_cells, history=histories, past_columns=len(columns)
    )
    last = history.released[-1] if history.released else ()
    previous = [Scope.parse(key) for key in last if "/" not in key]
    first = [group.single for group in previous if group.single is not None]
    first_scoped = [str(g) for g in previous if not g.everyone and g.single is None]
    plan = ReleasePlan(survey, cells, threshold, disclosure, first, scopes, first_scoped)
    released = _released(plan)
    atoms = Counter[int]()
    for signature, respondents in zip(disclosure.signatures, members, strict=True):
        atoms[signature] += respondents
    sources = Counter[str]()
    for cohort in inputs.cohorts:
        sources[cohort.source] += cohort.respondents
    views: dict[str, Summary] = {}
    if plan.everyone:
        for group in (EVERYWHERE, *(Scope.of(f) for f in plan.offered()), *plan.scoped()):
            key = str(group)
            tallies = _group_tallies(inputs.tallies, group)
            waiting = sum(c.respondents for c in inputs.in_progress if group.covers(c))
            only, scope = (group.single, EVERYWHERE) if group.single else (None, group)
            summary = build_summary(
                survey,
                plan,
                tallies,
                waiting,
                threshold,
                only,
                noise.for_group(key),
                sources,
                scope,
            )
            views[key] = replace(summary, published_at=at)
        reminded = inputs.after_reminder
        if reminded >= threshold:  # one figure, of everyone: never split into groups
            shown = noise.for_group(EVERYONE)("after_reminder", reminded)
            views[EVERYONE] = replace(views[EVERYONE], after_reminder=shown)
    comments = tuple(q for q, n in inputs.pending_comments.items() if n >= threshold)
    return Snapshot(number, at, sum(population.values()), released, dict(atoms), views, comments)


def _released(plan: ReleasePlan) -> tuple[str, ...]:
    """The group keys the plan released, in the order the decisions were taken."""
    if not plan.everyone:
        return ()
    keys = [EVERYONE]
    if plan.sides:
        keys += [f"{EVERYONE}/{Side.LOCAL}", f"{EVERYONE}/{Side.NATIONAL}"]
    offered = plan.offered()
    keys += [str(f) for f in offered]
    with_sides = plan.with_sides()
    for only in offered:
        if only in with_sides:
            keys += [f"{only}/{Side.LOCAL}", f"{only}/{Side.NATIONAL}"]
    scoped = plan.scoped()
    keys += [str(group) for group in scoped]
    for group in scoped:
        if plan.split(group):
            keys += [f"{group}/{Side.LOCAL}", f"{group}/{Side.NATIONAL}"]
    return tuple(keys)


def _columns(history: History) -> list[tuple[int, str]]:
    """(snapshot, group key) of every released group so far, bit by bit."""
    return [(number, key) for number, keys in enumerate(history.released, start=1) for key in keys]


def _past_signature(
    survey: Survey, columns: Sequence[tuple[int, str]], cell: tuple[str, str, str], arrived: int
) -> int:
    """Which earlier released groups counted a respondent of `cell` present since `arrived`."""
    sides = level_sides(survey)
    signature = 0
    for bit, (number, key) in enumerate(columns):
        if number >= arrived and in_group(key, cell, sides):
            signature |= 1 << bit
    return signature


def in_group(key: str, cell: tuple[str, str, str], sides: Mapping[str, Side]) -> bool:
    group, _, side = key.partition("/")
    if side and sides.get(cell[2]) != side:
        return False
    return Scope.parse(group).covers(cell)


def _group_tallies(tallies: Iterable[CellTally], group: Scope) -> list[Tally]:
    """The tallies of one group, per question, item and level (what `build_summary` reads)."""
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in tallies:
        if group.covers(row):
            totals[row.question_id, row.item, row.level] += row.answers
    return [Tally(q, item, level, n) for (q, item, level), n in totals.items()]


# -- stored form --------------------------------------------------------------------------


def dump_view(summary: Summary) -> str:
    """A view as stored: ids and numbers, read back against the survey by `load_view`."""
    return json.dumps(
        {
            "only": str(summary.only) if summary.only else None,
            **({"scope": str(summary.scope)} if not summary.scope.everyone else {}),
            "threshold": summary.threshold,
            "respondents": summary.respondents,
            "in_progress": summary.in_progress,
            "sides": summary.sides,
            "breakdowns": [
                [
                    b.question.id,
                    [[r.option.id if r.option else None, r.respondents] for r in b.rows],
                    b.hidden,
                ]
                for b in summary.breakdowns
            ],
            "barriers": [
                [b.question.id, *(_agreement(a) for a in (b.overall, b.local, b.national))]
                for b in summary.barriers
            ],
            "priorities": [_ranking(r) for r in summary.priorities],
            "formats": [_ranking(r) for r in summary.formats],
            "invitations": [summary.invitations, summary.invitations_extreme],
            "published_at": summary.published_at.isoformat() if summary.published_at else None,
            "after_reminder": summary.after_reminder,
            "sources": [list(map(list, summary.sources.rows)), summary.sources.hidden]
            if summary.sources
            else None,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def load_view(survey: Survey, stored: str) -> Summary:
    data = json.loads(stored)
    return Summary(
        survey=survey,
        only=Scope.parse(data["only"]).single if data["only"] else None,
        scope=Scope.parse(data.get("scope", EVERYONE)),
        threshold=data["threshold"],
        respondents=data["respondents"],
        in_progress=data["in_progress"],
        sides=tuple(data["sides"]) if data["sides"] else None,  # type: ignore[arg-type]
        breakdowns=tuple(
            Breakdown(
                survey.question(question_id),
                tuple(
                    CountRow(survey.question(question_id).option(option) if option else None, n)
                    for option, n in rows
                ),
                hidden,
            )
            for question_id, rows, hidden in data["breakdowns"]
            if survey.has_question(question_id)
        ),
        barriers=tuple(
            BarrierResult(survey.question(question_id), *(_load_agreement(a) for a in results))
            for question_id, *results in data["barriers"]
            if survey.has_question(question_id)
        ),
        priorities=tuple(
            _load_ranking(survey, r) for r in data["priorities"] if survey.has_question(r[0])
        ),
        formats=tuple(
            _load_ranking(survey, r) for r in data["formats"] if survey.has_question(r[0])
        ),
        invitations=data["invitations"][0],
        invitations_extreme=_extreme(data["invitations"][1]),
        published_at=datetime.fromisoformat(data["published_at"]) if data["published_at"] else None,
        after_reminder=data.get("after_reminder"),
        sources=Sources(tuple((s, n) for s, n in sources[0]), sources[1])
        if (sources := data.get("sources"))
        else None,
    )


def _agreement(agreement: Agreement | None) -> list[Any] | None:
    if agreement is None:
        return None
    return [
        agreement.answered,
        agreement.agreeing,
        agreement.score_total,
        agreement.dont_know,
        agreement.extreme,
        agreement.uniform,
    ]


def _load_agreement(stored: list[Any] | None) -> Agreement | None:
    if stored is None:
        return None
    answered, agreeing, score_total, dont_know, extreme, uniform = stored
    return Agreement(
        answered, agreeing, score_total, dont_know, extreme=_extreme(extreme), uniform=uniform
    )


def _ranking(ranking: Ranking) -> list[Any]:
    return [
        ranking.question.id,
        [[c.option.id, c.respondents, c.share, c.extreme] for c in ranking.choices],
    ]


def _load_ranking(survey: Survey, stored: list[Any]) -> Ranking:
    question = survey.question(stored[0])
    choices = []
    for option_id, respondents, share, extreme in stored[1]:
        option = question.option(option_id)
        if option is not None:
            choices.append(Choice(option, respondents, share, _extreme(extreme)))
    return Ranking(question, tuple(choices))


def _extreme(value: str | None) -> Extreme | None:
    return Extreme(value) if value else None
