"""``gradparity report``: every cell × hidden size × dtype × sequence length, each case through
the reference and every oracle (the one loop, ``core.loop``), every tensor compared, and every
pair of framework oracles with each other."""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from gradparity.catalog import get_cell
from gradparity.commands.arguments import (
    DTYPE_LIST,
    POSITIVE_INTS,
    add_oracles_and_json,
    cells_argument,
)
from gradparity.core.cases import Case, make_problem, tensor_names
from gradparity.core.loop import Report, compare_runs, run_oracles, run_reference
from gradparity.core.text import dumps, format_table
from gradparity.core.validate import DTYPES
from gradparity.frameworks import all_oracles, default_oracles, get_oracle
from gradparity.report.data import Point, Skipped, point_of, summary_rows
from gradparity.report.render import (
    DEFAULT_OUT,
    Clock,
    ReportData,
    check_out,
    summary_json,
    write_report,
)

SEQ_LENS = (1, 3, 10, 32, 100, 316, 1000)
HIDDEN_SIZES = (8, 64)


@dataclass(frozen=True)
class Sweep:
    cells: tuple[str, ...]
    seq_lens: tuple[int, ...] = SEQ_LENS
    hidden_sizes: tuple[int, ...] = HIDDEN_SIZES
    dtypes: tuple[str, ...] = DTYPES
    oracles: tuple[str, ...] = field(default_factory=default_oracles)
    input_size: int = 5
    batch: int = 2
    seed: int = 0
    ragged: bool = False  # per-example lengths: row b of a T-step batch has ragged_lengths(T)

    def ragged_lengths(self, steps: int) -> tuple[int, ...] | None:
        """Row b is valid for ⌈T (B − b) / B⌉ steps (the first row for all T), or None."""
        if not self.ragged:
            return None
        return tuple(-(-steps * (self.batch - b) // self.batch) for b in range(self.batch))

    def cases(self) -> list[Case]:
        """Every case, validated; a cell without a time axis gets one per hidden size."""
        cases = []
        for cell in self.cells:
            spec = get_cell(cell)
            lengths = self.seq_lens if spec.recurrent else (1,)
            for hidden in self.hidden_sizes:
                for dtype in self.dtypes:
                    cases += [
                        Case.make(
                            spec,
                            input_size=self.input_size,
                            hidden_size=hidden,
                            seq_len=steps,
                            batch=self.batch,
                            seed=self.seed,
                            dtype=dtype,
                            lengths=self.ragged_lengths(steps) if spec.recurrent else None,
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
            f" seed {self.seed}, default options"
            + (
                ", per-example lengths (row b valid for ⌈T (B − b) / B⌉ steps)"
                if self.ragged
                else ""
            )
            + ". A cell without a time axis is swept over the"
            " hidden sizes only. Each point is the worst over the hidden sizes and over the"
            " tensors of its group.",
        ]


def run_sweep(sweep: Sweep, cases: list[Case] | None = None) -> tuple[list[Point], Skipped]:
    """Every case of the sweep, with a progress bar on stderr (when it is a terminal)."""
    from tqdm import tqdm

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
    """One point per tensor and oracle pair; an oracle that cannot run (or fails) is counted in
    ``skipped[(cell, oracle)][reason]``."""
    spec, problem = case.spec, make_problem(case)
    reference = run_reference(spec, problem)
    names = tensor_names(case)
    report = Report()
    oracles = [get_oracle(name) for name in oracle_names]
    runs = run_oracles(oracles, spec, problem, report, explicit=False)
    for name, reason in (report.skipped | report.errors).items():
        skipped[(case.cell, name)][reason] += 1
    comparisons = compare_runs(all_oracles(), names, reference, runs, case.dtype)
    frameworks = [n for n in runs if get_oracle(n).computes_values]
    for baseline, name in combinations(frameworks, 2):
        shared = [n for n in names if n in runs[baseline] and n in runs[name]]
        pair = {name: runs[name]}
        comparisons += compare_runs(
            all_oracles(), shared, runs[baseline], pair, case.dtype, baseline
        )
    points = []
    for comparison in comparisons:
        sides = [comparison.oracle, comparison.baseline]
        known = any(spec.discrepancy(s, comparison.tensor, case.dtype) for s in sides)
        points.append(point_of(case, comparison, known))
    return points


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    def listed(values) -> str:
        return ",".join(map(str, values))

    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help=f"default: {DEFAULT_OUT}"
    )
    parser.add_argument("--cells", default=None, help="comma-separated (default: every cell)")
    parser.add_argument("--seq-lens", type=POSITIVE_INTS, default=SEQ_LENS, metavar="T,T")
    parser.add_argument("--hidden-sizes", type=POSITIVE_INTS, default=HIDDEN_SIZES, metavar="H,H")
    parser.add_argument("--dtypes", type=DTYPE_LIST, default=DTYPES, metavar="DTYPE,DTYPE")
    parser.add_argument(
        "--ragged",
        action="store_true",
        help="per-example lengths: row b of a T-step batch valid for ceil(T (B - b) / B) steps",
    )
    add_oracles_and_json(parser)
    parser.epilog = (
        f"defaults: --seq-lens {listed(SEQ_LENS)} --hidden-sizes {listed(HIDDEN_SIZES)};"
        " exit 0 once the report is written (errors above the tolerance are marked in it)"
    )


def cmd_report(args: argparse.Namespace) -> int:
    clock = Clock()
    cells = cells_argument(args.cells)
    out = args.out
    check_out(out)
    oracles = args.oracles or default_oracles()
    sweep = Sweep(cells, args.seq_lens, args.hidden_sizes, args.dtypes, oracles, ragged=args.ragged)
    points, skipped = run_sweep(sweep, sweep.cases())
    data = ReportData("gradparity report", sweep.describe(), points, skipped, clock)
    files = write_report(data, out)
    if args.json:
        print(dumps(summary_json(data, out, files)))
    else:
        wall, cpu = clock.elapsed()
        print(format_table(summary_rows(points)))
        plots = len(files) - 1
        print(f"\nwrote {out / files[0]} and {plots} plots ({wall:.0f} s, {cpu:.0f} s CPU)")
    for (cell, oracle), reasons in skipped.items():
        for reason in reasons:
            print(f"skipped {oracle} on {cell}: {reason}", file=sys.stderr)
    return 0
