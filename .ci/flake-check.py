"""Run the agreement suite many times with different worker counts; every run must pass and
give bit-identical numbers (the per-tensor results that certify logs).

    python .ci/flake-check.py [--runs 20] [--workers 0,1,2] [-k EXPRESSION]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(workers: str, expression: str | None) -> tuple[int, dict, float]:
    with tempfile.TemporaryDirectory() as results:
        command = [sys.executable, "-m", "pytest", "tests/test_agreement.py", "-q", "-n", workers]
        command += ["--dist", "loadgroup"] if workers != "0" else []
        command += ["-k", expression] if expression else []
        start = time.perf_counter()
        done = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, "GRADPARITY_RESULTS_DIR": results},
            stdout=subprocess.PIPE,
            text=True,
        )
        elapsed = time.perf_counter() - start
        rows = {}
        for path in Path(results).glob("*.jsonl"):
            for line in path.read_text().splitlines():
                row = json.loads(line)
                if "skipped" in row:
                    continue
                rows[f"{row['case']}-{row['oracle']}-{row['tensor']}"] = (
                    row["ok"],
                    row["max_rel_err"],
                )
    return done.returncode, rows, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", default="0,1,2")
    parser.add_argument("-k", dest="expression", default=None)
    args = parser.parse_args()
    counts = args.workers.split(",")
    first: dict | None = None
    flaky = 0
    for run in range(args.runs):
        workers = counts[run % len(counts)]
        code, rows, elapsed = one_run(workers, args.expression)
        same = first is None or rows == first
        first = rows if first is None else first
        failed = sum(not ok for ok, _ in rows.values())
        flaky += code != 0 or not same or failed > 0
        print(
            f"run {run + 1:2d}: -n {workers}  exit {code}  {len(rows)} comparisons,"
            f" {failed} failed, identical to run 1: {same}  ({elapsed:.0f} s)",
            flush=True,
        )
    print(f"{args.runs} runs, {flaky} with a failure or a changed number")
    return 1 if flaky else 0


if __name__ == "__main__":
    sys.exit(main())
