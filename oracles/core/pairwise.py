"""All-pairs (pairwise) covering sets: rows of factor values in which every pair of values of
two different factors appears together in at least one row.

A greedy construction in the manner of AETG (Cohen et al., IEEE TSE 1997): each candidate row
starts from one pair not yet covered and takes, factor by factor, the value that covers the most
pairs still missing; of the candidates (one per missing pair), the row that covers the most is
kept. At the end, a row whose pairs all appear in other rows is dropped. Deterministic: the same
factors give the same rows, in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

Pair = tuple[tuple[str, Any], tuple[str, Any]]


def required_pairs(factors: Mapping[str, Sequence[Any]]) -> set[Pair]:
    """Every pair of values of two different factors: ((name, value), (name, value)), the two
    names in the order of ``factors``."""
    names = list(factors)
    return {
        ((a, u), (b, v)) for a, b in combinations(names, 2) for u in factors[a] for v in factors[b]
    }


def covered_pairs(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> set[Pair]:
    """The pairs of the factors ``names`` that the rows cover."""
    return {
        ((a, row[a]), (b, row[b]))
        for row in rows
        for a, b in combinations(names, 2)
        if a in row and b in row
    }


def missing_pairs(rows: Sequence[Mapping[str, Any]], factors: Mapping[str, Sequence[Any]]) -> set:
    """The pairs of ``factors``' values that no row covers."""
    return required_pairs(factors) - covered_pairs(rows, list(factors))


def pairwise(factors: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows covering every pair of ``factors``' values (a factor with one value is in every
    row; no factors: one empty row)."""
    for name, values in factors.items():
        if not values:
            raise ValueError(f"factor {name!r} has no values")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"factor {name!r} repeats a value: {list(values)}")
    names = list(factors)
    missing = required_pairs(factors)
    order = sorted(missing, key=lambda p: _rank(factors, p))
    rows: list[dict[str, Any]] = []
    while missing:
        candidates = [_row_from(seed, factors, missing) for seed in order if seed in missing]
        row = max(candidates, key=lambda r: len(covered_pairs([r], names) & missing))
        rows.append(row)
        missing -= covered_pairs([row], names)
    for row in list(rows):  # a row that later rows made redundant goes
        others = [r for r in rows if r is not row]
        if others and not missing_pairs(others, factors):
            rows = others
    return rows or [{name: values[0] for name, values in factors.items()}]


def _row_from(seed: Pair, factors: Mapping[str, Sequence[Any]], missing: set[Pair]) -> dict:
    (a, u), (b, v) = seed
    row = {a: u, b: v}
    for name in factors:
        if name not in row:
            row[name] = max(factors[name], key=lambda value: _gain(row, name, value, missing))
    return {name: row[name] for name in factors}


def _gain(row: Mapping[str, Any], name: str, value: Any, missing: set[Pair]) -> int:
    """How many missing pairs ``value`` of factor ``name`` covers with the row's values so far.
    ``max`` keeps the first of equal gains: ties go to the earlier value."""
    gain = 0
    for other, chosen in row.items():
        pair = ((other, chosen), (name, value))
        gain += pair in missing or (pair[1], pair[0]) in missing
    return gain


def _rank(factors: Mapping[str, Sequence[Any]], pair: Pair) -> tuple[int, ...]:
    names = list(factors)
    (a, u), (b, v) = pair
    return names.index(a), names.index(b), _index(factors[a], u), _index(factors[b], v)


def _index(values: Sequence[Any], value: Any) -> int:
    return next(i for i, candidate in enumerate(values) if candidate == value)
