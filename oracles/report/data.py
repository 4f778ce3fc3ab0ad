"""The numbers of the error report: one point per tensor and case, grouped and reduced to the
worst, and the one summary table (cell × oracle pair × dtype) that ``report`` and ``certify``
print."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gradparity.catalog import all_cells, get_cell
from gradparity.core.cases import Case
from gradparity.core.compare import Comparison
from gradparity.core.errors import InputError
from gradparity.core.text import percent
from gradparity.frameworks import all_oracles

GROUPS = (
    "outputs",
    "final states",
    "loss",
    "parameter gradients",
    "input gradient",
    "initial-state gradients",
)
Skipped = dict[tuple[str, str], dict[str, int]]  # (cell, oracle) -> reason -> cases


@dataclass(frozen=True)
class Point:
    """One tensor of one case: its group, and the x of the plot (T, or H without a time axis)."""

    cell: str
    baseline: str
    oracle: str
    dtype: str
    group: str
    kind: str  # the tolerance kind: value, gradient, gradient_fd
    x: int
    max_rel_err: float
    tolerance_used: float
    ok: bool
    known: bool = False  # a known discrepancy declared in the registry

    @property
    def pair(self) -> tuple[str, str]:
        return (self.baseline, self.oracle)


@dataclass
class Worst:
    """The worst of several points; a known discrepancy counts only in ``known``."""

    max_rel_err: float = 0.0
    tolerance_used: float = 0.0
    checks: int = 0
    failed: int = 0
    known: int = 0

    def add(self, point: Point) -> None:
        self.checks += 1
        self.max_rel_err = max(self.max_rel_err, point.max_rel_err)
        if point.known:
            self.known += 1
            return
        self.tolerance_used = max(self.tolerance_used, point.tolerance_used)
        self.failed += not point.ok

    @property
    def result(self) -> str:
        return f"FAIL ({self.failed})" if self.failed else "pass"


def tensor_group(tensor: str, states: Iterable[str]) -> str:
    """The group of a tensor name (``grad/l1_reverse/c0`` is an initial-state gradient)."""
    if tensor in ("outputs", "loss"):
        return tensor
    if not tensor.startswith("grad/"):
        return "final states"
    name = tensor.removeprefix("grad/")
    if name == "x":
        return "input gradient"
    if name.rpartition("/")[2] in {f"{s}0" for s in states}:
        return "initial-state gradients"
    return "parameter gradients"  # the cell's and the head's (W_y, b_y)


def plot_x(cell: str, seq_len: int, hidden_size: int) -> int:
    return seq_len if get_cell(cell).recurrent else hidden_size


def x_label(cell: str) -> str:
    return "sequence length T" if get_cell(cell).recurrent else "hidden size H"


def point_of(case: Case, comparison: Comparison, known: bool = False) -> Point:
    return Point(
        cell=case.cell,
        baseline=comparison.baseline,
        oracle=comparison.oracle,
        dtype=case.dtype,
        group=tensor_group(comparison.tensor, case.spec.states),
        kind=comparison.kind,
        x=plot_x(case.cell, case.seq_len, case.hidden_size),
        max_rel_err=comparison.max_rel_err,
        tolerance_used=comparison.tolerance_used,
        ok=comparison.ok,
        known=known,
    )


def points_from_results(rows: Iterable[Mapping[str, Any]]) -> tuple[list[Point], Skipped]:
    """Points from the JSON rows the agreement suite logs for certify (gradparity.suite)."""
    points: list[Point] = []
    skipped: Skipped = defaultdict(lambda: defaultdict(int))
    cases: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for row in rows:
        try:
            if "skipped" in row:
                cases[(row["cell"], row["oracle"], row["skipped"])].add(row["case"])
                continue
            cell = row["cell"]
            points.append(
                Point(
                    cell=cell,
                    baseline="reference",
                    oracle=row["oracle"],
                    dtype=row["dtype"],
                    group=tensor_group(row["tensor"], get_cell(cell).states),
                    kind=row["kind"],
                    x=plot_x(cell, row["seq_len"], row["hidden_size"]),
                    max_rel_err=row["max_rel_err"],
                    tolerance_used=row["tolerance_used"],
                    ok=row["ok"],
                    known=row["known_discrepancy"],
                )
            )
        except KeyError as missing:
            raise InputError(f"results row without field {missing}: {dict(row)}") from None
    for (cell, oracle, reason), names in cases.items():
        skipped[(cell, oracle)][reason] = len(names)
    return points, {k: dict(v) for k, v in skipped.items()}


def worst_by(points: Iterable[Point], *fields: str) -> dict[tuple, Worst]:
    worst: dict[tuple, Worst] = defaultdict(Worst)
    for point in points:
        worst[tuple(getattr(point, f) for f in fields)].add(point)
    return dict(worst)


def _pair_key(pair: tuple[str, str]) -> tuple:
    baseline, oracle = pair
    order = list(all_oracles())
    rank = order.index(oracle) if oracle in order else len(order)
    return (baseline != "reference", rank, baseline, oracle)


def _ordered(values: Iterable, order: Sequence) -> list:
    return sorted(set(values), key=lambda v: (order.index(v) if v in order else len(order), v))


def pair_label(pair: tuple[str, str]) -> str:
    return f"{pair[0]} vs {pair[1]}"


def plot_name(cell: str, pair: tuple[str, str]) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{cell}-{pair[0]}-vs-{pair[1]}") + ".png"


def by_cell_and_pair(points: Iterable[Point]) -> dict[str, dict[tuple[str, str], list[Point]]]:
    """The points of each cell (registry order) and oracle pair (reference pairs first)."""
    grouped: dict[str, dict[tuple[str, str], list[Point]]] = defaultdict(lambda: defaultdict(list))
    for point in points:
        grouped[point.cell][point.pair].append(point)
    return {
        cell: {pair: grouped[cell][pair] for pair in sorted(grouped[cell], key=_pair_key)}
        for cell in _ordered(grouped, list(all_cells()))
    }


def _worst_error(points: Iterable[Point], kind: str) -> str:
    errors = [p.max_rel_err for p in points if p.kind.startswith(kind)]
    return f"{max(errors):.1e}" if errors else "-"


def summary_rows(points: Sequence[Point]) -> list[list[str]]:
    """cell × pair × dtype: worst value and gradient error, tolerance used, checks, result."""
    rows = [["cell", "pair", "dtype", "value", "gradient", "tol used", "checks", "known", "result"]]
    for cell, pairs in by_cell_and_pair(points).items():
        for pair, pair_points in pairs.items():
            for dtype in sorted({p.dtype for p in pair_points}):
                group = [p for p in pair_points if p.dtype == dtype]
                total = worst_by(group)[()]
                errors = [_worst_error(group, kind) for kind in ("value", "gradient")]
                counts = [percent(total.tolerance_used), str(total.checks), str(total.known)]
                rows.append([cell, pair_label(pair), dtype, *errors, *counts, total.result])
    return rows
