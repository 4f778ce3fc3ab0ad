"""``gradparity bench``: forward + backward time of the reference and of every framework.

Each row is one cell, size (B, T, I, H) and dtype. Every implementation computes the same
thing: the network of ``reference_impl/network.py`` (cell, dense head, softmax cross-entropy,
probes) on the same seeded ``Problem``, every gradient included. The frameworks run the cell's
builder exactly as their oracles do, in their worker processes (``core.isolation``), which time
each call themselves; conversions between NumPy and the framework happen once, outside the
timed region, and a compiling framework compiles before timing.

Method: warm-up calls (``FRAMEWORK_WARM_UP_CALLS`` for a framework, one for the reference),
then ``repeats`` rounds, each timing the reference and every framework once in turn
(interleaved, so load from other processes hits all alike); the medians are reported, with
the ratios reference/framework. NumPy's BLAS and every framework get the same thread count,
set before the workers start.

Memory: for each size, the bytes held by the reference's BPTT cache after the forward pass,
and the tracemalloc peaks of the forward pass and of forward + backward.
"""

from __future__ import annotations

import gc
import itertools
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from gradparity.catalog import all_cells, get_cell
from gradparity.commands.arguments import cells_argument
from gradparity.core.cases import Case, make_problem
from gradparity.core.errors import InputError, OracleUnavailable
from gradparity.core.process import BLAS_VARIABLES, THREADS_ENV, allocator_setting
from gradparity.core.validate import DTYPES
from gradparity.frameworks import all_frameworks, get_oracle
from gradparity.reference_impl import network
from gradparity.reference_impl.stack import is_stacked
from gradparity.versions import versions

FRAMEWORK_WARM_UP_CALLS = 2
"""A framework may run a prepared call's first call eagerly and compile on its second
(``core.framework.Adapter.prepare``), so two calls come before the timed ones."""

SIZES = ((32, 100, 128, 128), (1, 1000, 32, 32))  # (B, T, I, H)
QUICK_SIZES = ((2, 5, 3, 4),)
Timing = tuple[float, float]  # wall, CPU seconds of one call


def fast_cells() -> list[str]:
    """Recurrent cells whose reference has a fast path next to its readable form."""
    return [
        name
        for name, spec in all_cells().items()
        if spec.recurrent and hasattr(spec.reference_module(), "forward_readable")
    ]


def parse_cells(text: str | None) -> list[str]:
    if text is None:
        return fast_cells()
    names = list(cells_argument(text))
    for name in names:
        if not get_cell(name).recurrent:
            raise InputError(f"--cells: cell {name} has no time axis; bench times recurrent cells")
    return names


def set_threads(threads: int) -> dict[str, Any]:
    """The same thread count for NumPy's BLAS here (threadpoolctl) and for every framework
    worker (its environment, read when it starts); returns what took effect here."""
    from threadpoolctl import threadpool_info, threadpool_limits

    for name in (*BLAS_VARIABLES, THREADS_ENV):
        os.environ[name] = str(threads)
    threadpool_limits(threads, user_api="blas")
    blas = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return {"requested": threads, "numpy_blas": blas[0] if blas else "unknown (no BLAS found)"}


def blas_description() -> str:
    """NumPy's BLAS, its kernels and who chose them (threadpoolctl; no ctypes probing)."""
    from threadpoolctl import threadpool_info

    for info in threadpool_info():
        if info["user_api"] == "blas":
            forced = os.environ.get("OPENBLAS_CORETYPE")
            chosen = f"OPENBLAS_CORETYPE={forced} in the environment" if forced else "detected"
            return (
                f"{info['internal_api']} {info.get('version')} (kernels:"
                f" {info.get('architecture', 'unknown')}, {chosen})"
            )
    return "unknown"


@dataclass(frozen=True)
class Size:
    batch: int
    seq_len: int
    input_size: int
    hidden_size: int

    def case(self, cell: str, dtype: str) -> Case:
        return Case.make(
            get_cell(cell),
            input_size=self.input_size,
            hidden_size=self.hidden_size,
            seq_len=self.seq_len,
            batch=self.batch,
            dtype=dtype,
        )

    def to_json(self) -> dict[str, int]:
        return {
            "batch": self.batch,
            "seq_len": self.seq_len,
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
        }


def _timed(call: Callable[[], Any]) -> Callable[[], Timing]:
    def timing() -> Timing:
        start_cpu, start = time.process_time(), time.perf_counter()
        call()
        return time.perf_counter() - start, time.process_time() - start_cpu

    return timing


def reference_call(case: Case, readable: bool = False) -> Callable[[], Timing]:
    spec, problem = case.spec, make_problem(case)
    module = spec.reference_module()
    form = module
    if readable:
        form = SimpleNamespace(forward=module.forward_readable, backward=module.backward_readable)
    cell = spec.reference_for(problem.options, form)
    return _timed(lambda: network.run(cell, problem))


_tokens = itertools.count()


def framework_call(name: str, case: Case) -> tuple[Callable[[], Timing], dict[str, Any]]:
    """A call timed in the framework's worker, and the threads it runs with."""
    oracle = get_oracle(name)
    token = next(_tokens)
    threads = oracle.call(("bench_prepare", token, case.cell, make_problem(case)), "preparing")
    return (lambda: oracle.call(("bench_time", token), "timing a call")), threads


def time_interleaved(calls: Mapping[str, Callable[[], Timing]], repeats: int):
    """Median seconds per call, wall-clock and CPU (every thread of the process that ran it):
    ``repeats`` rounds of one call each, in turn (each call warmed up before: ``bench_row``)."""
    timings: dict[str, list[Timing]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            timings[name].append(call())
    return {
        name: {
            "wall": statistics.median(t[0] for t in times),
            "cpu": statistics.median(t[1] for t in times),
        }
        for name, times in timings.items()
    }


def _ratio(numerator: float, denominator: float | None) -> float | None:
    return None if denominator is None else numerator / denominator


def bench_row(
    case: Case, frameworks: Sequence[str], repeats: int, readable: bool, threads: dict
) -> dict[str, Any]:
    calls = {"reference": reference_call(case)}
    refused: dict[str, str] = {}
    for name in frameworks:
        framework = all_frameworks()[name]
        if framework.builder_for(case.spec) is None:
            continue
        if case.dtype in framework.refuses:
            refused[name] = framework.refuses[case.dtype]
            continue
        try:
            calls[name], threads[name] = framework_call(name, case)
            for _ in range(FRAMEWORK_WARM_UP_CALLS):  # it may refuse the network on the first
                calls[name]()
        except OracleUnavailable as reason:  # e.g. one that it computes in a narrower float
            refused[name] = str(reason)
            calls.pop(name, None)
    if readable and hasattr(case.spec.reference_module(), "forward_readable"):
        calls["readable"] = reference_call(case, readable=True)
    for name in ("reference", "readable"):
        if name in calls:
            calls[name]()  # the warm-up call
    gc.collect()
    medians = time_interleaved(calls, repeats)
    row: dict[str, Any] = {"cell": case.cell, "dtype": case.dtype}
    row |= Size(case.batch, case.seq_len, case.input_size, case.hidden_size).to_json()
    reference = medians["reference"]
    row["reference_s"], row["reference_cpu_s"] = reference["wall"], reference["cpu"]
    for name in frameworks:
        timed = medians.get(name)
        row[f"{name}_s"] = timed and timed["wall"]
        row[f"{name}_cpu_s"] = timed and timed["cpu"]
        row[f"ratio_{name}"] = _ratio(reference["wall"], timed and timed["wall"])
        row[f"ratio_{name}_cpu"] = _ratio(reference["cpu"], timed and timed["cpu"])
    row["refused"] = refused
    timed = medians.get("readable")  # the readable form of the reference, when asked
    row["readable_s"], row["readable_cpu_s"] = timed and timed["wall"], timed and timed["cpu"]
    return row


def _array_bytes(value: Any) -> int:
    """Bytes of the distinct buffers among the arrays in ``value`` (a cache, nested)."""
    buffers: dict[int, int] = {}

    def visit(v: Any) -> None:
        if isinstance(v, np.ndarray):
            base = v
            while isinstance(base.base, np.ndarray):
                base = base.base
            buffers[id(base)] = base.nbytes
        elif isinstance(v, Mapping):
            for item in v.values():
                visit(item)
        elif isinstance(v, list | tuple):
            for item in v:
                visit(item)

    visit(value)
    return sum(buffers.values())


def cache_memory(case: Case) -> dict[str, Any]:
    """The reference's BPTT cache after the forward pass (bytes of its distinct arrays, and
    without the time-major copy of x it keeps for the input weights' gradient), the same for
    the readable form, and the tracemalloc peaks of the forward pass and of forward + backward
    (every temporary included)."""
    problem = make_problem(case)
    module = case.spec.reference_module()
    cell = case.spec.reference_for(problem.options)
    args = (problem.params, problem.x, problem.state0, problem.options)
    gc.collect()
    tracemalloc.start()
    try:
        _, _, cache = cell.forward(*args)
        _, forward_peak = tracemalloc.get_traced_memory()
        del cache
        gc.collect()
        tracemalloc.reset_peak()
        network.run(cell, problem)
        _, run_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _, _, cache = cell.forward(*args)
    row = {"cell": case.cell, "dtype": case.dtype}
    row |= Size(case.batch, case.seq_len, case.input_size, case.hidden_size).to_json()
    row["cache_bytes"] = _array_bytes(cache)
    row["cache_bytes_without_x"] = _array_bytes({k: v for k, v in cache.items() if k != "x"})
    row["readable_cache_bytes"] = None
    if hasattr(module, "forward_readable") and not is_stacked(problem.options):
        row["readable_cache_bytes"] = _array_bytes(module.forward_readable(*args)[2])
    row["forward_peak_bytes"] = forward_peak
    row["forward_backward_peak_bytes"] = run_peak
    return row


def environment(threads: Mapping[str, Any], frameworks: Sequence[str]) -> dict[str, Any]:
    installed = versions()
    keep = {"python", "numpy"} | {
        names[-1] for name in frameworks for names in all_frameworks()[name].distributions
    }
    found = {k: v for k, v in installed.items() if k in keep}
    found["numpy_blas"] = blas_description()
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "versions": found,
        "threads": dict(threads),
        "allocator": allocator_setting(),
    }


def bench(
    cells: Sequence[str],
    repeats: int,
    quick: bool = False,
    threads: int = 1,
    dtypes: Sequence[str] = DTYPES,
    readable: bool = False,
) -> dict[str, Any]:
    """Every row (cell × size × dtype), timed, and the reference's cache memory of each."""
    if repeats < 1:
        raise InputError(f"--repeats must be a positive integer, got {repeats}")
    if threads < 1:
        raise InputError(f"--threads must be a positive integer, got {threads}")
    skipped = {name: f.missing() for name, f in all_frameworks().items() if f.missing()}
    available = [name for name in all_frameworks() if name not in skipped]
    effective = set_threads(threads)
    sizes = [Size(*s) for s in (QUICK_SIZES if quick else SIZES)]
    rows = [
        bench_row(size.case(cell, dtype), available, repeats, readable, effective)
        for cell in cells
        for size in sizes
        for dtype in dtypes
    ]
    memory = [
        cache_memory(size.case(cell, dtype)) for cell in cells for size in sizes for dtype in dtypes
    ]
    return {
        "method": (
            f"median of {repeats} interleaved rounds (reference, then each framework, once per"
            f" round) after {FRAMEWORK_WARM_UP_CALLS} warm-up calls of each framework and one of"
            " the reference, wall-clock (and CPU time of the process that"
            " ran it); forward + backward of cell, dense head, softmax cross-entropy and probes,"
            " every gradient"
        ),
        "repeats": repeats,
        "quick": quick,
        "frameworks": available,
        "environment": environment(effective, available),
        "rows": rows,
        "memory": memory,
        "skipped": [{"oracle": k, "reason": v} for k, v in skipped.items()],
    }
