"""Log-log plots of the worst relative error per tensor group, one panel per group, float32 and
float64 on the same axes with their tolerance lines. matplotlib (Agg) is imported on first use."""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

DTYPE_COLORS = {"float32": "tab:orange", "float64": "tab:blue"}
ZERO_FLOOR = 1e-18
"""An exact agreement (error 0) is drawn here: a log axis has no 0."""


@dataclass(frozen=True)
class Curve:
    dtype: str
    xs: Sequence[int]
    errors: Sequence[float]
    failed: Sequence[bool]  # above the tolerance (atol + rtol·scale)
    rtol: float


FigureArgs = tuple[Mapping[str, Sequence[Curve]], str, str, Path]
"""``error_figure``'s arguments: panels, title, x label, path."""


def draw_figures(figures: Sequence[FigureArgs]) -> None:
    """Every figure, on every CPU this process may use (certify's 84 took 30 s on one core
    here). Worker processes are forked, so only from a process with no other thread running
    (a fork copies no thread, and a lock one held stays held); otherwise one by one."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else ()  # Linux
    workers = min(len(figures), len(usable) or os.cpu_count() or 1)
    if workers < 2 or threading.active_count() > 1:
        for figure in figures:
            error_figure(*figure)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        list(pool.map(error_figure, *zip(*figures, strict=True)))


def error_figure(
    panels: Mapping[str, Sequence[Curve]], title: str, x_label: str, path: Path
) -> None:
    """One PNG at ``path``: a panel per tensor group, each with one curve per dtype."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    width, height = 4.4 * columns, 3.3 * rows + 0.8
    figure = Figure(figsize=(width, height))  # fixed margins: a layout engine triples the time
    figure.subplots_adjust(
        left=0.75 / width,
        right=1 - 0.15 / width,
        top=1 - 0.7 / height,
        bottom=0.95 / height,
        wspace=0.3,
        hspace=0.42,
    )
    FigureCanvasAgg(figure)
    axes = list(figure.subplots(rows, columns, squeeze=False).flat)
    for ax, (group, curves) in zip(axes, panels.items(), strict=False):
        _draw_panel(ax, group, curves, x_label)
    for ax in axes[len(panels) :]:  # the last row's unused places
        ax.set_visible(False)
    figure.suptitle(title)
    legend = {}
    for ax in figure.axes:
        handles, labels = ax.get_legend_handles_labels()
        legend |= dict(zip(labels, handles, strict=True))
    figure.legend(legend.values(), legend.keys(), loc="lower center", ncols=len(legend), fontsize=8)
    figure.savefig(path, dpi=90)


def _draw_panel(ax, group: str, curves: Sequence[Curve], x_label: str) -> None:
    for curve in curves:
        color = DTYPE_COLORS.get(curve.dtype, "tab:gray")
        errors = [max(e, ZERO_FLOOR) for e in curve.errors]
        ax.plot(curve.xs, errors, marker="o", markersize=4, color=color, label=curve.dtype)
        rtol_label = f"{curve.dtype} rtol"
        ax.axhline(curve.rtol, color=color, linestyle="--", linewidth=1, label=rtol_label)
        bad = [(x, e) for x, e, f in zip(curve.xs, errors, curve.failed, strict=True) if f]
        if bad:
            xs, ys = zip(*bad, strict=True)
            ax.plot(xs, ys, "x", color="red", markersize=9, label="above tolerance")
    ax.set_xscale("log")
    ax.set_yscale("log")
    xs = sorted({x for curve in curves for x in curve.xs})
    ax.set_xticks(xs, labels=[str(x) for x in xs])
    ax.minorticks_off()
    ax.set_title(group, fontsize=10)
    ax.set_xlabel(x_label, fontsize=9)
    ax.set_ylabel("worst relative error", fontsize=9)
    ax.grid(True, which="major", linewidth=0.4, alpha=0.6)
    ax.tick_params(labelsize=8)
