"""``gradparity certify``: the agreement suite on the default configuration, in parallel,
summarized as one table: cell × oracle × dtype, worst relative error per tensor kind; then the
error report (oracles/report.py) built from the same results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from oracles.errors import InputError
from oracles.report import (
    DEFAULT_OUT,
    Clock,
    ReportData,
    check_out,
    points_from_results,
    write_report,
)
from oracles.tables import format_table

RESULTS_ENV = "GRADPARITY_RESULTS_DIR"
CELL_BUDGET_SECONDS = 90.0
"""Each cell's share of the agreement suite: the seconds its tests spend computing and
comparing (oracles, reference, comparisons; not pytest's own overhead), summed over workers.
Measured on 2 shared cores: 9 s (dense) to about 90 s (lstm, the most options); most of it is
TensorFlow tracing one network per hidden size, dtype and option set. A cell over budget should
sample fewer cases or fewer option sets (its ``sample_cases`` in oracles/cells.py), so that the
whole suite stays under 5 minutes with ``pytest -n auto``."""
SUITE = Path(__file__).resolve().parents[1] / "tests" / "test_agreement.py"


def read_results(directory: Path) -> list[dict]:
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines() if line]
    return rows


def summarize(rows: list[dict]) -> tuple[str, bool]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in (r for r in rows if "skipped" not in r):
        groups[(row["cell"], row["oracle"], row["dtype"])].append(row)
    table = [
        ["cell", "oracle", "dtype", "value", "gradient", "tol used", "checks", "known", "result"]
    ]
    all_ok = bool(rows)
    for (cell, oracle, dtype), group in sorted(groups.items()):
        worst = {}
        for kind in ("value", "gradient"):
            errs = [r["max_rel_err"] for r in group if r["kind"].startswith(kind)]
            worst[kind] = f"{max(errs):.1e}" if errs else "-"
        checked = [r for r in group if not r["known_discrepancy"]]
        used = max((r["tolerance_used"] for r in checked), default=0.0)
        failed = [r for r in checked if not r["ok"]]
        known = len(group) - len(checked)
        all_ok &= not failed
        result = "pass" if not failed else f"FAIL ({len(failed)})"
        errors = [worst["value"], worst["gradient"], f"{used:.0%}"]
        table.append([cell, oracle, dtype, *errors, str(len(group)), str(known), result])
    return format_table(table), all_ok


def cell_seconds(rows: list[dict]) -> dict[str, float]:
    seconds: dict[str, float] = defaultdict(float)
    for row in rows:
        seconds[row["cell"]] += row.get("seconds", 0.0)
    return dict(seconds)


def budget_table(rows: list[dict]) -> str:
    """Each cell's seconds against ``CELL_BUDGET_SECONDS``; over budget is flagged."""
    table = [["cell", "seconds", "budget", ""]]
    for cell, seconds in sorted(cell_seconds(rows).items()):
        over = "OVER BUDGET: sample fewer cases" if seconds > CELL_BUDGET_SECONDS else ""
        table.append([cell, f"{seconds:.1f}", f"{CELL_BUDGET_SECONDS:.0f}", over])
    return "\n" + format_table(table)


def write_certify_report(rows: list[dict], out: Path, clock: Clock) -> None:
    points, skipped = points_from_results(rows)
    description = [
        f"Built from `gradparity certify`: the agreement suite ({SUITE.name}) on the registry's"
        " sample cases. Each point is the worst over the hidden sizes, batches, seeds, options"
        " and stacked cases at that sequence length (hidden size for a cell without a time axis).",
    ]
    data = ReportData("gradparity certify report", description, points, skipped, clock)
    files = write_report(data, out)
    print(f"report: {out / files[0]} and {len(files) - 1} plots")


def certify(workers: str = "auto", extra: list[str] | None = None, out: Path = DEFAULT_OUT) -> int:
    clock = Clock()
    check_out(out)
    if not SUITE.exists():
        raise InputError(
            f"certify runs the agreement suite {SUITE}, which is not there:"
            " install gradparity from a source checkout (pip install -e .)"
        )
    with tempfile.TemporaryDirectory(prefix="gradparity-certify-") as directory:
        env = {**os.environ, RESULTS_ENV: directory}
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(SUITE),
            "-q",
            "-p",
            "no:cacheprovider",
            "--no-header",
            "-n",
            workers,
            "--dist",
            "loadgroup",
            *(extra or []),
        ]
        print("running: " + " ".join(command[2:]), flush=True)
        completed = subprocess.run(
            command, cwd=SUITE.parents[1], env=env, stdout=subprocess.PIPE, text=True
        )
        tail = completed.stdout.strip().splitlines()[-1:] if completed.stdout else []
        rows = read_results(Path(directory))
    if completed.returncode not in (0, 1):
        print(completed.stdout)
        print(f"gradparity certify: pytest exited {completed.returncode}", file=sys.stderr)
        return 1
    table, all_ok = summarize(rows)
    print(table)
    print(
        "\nvalue, gradient: worst max_rel_err (relative to max|reference|); tol used: worst"
        " |diff| / (atol + rtol·scale), above 100% fails; known: strict xfails from the registry"
    )
    print("pytest: " + (tail[0] if tail else "no output"))
    print(budget_table(rows))
    write_certify_report(rows, out, clock)
    if completed.returncode == 1 or not all_ok:
        print(
            "CERTIFICATION FAILED: rerun the failing tests for the full messages", file=sys.stderr
        )
        return 1
    print("certified: every oracle agrees with the reference within the tolerance table")
    return 0
