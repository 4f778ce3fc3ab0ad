"""The one validation of a ``Problem``: every array, shape, dtype and target, with one-line errors.

It guards the Python API (a hand-made problem) and the fixture loader (which converts JSON to
arrays and then validates here; it prefixes the file name). Tensors are named as a fixture
names them: ``params.W_i``, ``inputs.x``, ``inputs.h0``, ``head.W_y``, ``head.targets``,
``probes.outputs``. Cases built by ``core.cases`` are valid by construction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradparity.core.errors import InputError
from gradparity.core.registry import CellSpec
from gradparity.reference_impl.network import Problem

DTYPES = ("float32", "float64")


def check_array(name: str, value: object, dtype: np.dtype | None = None) -> np.dtype:
    if not isinstance(value, np.ndarray):
        raise InputError(f"{name}: expected a numpy array, got {type(value).__name__}")
    if value.dtype.name not in DTYPES:
        raise InputError(f"{name}: dtype {value.dtype.name}, expected one of {', '.join(DTYPES)}")
    if dtype is not None and value.dtype != dtype:
        raise InputError(f"{name}: dtype {value.dtype.name} differs from x's {dtype.name}")
    if not np.all(np.isfinite(value)):
        raise InputError(f"{name}: contains NaN or Inf; expected finite numbers")
    return value.dtype


def _check_shape(name: str, value: np.ndarray, shape: tuple[int, ...], expected: str = "") -> None:
    if value.shape != tuple(shape):
        raise InputError(
            f"{name}: has shape {list(value.shape)}, expected {expected or list(shape)}"
        )


def check_x(spec: CellSpec, x: np.ndarray) -> np.dtype:
    dtype = check_array("inputs.x", x)
    rank = 3 if spec.recurrent else 2
    if x.ndim != rank or 0 in x.shape:
        layout = "[B, T, I]" if spec.recurrent else "[B, I]"
        raise InputError(f"inputs.x: has shape {list(x.shape)}, expected a non-empty {layout}")
    return dtype


def hidden_size(spec: CellSpec, problem: Problem) -> int:
    """H: from an initial state that is H wide, else the size that makes the parameters fit."""
    widths = spec.state_widths(1, problem.options)
    for state, value in problem.state0.items():
        if widths.get(state) == 1 and np.ndim(value) == 2:
            return int(np.shape(value)[-1])
    input_size = problem.x.shape[-1]
    candidates = sorted({d for v in problem.params.values() for d in np.shape(v)})
    for hidden in candidates:
        shapes = spec.shapes(input_size, hidden, problem.options)
        if all(n in problem.params and np.shape(problem.params[n]) == s for n, s in shapes.items()):
            return hidden
    names = ", ".join(spec.shapes(input_size, 1, problem.options))
    raise InputError(
        f"params: no hidden size fits the given shapes (cell {spec.name} needs {names}"
        f" for input size {input_size})"
    )


def logit_width(spec: CellSpec, problem: Problem) -> int:
    """The number of classes: the head's, or the width of the outputs without a head."""
    if "W_y" in problem.head:
        return int(problem.head["W_y"].shape[1])
    return spec.output_width(hidden_size(spec, problem), problem.options)


def validate_problem(spec: CellSpec, problem: Problem, hidden: int | None = None) -> None:
    """Raise ``InputError`` naming the first thing wrong with ``problem`` for ``spec``."""
    dtype = check_x(spec, problem.x)
    batch, input_size = problem.x.shape[0], problem.x.shape[-1]
    hidden = hidden or hidden_size(spec, problem)
    shapes = spec.shapes(input_size, hidden, problem.options)
    missing = [n for n in shapes if n not in problem.params]
    if missing:
        raise InputError(
            f"params.{missing[0]}: missing (cell {spec.name} needs {', '.join(shapes)})"
        )
    extra = sorted(set(problem.params) - set(shapes))
    if extra:
        raise InputError(f"params.{extra[0]}: not a parameter of {spec.name} ({', '.join(shapes)})")
    for name, shape in shapes.items():
        check_array(f"params.{name}", problem.params[name], dtype)
        _check_shape(f"params.{name}", problem.params[name], shape)
    state_widths = spec.state_widths(hidden, problem.options)
    for state, width in state_widths.items():
        if state not in problem.state0:
            raise InputError(
                f"inputs.{state}0: missing (cell {spec.name} has states {', '.join(state_widths)})"
            )
        check_array(f"inputs.{state}0", problem.state0[state], dtype)
        _check_shape(f"inputs.{state}0", problem.state0[state], (batch, width))
    extra = sorted(set(problem.state0) - set(state_widths))
    if extra:
        allowed = ", ".join(["x", *(f"{s}0" for s in state_widths)])
        raise InputError(f"inputs.{extra[0]}0: unknown input (allowed: {allowed})")
    if problem.lengths is not None:
        check_lengths(spec, problem.lengths, batch, problem.x.shape[1], "inputs.lengths")
    width = spec.output_width(hidden, problem.options)
    _validate_head(problem, dtype, width)
    _validate_targets(problem, batch, logit_width(spec, problem))
    probe_shapes = {"outputs": (*problem.x.shape[:-1], width)}
    probe_shapes |= {s: (batch, w) for s, w in state_widths.items()}
    for name, value in problem.probes.items():
        if name not in probe_shapes:
            raise InputError(f"probes.{name}: unknown (allowed: {', '.join(probe_shapes)})")
        check_array(f"probes.{name}", value, dtype)
        _check_shape(f"probes.{name}", value, probe_shapes[name])


def check_lengths(
    spec: CellSpec, lengths: Any, batch: int, steps: int, name: str = "lengths"
) -> np.ndarray:
    """``lengths`` as a [B] integer array, or an ``InputError`` saying what is wrong."""
    if not spec.recurrent:
        raise InputError(f"{name}: cell {spec.name} has no time axis; lengths need one")
    values = list(np.ravel(lengths)) if np.ndim(lengths) <= 1 else None
    if values is None or any(isinstance(v, bool | np.bool_) for v in values):
        raise InputError(f"{name}: expected {batch} integers (one per batch row), got {lengths!r}")
    if not all(isinstance(v, int | np.integer) for v in values):
        raise InputError(f"{name}: expected {batch} integers (one per batch row), got {lengths!r}")
    if len(values) != batch:
        raise InputError(f"{name}: got {len(values)} values, expected {batch} (one per batch row)")
    if any(v < 0 or v > steps for v in values):
        shown = ",".join(str(int(v)) for v in values)
        raise InputError(f"{name}: each must be in [0, {steps}] (the sequence length), got {shown}")
    return np.asarray(values, dtype=np.int64)


def _validate_head(problem: Problem, dtype: np.dtype, width: int) -> None:
    head = problem.head
    if not head:
        return
    unknown = sorted(set(head) - {"W_y", "b_y"})
    if unknown:
        raise InputError(f"head.{unknown[0]}: unknown field (allowed: W_y, b_y, targets)")
    if set(head) != {"W_y", "b_y"}:
        raise InputError("head: W_y and b_y go together; give both or neither")
    w_y = head["W_y"]
    check_array("head.W_y", w_y, dtype)
    if w_y.ndim != 2 or w_y.shape[0] != width:
        raise InputError(f"head.W_y: has shape {list(w_y.shape)}, expected [{width}, K]")
    check_array("head.b_y", head["b_y"], dtype)
    _check_shape("head.b_y", head["b_y"], (w_y.shape[1],))


def _validate_targets(problem: Problem, batch: int, classes: int) -> None:
    targets = np.asarray(problem.targets)
    if targets.shape != (batch,) or targets.dtype.kind not in "iu":
        raise InputError(f"head.targets: expected {batch} integers (one per batch row)")
    if targets.size and (targets.min() < 0 or targets.max() >= classes):
        raise InputError(f"head.targets: values must be class indices in [0, {classes})")
