"""``gradparity certify``: the agreement suite (``gradparity.suite.agreement``, shipped in the
package) on the default configuration, in parallel, summarized as one table (cell × oracle pair
× dtype, worst relative error per tensor kind, the report's summary table); then the error
report, built from the same results. Runs anywhere gradparity is installed: pytest starts in a
temporary directory with an empty configuration, so the caller's own pytest settings and tests
stay out of it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from gradparity.core.text import format_table
from gradparity.report.data import points_from_results, summary_rows
from gradparity.report.render import DEFAULT_OUT, Clock, ReportData, check_out, write_report
from gradparity.suite.plugin import RESULTS_ENV, SUITE

CELL_BUDGET_SECONDS = 90.0
"""Each cell's share of the agreement suite: the seconds its tests spend computing and
comparing (oracles, reference, comparisons; not pytest's own overhead), summed over workers.
Measured on 2 shared cores: 9 s (dense) to about 90 s (lstm, the most options); most of it is
TensorFlow tracing one network per hidden size, dtype and option set. A cell over budget should
sample fewer cases or fewer option sets (its ``sample_cases`` in gradparity/cells.py), so that
the whole suite stays under 5 minutes with ``pytest -n auto``."""


def read_results(directory: Path) -> list[dict]:
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text().splitlines() if line]
    return rows


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
        "Built from `gradparity certify`: the agreement suite (gradparity.suite.agreement) on the"
        " registry's sample cases. Each point is the worst over the hidden sizes, batches, seeds,"
        " options and stacked cases at that sequence length (hidden size for a cell without a"
        " time axis).",
    ]
    data = ReportData("gradparity certify report", description, points, skipped, clock)
    files = write_report(data, out)
    print(f"report: {out / files[0]} and {len(files) - 1} plots")


def pytest_command(workers: str, extra: list[str], directory: Path) -> list[str]:
    """The suite alone, from ``directory``, whatever configuration the caller's project has."""
    ini = directory / "pytest.ini"
    ini.write_text("[pytest]\n")
    return [
        sys.executable,
        "-m",
        "pytest",
        str(SUITE),
        "-c",
        str(ini),
        "--rootdir",
        str(SUITE.parent),
        "-o",
        "gradparity_pin=true",
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-header",
        "-n",
        workers,
        "--dist",
        "loadgroup",
        *extra,
    ]


def certify(workers: str = "auto", extra: list[str] | None = None, out: Path = DEFAULT_OUT) -> int:
    clock = Clock()
    out = out.absolute()
    check_out(out)
    with tempfile.TemporaryDirectory(prefix="gradparity-certify-") as directory:
        results = Path(directory) / "results"
        results.mkdir()
        command = pytest_command(workers, list(extra or []), Path(directory))
        print("running: pytest " + " ".join(command[3:]), file=sys.stderr, flush=True)
        env = {**os.environ, RESULTS_ENV: str(results)}
        completed = subprocess.run(
            command, cwd=directory, env=env, stdout=subprocess.PIPE, text=True
        )
        tail = completed.stdout.strip().splitlines()[-1:] if completed.stdout else []
        rows = read_results(results)
    if completed.returncode not in (0, 1):
        print(completed.stdout)
        print(f"gradparity certify: pytest exited {completed.returncode}", file=sys.stderr)
        return 1
    points, _ = points_from_results(rows)
    print(format_table(summary_rows(points)))
    print(
        "\nvalue, gradient: worst max_rel_err (relative to max|reference|); tol used: worst"
        " |diff| / (atol + rtol·scale), above 100% fails; known: strict xfails from the registry"
    )
    print("pytest: " + (tail[0] if tail else "no output"))
    print(budget_table(rows))
    write_certify_report(rows, out, clock)
    failed = any(not row["ok"] and not row["known_discrepancy"] for row in rows if "ok" in row)
    if completed.returncode == 1 or failed or not rows:
        print(
            "CERTIFICATION FAILED: rerun the failing tests for the full messages", file=sys.stderr
        )
        return 1
    print("certified: every oracle agrees with the reference within the tolerance table")
    return 0


def cmd_certify(args: argparse.Namespace) -> int:
    return certify(workers=args.workers, extra=args.pytest_args, out=args.out)
