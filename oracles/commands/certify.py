"""``gradparity certify``: the agreement suite (``gradparity.suite.agreement``, shipped in the
package) on the default configuration, in parallel, summarized as one table (cell × oracle pair
× dtype, worst relative error per tensor kind, the report's summary table); then the error
report, built from the same results. Runs anywhere gradparity is installed: pytest starts in a
temporary directory with an empty configuration, so the caller's own pytest settings and tests
stay out of it.

``--shard K/N`` runs the K-th of N deterministic parts (``suite.sharding``); each shard's report
directory keeps its raw results (``results.jsonl``, ``outcomes.jsonl``, ``certify.json``), and
``--merge DIR…`` combines the shards' directories into the summary and report of one run.
Progress goes to stderr; the summary (failures first), the tables and the verdict to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from gradparity.commands.certify_summary import budget_warnings, failure_summary
from gradparity.core.errors import InputError
from gradparity.core.text import dumps, format_table
from gradparity.report.data import points_from_results, summary_rows
from gradparity.report.render import DEFAULT_OUT, Clock, ReportData, check_out, write_report
from gradparity.suite.plugin import RESULTS_ENV, SUITE
from gradparity.suite.progress import OUTCOMES
from gradparity.suite.sharding import parse_shard

CELL_BUDGET_SECONDS = 90.0
"""Each cell's share of the agreement suite: the seconds its tests spend computing and
comparing (oracles, reference, comparisons), summed over workers and shards. Loading a
framework is left out (``Oracle.ready``) and nothing is cached between runs, so a first run and
a warm run measure the same work. docs/adding-a-cell.md says what to do about a cell over it."""

RESULTS, RUN = "results.jsonl", "certify.json"


def read_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def read_results(directory: Path) -> list[dict]:
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        if path.name != OUTCOMES:
            rows += read_lines(path)
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
        over = "OVER BUDGET" if seconds > CELL_BUDGET_SECONDS else ""
        table.append([cell, f"{seconds:.1f}", f"{CELL_BUDGET_SECONDS:.0f}", over])
    return "\n" + format_table(table)


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


def certify(
    workers: str = "auto",
    extra: Sequence[str] = (),
    out: Path = DEFAULT_OUT,
    shard: str | None = None,
) -> int:
    clock = Clock()
    out = out.absolute()
    check_out(out)
    arguments = [*extra, *(["--gradparity-shard", shard] if shard else [])]
    with tempfile.TemporaryDirectory(prefix="gradparity-certify-") as directory:
        results = Path(directory) / "results"
        results.mkdir()
        command = pytest_command(workers, arguments, Path(directory))
        print("running: pytest " + " ".join(command[3:]), file=sys.stderr, flush=True)
        env = {**os.environ, RESULTS_ENV: str(results)}
        completed = subprocess.run(
            command, cwd=directory, env=env, stdout=subprocess.PIPE, text=True
        )
        tail = completed.stdout.strip().splitlines()[-1:] if completed.stdout else []
        rows, outcomes = read_results(results), read_lines(results / OUTCOMES)
    if completed.returncode not in (0, 1):
        print(completed.stdout)
        print(f"gradparity: error: pytest exited {completed.returncode}", file=sys.stderr)
        return 1
    run = {"shard": shard, "pytest": tail[0] if tail else "no output", "exit": completed.returncode}
    return conclude(rows, outcomes, [run], out, clock)


def merge(directories: Sequence[Path], out: Path = DEFAULT_OUT) -> int:
    """The shards' results (each a report directory of ``certify --shard``) as one run."""
    clock = Clock()
    out = out.absolute()
    check_out(out)
    rows, outcomes, runs = [], [], []
    for directory in directories:
        if not (directory / RUN).is_file() or not (directory / RESULTS).is_file():
            raise InputError(
                f"--merge {directory}: no {RUN} and {RESULTS}; expected the report directory of"
                " a 'gradparity certify --shard K/N' run"
            )
        run = json.loads((directory / RUN).read_text())
        if "merged" in run:
            raise InputError(f"--merge {directory}: a merged report; merge the shards' own")
        runs.append(run)
        rows += read_lines(directory / RESULTS)
        outcomes += read_lines(directory / OUTCOMES)
    _check_shards([run["shard"] for run in runs], directories)
    return conclude(rows, outcomes, runs, out, clock)


def _check_shards(shards: list[str | None], directories: Sequence[Path]) -> None:
    """Exactly the shards 1..N of one N, each once."""
    if any(shard is None for shard in shards):
        raise InputError("--merge: a directory holds an unsharded run; merge --shard K/N runs")
    parsed = [parse_shard(shard) for shard in shards if shard]
    counts = {n for _, n in parsed}
    if len(counts) != 1:
        raise InputError(f"--merge: shards of different splits ({', '.join(map(str, shards))})")
    (count,) = counts
    seen = sorted(k for k, _ in parsed)
    if seen != list(range(1, count + 1)):
        missing = sorted(set(range(1, count + 1)) - set(seen))
        twice = sorted({k for k in seen if seen.count(k) > 1})
        what = f"missing {missing}" if missing else f"given twice: {twice}"
        raise InputError(f"--merge: shards of {count} {what} ({len(directories)} directories)")


def conclude(rows: list[dict], outcomes: list[dict], runs: list[dict], out: Path, clock) -> int:
    """Summary (failures first), tables, budget, report; 0 when certified."""
    failed_runs = any(run["exit"] == 1 for run in runs)
    summary = failure_summary(rows, outcomes)
    if summary:
        print(summary + "\n")
    print(format_table(summary_rows(points_from_results(rows)[0])))
    print(
        "\nvalue, gradient: worst max_rel_err (relative to max|reference|); tol used: worst"
        " |diff| / (atol + rtol·scale), above 100% fails; known: strict xfails from the registry"
    )
    for run in runs:
        print(
            "pytest" + (f" (shard {run['shard']})" if run["shard"] else "") + ": " + run["pytest"]
        )
    print(budget_table(rows))
    for warning in budget_warnings(cell_seconds(rows), CELL_BUDGET_SECONDS):
        print(f"gradparity: warning: {warning}", file=sys.stderr)
    write_certify_report(rows, out, clock, outcomes, runs)
    if failed_runs or summary or not rows:
        print("CERTIFICATION FAILED: see the summary above", file=sys.stderr)
        return 1
    print("certified: every oracle agrees with the reference within the tolerance table")
    return 0


def write_certify_report(
    rows: list[dict],
    out: Path,
    clock: Clock,
    outcomes: Sequence[dict] = (),
    runs: Sequence[dict] = (),
) -> list[str]:
    """The report of the rows, with the raw results kept beside it (for ``--merge``)."""
    points, skipped = points_from_results(rows)
    description = [
        "Built from `gradparity certify`: the agreement suite (gradparity.suite.agreement) on the"
        " registry's sample cases. Each point is the worst over the hidden sizes, batches, seeds,"
        " options and stacked cases at that sequence length (hidden size for a cell without a"
        " time axis).",
    ]
    data = ReportData("gradparity certify report", description, points, skipped, clock)
    raw = {
        RESULTS: "".join(dumps(row) + "\n" for row in rows),
        OUTCOMES: "".join(dumps(row) + "\n" for row in outcomes),
        RUN: dumps(runs[0] if len(runs) == 1 else {"merged": list(runs)}) + "\n",
    }
    files = write_report(data, out, raw)
    print(f"report: {out / files[0]} and {len(files) - 1} other files")
    return files


def cmd_certify(args: argparse.Namespace) -> int:
    if args.merge:
        if args.shard or args.pytest_args:
            raise InputError("--merge combines finished shards; give no --shard or pytest args")
        return merge(args.merge, out=args.out)
    return certify(workers=args.workers, extra=args.pytest_args, out=args.out, shard=args.shard)
