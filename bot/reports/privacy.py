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
   group, largest first; then each offered filter's sides. A filter whose group is not
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

What these rules do not cover:
- Summaries taken at different times. Comparing a summary before and after one person
  completes or deletes their response shows that person's answers; only the audit log (who
  asked for what, when) guards against that.
- Counts of participants across different summaries (sector counts within one country
  against those within another) are protected per table only: subtracting them can show
  how many people of a small group took part, never what they answered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from math import gcd
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)
Vector = dict[int, int]
"""A sparse integer vector: index -> non-zero coefficient."""


class Disclosure:
    """Releases groups of profile cells one decision at a time (rule 1 above)."""

    def __init__(self, populations: Sequence[int], threshold: int) -> None:
        self._populations = populations
        self._threshold = threshold
        self._signatures = [0] * len(populations)
        """Per cell, bit i set when the cell belongs to the i-th released group."""
        self._released = 0

    def release(self, *groups: Collection[int]) -> bool:
        """Release all `groups` (sets of cell indices) together if that is safe; else none."""
        signatures = list(self._signatures)
        for offset, group in enumerate(groups):
            bit = 1 << (self._released + offset)
            for cell in group:
                signatures[cell] |= bit
        atoms: Counter[int] = Counter()
        for signature, population in zip(signatures, self._populations, strict=True):
            if population:
                atoms[signature] += population
        small = [s for s, n in atoms.items() if n < self._threshold and s]
        if small:
            large = [s for s, n in atoms.items() if n >= self._threshold]
            if _isolatable(large, small):
                return False
        self._signatures = signatures
        self._released += len(groups)
        return True


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
