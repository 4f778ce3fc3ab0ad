"""``gradparity bench``: forward + backward time of the reference, PyTorch and TensorFlow.

Each row is one cell, size (B, T, I, H) and dtype. The three implementations compute the same
thing: the network of ``reference_impl/network.py`` (cell, dense head, softmax cross-entropy,
probes) on the same seeded ``Problem``, every gradient included. The frameworks run the cell's
registered builder, exactly as their oracles do: torch eagerly with autograd, TensorFlow inside
the oracle's ``tf.function`` (traced before timing). Conversions between NumPy and the
frameworks happen once, outside the timed region.

Method: one warm-up call each, then ``repeats`` rounds, each timing reference, torch, tf once
in turn (interleaved, so load from other processes hits all three alike); the medians are
reported, with the ratios reference/torch and reference/tf. NumPy's BLAS, torch and
TensorFlow (intra- and inter-op) get the same thread count, set before TensorFlow initialises.

Memory: for each size, the bytes held by the reference's BPTT cache after the forward pass,
and the tracemalloc peaks of the forward pass and of forward + backward.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from oracles.base import framework_missing, get_oracle
from oracles.cases import DTYPES, Case, make_problem
from oracles.errors import InputError
from oracles.native import allocator_setting
from oracles.registry import all_cells
from reference_impl import network
from reference_impl.stack import is_stacked

SIZES = ((32, 100, 128, 128), (1, 1000, 32, 32))  # (B, T, I, H)
QUICK_SIZES = ((2, 5, 3, 4),)
FRAMEWORKS = ("torch", "tf")
FRAMEWORK_MODULES = {"torch": ("torch", "torch"), "tf": ("tensorflow", "tf")}  # module, extra


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
    names = [n.strip() for n in text.split(",") if n.strip()]
    cells = all_cells()
    for name in names:
        if name not in cells:
            raise InputError(
                f"--cells: unknown cell {name!r}; registered cells: {', '.join(sorted(cells))}"
            )
        if not cells[name].recurrent:
            raise InputError(f"--cells: cell {name} has no time axis; bench times recurrent cells")
    if not names:
        raise InputError("--cells: expected a comma-separated list of cells, e.g. lstm,gru")
    return names


# --- threads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenBLAS:
    """The OpenBLAS that NumPy loaded (NumPy's wheels bundle one), through its C API."""

    set_threads: Callable[[int], Any]
    get_threads: Callable[[], int]
    core: str  # the kernel family OpenBLAS picked for this CPU, e.g. Haswell, SkylakeX


def openblas() -> OpenBLAS | None:
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        library = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas_", "64_"), ("openblas_", "64_"), ("openblas_", "")):
            names = [f"{prefix}{f}{suffix}" for f in ("set_num_threads", "get_num_threads")]
            corename = getattr(library, f"{prefix}get_corename{suffix}", None)
            if all(hasattr(library, n) for n in names):
                setter, getter = (getattr(library, n) for n in names)
                setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                core = "unknown"
                if corename is not None:
                    corename.restype = ctypes.c_char_p
                    core = corename().decode()
                return OpenBLAS(setter, getter, core)
    return None


def set_threads(threads: int, frameworks: Iterable[str]) -> dict[str, Any]:
    """The same thread count for NumPy's BLAS and each framework; returns what took effect
    (TensorFlow's counts cannot change once it has initialised: then its own are reported)."""
    effective: dict[str, Any] = {"requested": threads}
    blas = openblas()
    if blas is not None:
        blas.set_threads(threads)
        effective["numpy_blas"] = blas.get_threads()
    else:
        effective["numpy_blas"] = "unknown (no OpenBLAS found to set)"
    if "torch" in frameworks:
        import torch

        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:  # already started: only the intra-op count can change
            pass
        effective["torch"] = torch.get_num_threads()
        effective["torch_interop"] = torch.get_num_interop_threads()
    if "tf" in frameworks:
        from oracles.tf_oracle import import_tensorflow

        tf = import_tensorflow()
        tf.get_logger().setLevel("ERROR")  # one trace per row and dtype is expected here
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow initialised earlier in this process
            pass
        effective["tf_intra_op"] = tf.config.threading.get_intra_op_parallelism_threads()
        effective["tf_inter_op"] = tf.config.threading.get_inter_op_parallelism_threads()
    return effective


# --- one row ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    batch: int
    seq_len: int
    input_size: int
    hidden_size: int

    def case(self, cell: str, dtype: str) -> Case:
        return Case.make(
            cell,
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


def _reference_call(case: Case) -> Callable[[], Any]:
    spec, problem = case.spec, make_problem(case)
    cell = spec.reference_for(problem.options)
    return lambda: network.run(cell, problem)


def _readable_call(case: Case) -> Callable[[], Any]:
    spec, problem = case.spec, make_problem(case)
    module = spec.reference_module()
    form = SimpleNamespace(forward=module.forward_readable, backward=module.backward_readable)
    cell = spec.reference_for(problem.options, form)
    return lambda: network.run(cell, problem)


def _torch_call(case: Case) -> Callable[[], Any]:
    from oracles.torch_oracle import differentiate

    problem = make_problem(case)
    net, inputs = get_oracle("torch").prepare(case.spec, problem)
    return lambda: differentiate(net, problem, *inputs)


def _tf_call(case: Case) -> Callable[[], Any]:
    _, step, arguments = get_oracle("tf").prepare(case.spec, make_problem(case))
    return lambda: step(*arguments)


CALLS = {"reference": _reference_call, "torch": _torch_call, "tf": _tf_call}


def time_interleaved(
    calls: Mapping[str, Callable[[], Any]], repeats: int
) -> dict[str, dict[str, float]]:
    """Median seconds per call, wall-clock and CPU (every thread of the process): a warm-up
    call each, then ``repeats`` rounds of one call each, in turn."""
    for call in calls.values():
        call()
    wall: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start_cpu, start = time.process_time(), time.perf_counter()
            call()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {
        name: {"wall": statistics.median(wall[name]), "cpu": statistics.median(cpu[name])}
        for name in calls
    }


def _ratio(numerator: float, denominator: float | None) -> float | None:
    return None if denominator is None else numerator / denominator


def bench_row(
    case: Case, frameworks: Sequence[str], repeats: int, readable: bool = False
) -> dict[str, Any]:
    calls = {"reference": _reference_call(case)}
    calls |= {name: CALLS[name](case) for name in frameworks if name in case.spec.builders}
    if readable and hasattr(case.spec.reference_module(), "forward_readable"):
        calls["readable"] = _readable_call(case)
    gc.collect()
    medians = time_interleaved(calls, repeats)
    row: dict[str, Any] = {"cell": case.cell, "dtype": case.dtype}
    row |= Size(case.batch, case.seq_len, case.input_size, case.hidden_size).to_json()
    reference = medians["reference"]
    row["reference_s"], row["reference_cpu_s"] = reference["wall"], reference["cpu"]
    for name in FRAMEWORKS:
        timed = medians.get(name)
        row[f"{name}_s"] = timed and timed["wall"]
        row[f"{name}_cpu_s"] = timed and timed["cpu"]
        row[f"ratio_{name}"] = _ratio(reference["wall"], timed and timed["wall"])
        row[f"ratio_{name}_cpu"] = _ratio(reference["cpu"], timed and timed["cpu"])
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
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        versions["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # the layout of show_config is not a stable interface
        versions["numpy_blas"] = "unknown"
    loaded = openblas()
    if loaded is not None:
        forced = os.environ.get("OPENBLAS_CORETYPE")
        chosen = f"OPENBLAS_CORETYPE={forced} in the environment" if forced else "detected"
        versions["numpy_blas"] += f" (kernels: {loaded.core}, {chosen})"
    for name in frameworks:
        module = FRAMEWORK_MODULES[name][0]
        versions[module] = importlib.import_module(module).__version__
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
        "versions": versions,
        "threads": dict(threads),
        "allocator": allocator_setting(),
    }


def bench(
    cells: Sequence[str],
    repeats: int,
    quick: bool = False,
    threads: int = 1,
    frameworks: Sequence[str] = FRAMEWORKS,
    dtypes: Sequence[str] = DTYPES,
    readable: bool = False,
) -> dict[str, Any]:
    """Every row (cell × size × dtype), timed, and the reference's cache memory of each."""
    if repeats < 1:
        raise InputError(f"--repeats must be a positive integer, got {repeats}")
    if threads < 1:
        raise InputError(f"--threads must be a positive integer, got {threads}")
    skipped = {}
    for name in frameworks:
        reason = framework_missing(*FRAMEWORK_MODULES[name])
        if reason:
            skipped[name] = reason
    available = [name for name in frameworks if name not in skipped]
    effective = set_threads(threads, available)
    sizes = [Size(*s) for s in (QUICK_SIZES if quick else SIZES)]
    rows = [
        bench_row(size.case(cell, dtype), available, repeats, readable)
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
            " round) after one warm-up call each, wall-clock (and CPU time of the process);"
            " forward + backward of cell, dense head, softmax cross-entropy and probes, every"
            " gradient"
        ),
        "repeats": repeats,
        "quick": quick,
        "environment": environment(effective, available),
        "rows": rows,
        "memory": memory,
        "skipped": [{"oracle": k, "reason": v} for k, v in skipped.items()],
    }


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.2f}"


def _x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    return f"{size / 2**20:.2f} MiB" if size >= 2**20 else f"{size / 2**10:.1f} KiB"


def table_rows(result: Mapping[str, Any]) -> tuple[list[list[str]], list[list[str]]]:
    """The timing table and the memory table, as rows of text (headers first)."""
    readable = any(r["readable_s"] is not None for r in result["rows"])
    timing = [["cell", "B", "T", "I", "H", "dtype", "ref ms", "torch ms", "tf ms"]]
    timing[0] += ["ref/torch", "ref/tf", "cpu: ref/torch", "ref/tf"]
    timing[0] += ["readable ms"] if readable else []
    for r in result["rows"]:
        timing.append(
            [
                r["cell"],
                *(str(r[k]) for k in ("batch", "seq_len", "input_size", "hidden_size")),
                r["dtype"],
                *(_ms(r[f"{name}_s"]) for name in ("reference", *FRAMEWORKS)),
                *(_x(r[f"ratio_{name}"]) for name in FRAMEWORKS),
                *(_x(r[f"ratio_{name}_cpu"]) for name in FRAMEWORKS),
                *([_ms(r["readable_s"])] if readable else []),
            ]
        )
    memory = [["cell", "B", "T", "H", "dtype", "cache", "without x", "readable's"]]
    memory[0] += ["forward peak", "fwd+bwd peak"]
    for m in result["memory"]:
        memory.append(
            [
                m["cell"],
                *(str(m[k]) for k in ("batch", "seq_len", "hidden_size")),
                m["dtype"],
                _size(m["cache_bytes"]),
                _size(m["cache_bytes_without_x"]),
                _size(m["readable_cache_bytes"]),
                _size(m["forward_peak_bytes"]),
                _size(m["forward_backward_peak_bytes"]),
            ]
        )
    return timing, memory
