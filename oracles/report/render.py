"""The error report on disk: one log-log plot per cell and oracle pair and a markdown page
with the numbers, versions and elapsed time, written whole or not at all. ``gradparity report``
builds it from a sweep (``report/sweep.py``), ``gradparity certify`` from the rows its suite
logs."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gradparity.catalog import get_cell
from gradparity.core.errors import InputError
from gradparity.core.files import write_directory_atomically
from gradparity.core.tolerances import TOLERANCES, tolerance
from gradparity.report.data import (
    GROUPS,
    Point,
    Skipped,
    Worst,
    _ordered,
    by_cell_and_pair,
    pair_label,
    plot_name,
    summary_rows,
    worst_by,
    x_label,
)
from gradparity.report.plots import ZERO_FLOOR, Curve, draw_figures
from gradparity.versions import versions

REPORT_NAME = "report.md"
DEFAULT_OUT = Path("gradparity-report")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (certify's pytest)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass(frozen=True)
class Clock:
    """Started with the run: its time and the machine's load then (it may be shared)."""

    wall: float = field(default_factory=time.perf_counter)
    cpu: float = field(default_factory=cpu_seconds)
    started: datetime = field(default_factory=lambda: datetime.now().astimezone())
    load: tuple[float, ...] = field(default_factory=os.getloadavg)

    def elapsed(self) -> tuple[float, float]:
        """Wall and CPU seconds since the clock started."""
        return time.perf_counter() - self.wall, cpu_seconds() - self.cpu

    def context(self) -> str:
        load = ", ".join(f"{v:.1f}" for v in self.load)
        started = self.started.isoformat(timespec="seconds")
        return f"Started {started}; load average at the start {load} on {os.cpu_count()} CPUs."


@dataclass
class ReportData:
    title: str
    description: list[str]  # markdown lines: what was run
    points: list[Point]
    skipped: Skipped
    clock: Clock  # started with the run; the report states the time up to its writing


def _curves(points: Sequence[Point]) -> dict[str, list[Curve]]:
    """Panels of one cell and pair: group -> one curve per dtype, worst over everything else."""
    worst = worst_by(points, "group", "dtype", "x")
    kinds = {(p.group, p.dtype): p.kind for p in points}
    panels: dict[str, list[Curve]] = {}
    for group in _ordered((p.group for p in points), GROUPS):
        panels[group] = []
        for dtype in sorted({d for g, d in kinds if g == group}):
            xs = sorted(x for g, d, x in worst if (g, d) == (group, dtype))
            series = [worst[(group, dtype, x)] for x in xs]
            panels[group].append(
                Curve(
                    dtype=dtype,
                    xs=xs,
                    errors=[w.max_rel_err for w in series],
                    failed=[w.failed > 0 for w in series],
                    rtol=tolerance(dtype, kinds[(group, dtype)]).rtol,
                )
            )
    return panels


def draw_plots(data: ReportData, directory: Path) -> dict[tuple[str, tuple[str, str]], str]:
    """One PNG per cell and oracle pair; returns their file names."""
    names, figures = {}, []
    for cell, pairs in by_cell_and_pair(data.points).items():
        for pair, points in pairs.items():
            name = plot_name(cell, pair)
            title = f"{cell}: {pair_label(pair)}, worst relative error per tensor group"
            figures.append((_curves(points), title, x_label(cell), directory / name))
            names[(cell, pair)] = name
    draw_figures(figures)
    return names


def _md_table(rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return lines + ["| " + " | ".join(row) + " |" for row in rows[1:]]


def _error_cell(worst: Worst | None) -> str:
    if worst is None:
        return "-"
    text = f"{worst.max_rel_err:.1e}"
    if worst.failed:
        text = f"**{text}**"
    return text + (" (known)" if worst.known else "")


def _pair_table(points: Sequence[Point], axis: str) -> list[str]:
    worst = worst_by(points, "group", "dtype", "x")
    xs = sorted({p.x for p in points})
    rows = [["group", "dtype", *(f"{axis}={x}" for x in xs)]]
    for group in _ordered((p.group for p in points), GROUPS):
        for dtype in sorted({p.dtype for p in points if p.group == group}):
            rows.append([group, dtype, *(_error_cell(worst.get((group, dtype, x))) for x in xs)])
    return _md_table(rows)


def _skipped_lines(skipped: Skipped) -> list[str]:
    if not skipped:
        return ["None: every oracle asked for ran on every cell."]
    rows = [["cell", "oracle", "cases", "reason"]]
    for (cell, oracle), reasons in sorted(skipped.items()):
        rows += [[cell, oracle, str(n), reason.replace("|", "/")] for reason, n in reasons.items()]
    return _md_table(rows)


def _tolerance_lines() -> list[str]:
    rows = [["dtype", "kind", "rtol", "atol"]]
    rows += [[d, k, f"{t.rtol:g}", f"{t.atol:g}"] for (d, k), t in TOLERANCES.items()]
    return _md_table(rows)


def render_markdown(data: ReportData, plots: Mapping[tuple[str, tuple[str, str]], str]) -> str:
    wall, cpu = data.clock.elapsed()
    lines = [f"# {data.title}", "", data.clock.context(), "", *data.description, ""]
    lines.append(f"Elapsed: {wall:.0f} s wall, {cpu:.0f} s CPU ({len(data.points)} comparisons).")
    installed = [[name, version or "not installed"] for name, version in versions().items()]
    lines += ["", "## Versions", "", *_md_table([["package", "version"], *installed])]
    lines += ["", "## Summary", ""]
    lines.append(
        "value, gradient: worst relative error, `max|diff| / max|reference|` (along one random"
        " direction for large numerical cases); tol used: worst `|diff| / (atol + rtol·scale)`,"
        " above 100% fails; known: declared discrepancies (registry), not counted as failures."
    )
    lines += ["", *_md_table(summary_rows(data.points))]
    lines += ["", "## Skipped oracles", "", *_skipped_lines(data.skipped)]
    lines += ["", "## Tolerances (gradparity/core/tolerances.py)", "", *_tolerance_lines(), ""]
    lines.append(
        "Plots: the dashed lines are each dtype's `rtol`; a red x is above the tolerance"
        f" `atol + rtol·scale`; an exact agreement (0) is drawn at {ZERO_FLOOR:g}."
        " Tables: bold is above the tolerance. Parameter gradients include the output head's"
        " (`W_y`, `b_y`)."
    )
    for cell, pairs in by_cell_and_pair(data.points).items():
        axis = "T" if get_cell(cell).recurrent else "H"
        lines += ["", f"## {cell}", "", f"x axis: {x_label(cell)}."]
        for pair, points in pairs.items():
            label = pair_label(pair)
            lines += ["", f"### {cell}: {label}", "", f"![{cell}: {label}]({plots[(cell, pair)]})"]
            lines += ["", *_pair_table(points, axis)]
    return "\n".join(lines) + "\n"


def _is_report_file(path: Path) -> bool:
    suffixes = (".md", ".png", ".jsonl", ".json")  # certify keeps its raw results too
    return path.is_file() and not path.is_symlink() and path.suffix in suffixes


def check_out(out: Path) -> None:
    """``out`` can take a report: new, empty, or a previous report (only its .md, .png and raw
    .jsonl/.json files)."""
    if out.is_symlink():
        raise InputError(f"--out {out} is a symbolic link; give a directory path")
    if out.exists():
        if not out.is_dir():
            raise InputError(f"--out {out} exists and is not a directory")
        foreign = sorted(p.name for p in out.iterdir() if not _is_report_file(p))
        if foreign:
            raise InputError(
                f"--out {out} holds {foreign[0]!r}, which is not part of a report;"
                " give a new or empty directory"
            )
    parent = out.absolute().parent
    if not parent.is_dir():
        raise InputError(f"--out {out}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: cannot write in {parent}")


def write_report(data: ReportData, out: Path, raw: Mapping[str, str] | None = None) -> list[str]:
    """report.md and the plots (and ``raw``: file name → text), staged beside ``out`` and
    renamed into place at the end: an interrupted run leaves no partial report. Returns the
    files written."""
    check_out(out)
    written: list[str] = []

    def fill(staging: Path) -> None:
        plots = draw_plots(data, staging)
        (staging / REPORT_NAME).write_text(render_markdown(data, plots))
        for name, text in (raw or {}).items():
            (staging / name).write_text(text)
        written.extend([REPORT_NAME, *plots.values(), *(raw or {})])

    write_directory_atomically(out, fill)
    return written


def summary_json(data: ReportData, out: Path, files: Sequence[str]) -> dict[str, Any]:
    worst = worst_by(data.points, "cell", "pair", "dtype", "group", "x")
    wall, cpu = data.clock.elapsed()
    return {
        "out": str(out),
        "files": list(files),
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "comparisons": len(data.points),
        "failed": sum(w.failed for w in worst.values()),
        "worst": [
            {
                "cell": cell,
                "pair": list(pair),
                "dtype": dtype,
                "group": group,
                "x": x,
                "max_rel_err": w.max_rel_err,
                "tolerance_used": w.tolerance_used,
                "checks": w.checks,
                "failed": w.failed,
                "known": w.known,
            }
            for (cell, pair, dtype, group, x), w in worst.items()
        ],
        "skipped": [
            {"cell": cell, "oracle": oracle, "reason": reason, "cases": n}
            for (cell, oracle), reasons in data.skipped.items()
            for reason, n in reasons.items()
        ],
    }
