"""The error report: how far each oracle is from the reference as sequences grow.

For every cell, oracle pair and dtype: the worst relative error of each tensor group against
the sequence length (the hidden size for a cell without a time axis), as PNG plots and a
markdown page with the numbers. ``gradparity report`` builds it from a sweep
(``oracles/sweep.py``), ``gradparity certify`` from the rows its suite logs; both write it with
``write_report``.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from oracles.cases import Case
from oracles.compare import Comparison
from oracles.errors import InputError
from oracles.plots import ZERO_FLOOR, Curve, error_figure
from oracles.registry import all_cells, get_cell
from oracles.tolerances import TOLERANCES, tolerance

GROUPS = (
    "outputs",
    "final states",
    "loss",
    "parameter gradients",
    "input gradient",
    "initial-state gradients",
)
PAIR_ORDER = ("torch", "tf", "numerical", "fd")
REPORT_NAME = "report.md"
DEFAULT_OUT = Path("gradparity-report")

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
    """Points from the JSON rows the agreement suite logs for certify (tests/test_agreement.py)."""
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
    rank = PAIR_ORDER.index(oracle) if oracle in PAIR_ORDER else len(PAIR_ORDER)
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
    names = {}
    for cell, pairs in by_cell_and_pair(data.points).items():
        for pair, points in pairs.items():
            name = plot_name(cell, pair)
            title = f"{cell}: {pair_label(pair)}, worst relative error per tensor group"
            error_figure(_curves(points), title, x_label(cell), directory / name)
            names[(cell, pair)] = name
    return names


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
                counts = [f"{total.tolerance_used:.0%}", str(total.checks), str(total.known)]
                rows.append([cell, pair_label(pair), dtype, *errors, *counts, total.result])
    return rows


def versions() -> list[tuple[str, str]]:
    """Versions from the installed distributions' metadata (no framework is imported)."""
    found = [("python", platform.python_version()), ("platform", platform.platform())]
    for names in (("numpy",), ("torch",), ("tensorflow-cpu", "tensorflow"), ("keras",)):
        version = "not installed"
        for name in names:
            try:
                version = metadata.version(name)
                break
            except metadata.PackageNotFoundError:
                continue
        found.append((names[-1], version))
    found.append(("matplotlib", metadata.version("matplotlib")))
    return found


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
    lines += ["", "## Versions", "", *_md_table([["package", "version"], *map(list, versions())])]
    lines += ["", "## Summary", ""]
    lines.append(
        "value, gradient: worst relative error, `max|diff| / max|reference|` (along one random"
        " direction for large numerical cases); tol used: worst `|diff| / (atol + rtol·scale)`,"
        " above 100% fails; known: declared discrepancies (registry), not counted as failures."
    )
    lines += ["", *_md_table(summary_rows(data.points))]
    lines += ["", "## Skipped oracles", "", *_skipped_lines(data.skipped)]
    lines += ["", "## Tolerances (oracles/tolerances.py)", "", *_tolerance_lines(), ""]
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
    return path.is_file() and not path.is_symlink() and path.suffix in (".md", ".png")


def check_out(out: Path) -> None:
    """``out`` can take a report: new, empty, or a previous report (only .md and .png files)."""
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


def write_report(data: ReportData, out: Path) -> list[str]:
    """report.md and the plots, staged beside ``out`` and renamed into place at the end: an
    interrupted run leaves no partial report. Returns the files written."""
    check_out(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.absolute().parent))
    try:
        plots = draw_plots(data, staging)
        (staging / REPORT_NAME).write_text(render_markdown(data, plots))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp made it private
        _replace_directory(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [REPORT_NAME, *plots.values()]


def _replace_directory(new: Path, out: Path) -> None:
    if not out.exists():
        new.rename(out)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.absolute().parent))
    try:
        out.rename(trash / "previous")
        try:
            new.rename(out)
        except BaseException:
            (trash / "previous").rename(out)
            raise
    finally:
        shutil.rmtree(trash, ignore_errors=True)


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
