"""Which numbers a summary may show without exposing anyone: the small-cell rules.

k is `settings.min_cell_size` (HIWAR_MIN_CELL_SIZE, default 5). Suppressing each small cell
is not enough: a coordinator can subtract one summary from another (everyone minus Jordan,
Jordan minus Jordan's local side, the sum of every offered country minus everyone…) and
read off a small group that no single summary showed. So the rules are:

1. Views (agreement with the barriers, priorities, formats, invitations) are only ever
   totals over *released groups*: everyone, everyone's local and national sides, the group
   of one filter (one country, one sector or one level) and that group's two sides. A group
   is released only if, together with every group released before it, **no combination of
   the released totals (sums and differences of any number of summaries) depends only on
   fewer than k respondents** (`Disclosure.release`). This covers a small filter group, a
   small complement (everyone minus the group), a small rest after adding up sibling
   filters, nested filters whose difference is small, and trackers across dimensions
   (Jordan + police - everyone, when everyone is one or the other).

   How it is checked: respondents are grouped into *atoms*, the sets of profile cells that
   belong to exactly the same released groups. Every combination of released totals is a
   weighted sum over atoms. An atom of fewer than k respondents is harmless as long as no
   combination isolates it, i.e. as long as every small atom's membership vector lies in
   the span of the large atoms' vectors (exact integer Gaussian elimination; a few dozen
   groups, at most one atom per profile cell).

   Groups are considered in a fixed order, so the answer never depends on what was asked
   before: everyone; everyone's sides (both or neither: the gap needs both); each filter
   group, largest first; then each offered filter's sides; then the groups of scoped
   coordinators (their scope, and it narrowed by each filter: bot/reports/model.py
   `Scope`) and their sides, on the same state, so that views of different scopes are
   just more released totals to combine. A filter whose group is not
   released is refused; a filter whose sides are not released is shown without its gap.

2. Counts of respondents per sector or level (who answered, not what they think) are shown
   per table with complementary suppression (`hidden_cells`): a count below k is hidden,
   and then the hidden cells of the table, and of each side within it, must together count
   0 or at least k, otherwise the next smallest cell is hidden too, since the total minus
   the shown cells gives their sum. Responses still under way are shown as "fewer than k"
   below k.

3. A barrier's agreement in a released group is shown only if at least k of the group
   answered that question (skips of optional questions are not modelled by rule 1).

4. Free-text answers are listed only when a question has at least k of them, without any
   profile, time or code, sorted alphabetically; they cannot be filtered.

5. Over time (bot/reports/snapshots.py) every view comes from a stored snapshot, and a new
   snapshot is only made when at least k responses were completed or deleted since the last.
   The release decisions of a snapshot are checked against every group released in every
   earlier snapshot: a *member* of the check is then a set of respondents sharing a profile
   cell and a history (which released groups of which snapshots counted them), so a
   respondent who arrived later, or one who has left, is told apart from those who were
   always there. Combining totals of different snapshots is just another combination.

   With members of many histories, small atoms are the rule (the few newcomers of one
   snapshot in one country), and "every small atom lies in the span of the large ones" would
   refuse everything. The exact rule is used instead when that quick test fails: **no
   combination that is zero on every large atom may depend on fewer than k respondents in
   all** (`_isolates_few`, a small mixed-integer feasibility program solved by HiGHS
   through SciPy). Everyone now minus everyone before, for instance, is the sum of
   all newcomers: allowed, since there are at least k of them.

What these rules do not cover:
- Counts of participants across different summaries (sector counts within one country
  against those within another) are protected per table only: subtracting them can show
  how many people of a small group took part, never what they answered.
- Respondents who are not who they claim: k fake respondents of one profile make the real
  one's answers the group total minus theirs (the invitation-link rule and the noise of
  bot/reports/snapshots.py are the defences).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from math import gcd
from typing import TypeVar

import numpy as np

Key = TypeVar("Key", bound=Hashable)
SOLVER_SECONDS = 2.0
"""Time allowed to one release decision's exact check; past it the group is refused."""
Vector = dict[int, int]
"""A sparse integer vector: index -> non-zero coefficient."""


class Disclosure:
    """Releases groups of profile cells one decision at a time (rules 1 and 5 above).

    A member is a set of respondents who are alike to every release: one profile cell with
    one history. By default each cell is one member with no history (a single snapshot).
    """

    def __init__(
        self,
        populations: Sequence[int],
        threshold: int,
        *,
        cells: Sequence[int | None] | None = None,
        history: Sequence[int] | None = None,
        past_columns: int = 0,
    ) -> None:
        """`cells[m]` is the profile cell of member m (None: it has left, so no new group
        counts it); `history[m]` has bit i set when the i-th of the `past_columns` released
        groups of earlier snapshots counted it."""
        self._populations = tuple(populations)
        self._threshold = threshold
        self._cells = tuple(cells) if cells is not None else tuple(range(len(populations)))
        self._signatures = list(history) if history is not None else [0] * len(populations)
        self._released = past_columns

    @property
    def columns(self) -> int:
        """Groups released so far, earlier snapshots' included (each is one bit)."""
        return self._released

    @property
    def signatures(self) -> tuple[int, ...]:
        """Per member, which released groups count it (the history of the next snapshot)."""
        return tuple(self._signatures)

    def release(self, *groups: Collection[int]) -> bool:
        """Release all `groups` (sets of cell indices) together if that is safe; else none."""
        signatures = list(self._signatures)
        for offset, group in enumerate(groups):
            bit = 1 << (self._released + offset)
            for member, cell in enumerate(self._cells):
                if cell is not None and cell in group:
                    signatures[member] |= bit
        atoms: Counter[int] = Counter()
        for signature, population in zip(signatures, self._populations, strict=True):
            if population and signature:
                atoms[signature] += population
        if not self._safe(atoms):
            return False
        self._signatures = signatures
        self._released += len(groups)
        return True

    def _safe(self, atoms: Mapping[int, int]) -> bool:
        small = [s for s, n in atoms.items() if n < self._threshold]
        if not small:
            return True
        large = [s for s, n in atoms.items() if n >= self._threshold]
        if not _isolatable(large, small):
            return True
        return not _isolates_few(atoms, self._threshold)


def _isolatable(large: Iterable[int], small: Iterable[int]) -> bool:
    """Whether some combination of groups is zero on every large atom but not on a small one.

    That is the case exactly when a small atom's vector (its signature's bits) is not in the
    span of the large atoms' vectors. Stops as soon as every small vector is in the span.
    """
    basis: dict[int, Vector] = {}
    waiting: dict[int, list[Vector]] = {}
    """Small vectors not in the span yet, by their highest index (no pivot there so far)."""
    for signature in small:
        _wait(basis, waiting, _bits(signature))
    for signature in large:
        remainder = _reduce(basis, _bits(signature))
        if not remainder:
            continue
        pivot = max(remainder)
        basis[pivot] = remainder
        for vector in waiting.pop(pivot, []):
            _wait(basis, waiting, vector)
        if not waiting:
            return False
    return bool(waiting)


def _isolates_few(atoms: Mapping[int, int], threshold: int) -> bool:
    """Whether some combination of released groups is zero on every atom of at least
    `threshold` respondents and rests on fewer than `threshold` in all (True also when the
    solver cannot tell: refuse).

    Only the small atoms outside the span of the large ones can be non-zero. A mixed-integer
    program over them: coefficients c per group (free), v = c . signature per atom, |v| <= z
    with z binary, and some v equal to 1 (any combination can be scaled so that its largest
    |v| is 1, and negated so that it is +1). The least population of the atoms with z = 1 is
    the smallest number of respondents such a combination can rest on.
    """
    # Imported here: only publishing a snapshot needs it, and it takes half a second to
    # load, which every instance of the bot would otherwise pay at start-up.
    from scipy.optimize import Bounds, LinearConstraint, milp

    large = [s for s, n in atoms.items() if n >= threshold]
    basis: dict[int, Vector] = {}
    for signature in large:
        if remainder := _reduce(basis, _bits(signature)):
            basis[max(remainder)] = remainder
    small = [s for s, n in atoms.items() if n < threshold and _reduce(basis, _bits(s))]
    if not small:
        return False
    if sum(atoms[s] for s in small) < threshold:
        return True  # any combination that is not zero on them rests on them alone
    columns = sorted({bit for signature in (*large, *small) for bit in _bits(signature)})
    column_of = {bit: index for index, bit in enumerate(columns)}
    width, count = len(columns), len(small)
    size = width + 2 * count
    """Variables: c per column, then z per small atom, then t per small atom."""

    def row(signature: int) -> np.ndarray:
        vector = np.zeros(size)
        for bit in _bits(signature):
            vector[column_of[bit]] = 1.0
        return vector

    rows, lower, upper = [], [], []
    for signature in large:
        rows.append(row(signature))
        lower.append(0.0)
        upper.append(0.0)
    for index, signature in enumerate(small):
        z, t = width + index, width + count + index
        below, above, one = row(signature), row(signature), row(signature)
        below[z] = 1.0  # v + z >= 0
        above[z] = -1.0  # v - z <= 0
        one[t] = -2.0  # v - 2t >= -1: v = 1 where t = 1
        rows += [below, above, one]
        lower += [0.0, -np.inf, -1.0]
        upper += [np.inf, 0.0, np.inf]
    chosen, cost = np.zeros(size), np.zeros(size)
    chosen[width + count :] = 1.0
    cost[width : width + count] = [atoms[s] for s in small]
    rows.append(chosen)
    lower.append(1.0)
    upper.append(np.inf)
    integral = np.zeros(size)
    integral[width:] = 1
    bounds = Bounds(
        np.concatenate([np.full(width, -np.inf), np.zeros(2 * count)]),
        np.concatenate([np.full(width, np.inf), np.ones(2 * count)]),
    )
    result = milp(
        cost,
        constraints=LinearConstraint(np.array(rows), lower, upper),
        integrality=integral,
        bounds=bounds,
        options={"time_limit": SOLVER_SECONDS},
    )
    if result.status == 2:  # infeasible: nothing small can be isolated at all
        return False
    return result.status != 0 or round(result.fun) < threshold


def _wait(basis: dict[int, Vector], waiting: dict[int, list[Vector]], vector: Vector) -> None:
    remainder = _reduce(basis, vector)
    if remainder:
        waiting.setdefault(max(remainder), []).append(remainder)


def _bits(signature: int) -> Vector:
    return {index: 1 for index in range(signature.bit_length()) if signature >> index & 1}


def _reduce(basis: dict[int, Vector], vector: Vector) -> Vector:
    """What is left of `vector` after eliminating every pivot of `basis` (exact, integers)."""
    vector = dict(vector)
    while vector:
        pivot = max(vector)
        row = basis.get(pivot)
        if row is None:
            break
        scale, factor = row[pivot], vector[pivot]
        if scale != 1:
            for index in vector:
                vector[index] *= scale
        for index, value in row.items():
            updated = vector.get(index, 0) - factor * value
            if updated:
                vector[index] = updated
            else:
                del vector[index]
    divisor = 0
    for value in vector.values():
        divisor = gcd(divisor, value)
    return {index: value // divisor for index, value in vector.items()} if divisor > 1 else vector


def hidden_cells(
    counts: Mapping[Key, int], threshold: int, groups: Iterable[Collection[Key]] = ()
) -> frozenset[Key]:
    """The cells of a count table to hide (rule 2 above).

    `counts` is one table whose total is shown; each of `groups` is a set of its cells whose
    subtotal is shown too. Empty cells are never hidden (there is nobody to protect).
    """
    hidden = {key for key, count in counts.items() if 0 < count < threshold}
    scopes = [tuple(counts), *(tuple(group) for group in groups)]
    changed = True
    while changed:
        changed = False
        for scope in scopes:
            if 0 < sum(counts[key] for key in scope if key in hidden) < threshold:
                shown = [key for key in scope if key not in hidden and counts[key] > 0]
                if shown:
                    hidden.add(min(shown, key=lambda key: counts[key]))
                    changed = True
    return frozenset(hidden)
