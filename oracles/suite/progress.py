"""What ``gradparity certify`` sees of its pytest run, in pytest's controller process: progress
per cell on stderr, and the outcome of every test that did not pass, as JSON lines in the
results directory (``outcomes.jsonl``), so that a summary (and ``--merge``) can name them.

On a terminal the progress is one line rewritten in place; without one, a line whenever a cell
finishes and at every tenth of the run.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import IO

import pytest

from gradparity.core.text import dumps

OUTCOMES = "outcomes.jsonl"
_CELL = re.compile(r"\[([^\[\]]+?)-I\d+-H\d+")


def cell_of(nodeid: str) -> str:
    """The cell of an agreement test (its case id comes first in the test's id); another
    test's function name."""
    found = _CELL.search(nodeid)
    return found[1] if found else nodeid.rpartition("::")[2].partition("[")[0]


class Progress:
    """A pytest plugin object: counts tests per cell as their reports arrive."""

    def __init__(self, results: Path, stream: IO[str] | None = None):
        self.results = results
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.totals: Counter[str] = Counter()
        self.done: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.started = time.perf_counter()
        self._tenth = 0

    def collected(self, nodeids: list[str]) -> None:
        if not self.totals:
            self.totals.update(cell_of(n) for n in nodeids)
            cells = ", ".join(f"{c} {n}" for c, n in sorted(self.totals.items()))
            self._say(f"certify: {sum(self.totals.values())} tests ({cells})", final=True)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self.collected(list(ids))

    def pytest_collection_finish(self, session) -> None:
        if not hasattr(session.config, "workerinput"):
            self.collected([item.nodeid for item in session.items])

    def pytest_runtest_logreport(self, report) -> None:
        if report.failed:
            self._outcome(report)
        finished = report.when == "call" or (report.when == "setup" and not report.passed)
        if not finished:
            return
        cell = cell_of(report.nodeid)
        self.done[cell] += 1
        self.failed[cell] += int(report.failed)
        self._show(cell)

    def _outcome(self, report) -> None:
        message = str(report.longrepr).strip().splitlines() if report.longrepr else []
        row = {
            "test": report.nodeid,
            "cell": cell_of(report.nodeid),
            "when": report.when,
            "outcome": "failed" if report.when == "call" else "error",
            "message": message[-1][:500] if message else "",
        }
        with (self.results / OUTCOMES).open("a") as handle:
            handle.write(dumps(row) + "\n")

    def _show(self, cell: str) -> None:
        done, total = sum(self.done.values()), sum(self.totals.values()) or 1
        seconds = time.perf_counter() - self.started
        failed = sum(self.failed.values())
        status = f"certify: {done}/{total} tests, {seconds:.0f} s" + (
            f", {failed} failed" if failed else ""
        )
        if self.live:
            self._say(f"{status}; {cell} {self.done[cell]}/{self.totals[cell]}", final=False)
            return
        if self.done[cell] == self.totals[cell]:
            failures = f", {self.failed[cell]} failed" if self.failed[cell] else ""
            self._say(f"certify: {cell} done ({self.totals[cell]} tests{failures})", final=True)
        if done * 10 // total > self._tenth:
            self._tenth = done * 10 // total
            self._say(status, final=True)

    def _say(self, text: str, final: bool) -> None:
        if self.live:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def pytest_sessionfinish(self, session) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()
