"""The sweep of ``gradparity report``: every cell × hidden size × dtype × sequence length, each
case through the reference and every oracle, every tensor compared (and every pair of
framework oracles with each other)."""

from __future__ import annotations

import logging
import sys
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

from oracles.base import DEFAULT_ORACLES, Tensors, get_oracle
from oracles.cases import DTYPES, Case, make_problem, tensor_names
from oracles.errors import OracleUnavailable
from oracles.harness import compare_tensors, kind_for, oracle_tensors, run_reference
from oracles.registry import get_cell
from oracles.report import Point, Skipped, point_of
from oracles.tolerances import tolerance

SEQ_LENS = (1, 3, 10, 32, 100, 316, 1000)
HIDDEN_SIZES = (8, 64)


@dataclass(frozen=True)
class Sweep:
    cells: tuple[str, ...]
    seq_lens: tuple[int, ...] = SEQ_LENS
    hidden_sizes: tuple[int, ...] = HIDDEN_SIZES
    dtypes: tuple[str, ...] = DTYPES
    oracles: tuple[str, ...] = DEFAULT_ORACLES
    input_size: int = 5
    batch: int = 2
    seed: int = 0

    def cases(self) -> list[Case]:
        """Every case, validated; a cell without a time axis gets one per hidden size."""
        cases = []
        for cell in self.cells:
            lengths = self.seq_lens if get_cell(cell).recurrent else (1,)
            for hidden in self.hidden_sizes:
                for dtype in self.dtypes:
                    cases += [
                        Case.make(
                            cell,
                            input_size=self.input_size,
                            hidden_size=hidden,
                            seq_len=steps,
                            batch=self.batch,
                            seed=self.seed,
                            dtype=dtype,
                        )
                        for steps in lengths
                    ]
        return cases

    def describe(self) -> list[str]:
        def listed(values: tuple) -> str:
            return ", ".join(map(str, values))

        return [
            f"Sweep: cells {listed(self.cells)}; sequence lengths {listed(self.seq_lens)};"
            f" hidden sizes {listed(self.hidden_sizes)}; dtypes {listed(self.dtypes)};"
            f" oracles {listed(self.oracles)} against the reference, and the framework oracles"
            f" against each other; input size {self.input_size}, batch {self.batch},"
            f" seed {self.seed}, default options. A cell without a time axis is swept over the"
            " hidden sizes only. Each point is the worst over the hidden sizes and over the"
            " tensors of its group.",
        ]


def run_sweep(sweep: Sweep, cases: list[Case] | None = None) -> tuple[list[Point], Skipped]:
    """Every case of the sweep, with a progress bar on stderr (when it is a terminal)."""
    from tqdm import tqdm

    logging.getLogger("tensorflow").setLevel(logging.ERROR)  # its retracing notes, one per shape
    points: list[Point] = []
    skipped: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    progress = tqdm(
        cases if cases is not None else sweep.cases(),
        desc="report",
        unit="case",
        file=sys.stderr,
        disable=None,
        dynamic_ncols=True,
    )
    for case in progress:
        progress.set_postfix_str(case.id, refresh=False)
        points += case_points(case, sweep.oracles, skipped)
    return points, {k: dict(v) for k, v in skipped.items()}


def case_points(
    case: Case, oracle_names: tuple[str, ...], skipped: dict[tuple[str, str], dict[str, int]]
) -> list[Point]:
    """One point per tensor and oracle pair; an oracle that cannot run is counted in
    ``skipped[(cell, oracle)][reason]``."""
    spec = case.spec
    problem = make_problem(case)
    reference = run_reference(spec, problem)
    names = tensor_names(case)
    runs: dict[str, Tensors] = {}
    points = []
    for name in oracle_names:
        oracle = get_oracle(name)
        try:
            reason = oracle.unsupported(spec)
            if reason:
                raise OracleUnavailable(reason)
            runs[name] = oracle.run(spec, problem)
        except OracleUnavailable as reason:
            skipped[(case.cell, name)][str(reason)] += 1
            continue
        kinds = {n: kind_for(oracle, n) for n in oracle_tensors(oracle, names)}
        points += _points(case, kinds, reference, runs[name], "reference", name)
    frameworks = [n for n in runs if get_oracle(n).computes_values]
    for baseline, name in combinations(frameworks, 2):
        kinds = {n: kind_for(get_oracle(name), n) for n in names}
        points += _points(case, kinds, runs[baseline], runs[name], baseline, name)
    return points


def _points(
    case: Case,
    kinds: dict[str, str],
    baseline: Tensors,
    candidate: Tensors,
    baseline_name: str,
    oracle_name: str,
) -> list[Point]:
    tol = {k: tolerance(case.dtype, k) for k in set(kinds.values())}
    comparisons = compare_tensors(oracle_name, kinds, baseline, candidate, tol, baseline_name)
    spec = case.spec
    sides = [oracle_name] + ([baseline_name] if baseline_name != "reference" else [])
    return [
        point_of(case, c, any(spec.discrepancy(s, c.tensor, case.dtype) for s in sides))
        for c in comparisons
    ]
