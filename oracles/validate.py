"""Checking a ``Problem`` handed to the harness directly (the Python API), with one-line errors.

Cases built by ``oracles.cases`` and fixtures loaded by ``oracles.fixtures`` are valid by
construction; this guards ``run_reference``/``run_oracle`` against hand-made problems.
"""

from __future__ import annotations

import numpy as np

from oracles.cases import DTYPES
from oracles.errors import InputError
from oracles.registry import CellSpec
from reference_impl.network import Problem


def _check_array(name: str, value: object, dtype: np.dtype | None) -> np.dtype:
    if not isinstance(value, np.ndarray):
        raise InputError(f"{name}: expected a numpy array, got {type(value).__name__}")
    if value.dtype.name not in DTYPES:
        raise InputError(f"{name}: dtype {value.dtype.name}, expected one of {', '.join(DTYPES)}")
    if dtype is not None and value.dtype != dtype:
        raise InputError(f"{name}: dtype {value.dtype.name} differs from x's {dtype.name}")
    if not np.all(np.isfinite(value)):
        raise InputError(f"{name}: contains NaN or Inf; expected finite numbers")
    return value.dtype


def validate_problem(spec: CellSpec, problem: Problem) -> None:
    """Raise ``InputError`` naming the first thing wrong with ``problem`` for ``spec``."""
    dtype = _check_array("x", problem.x, None)
    rank = 3 if spec.recurrent else 2
    if problem.x.ndim != rank or 0 in problem.x.shape:
        layout = "[B, T, I]" if spec.recurrent else "[B, I]"
        raise InputError(f"x: shape {list(problem.x.shape)}, expected a non-empty {layout}")
    batch, input_size = problem.x.shape[0], problem.x.shape[-1]
    widths = spec.state_widths(1, problem.options)
    hidden = next((v.shape[-1] for s, v in problem.state0.items() if widths.get(s) == 1), None)
    if hidden is None:
        hidden = _hidden_from_params(spec, problem)
    shapes = spec.shapes(input_size, hidden, problem.options)
    missing = [n for n in shapes if n not in problem.params]
    if missing:
        raise InputError(
            f"params.{missing[0]}: missing (cell {spec.name} needs {', '.join(shapes)})"
        )
    extra = sorted(set(problem.params) - set(shapes))
    if extra:
        raise InputError(f"params.{extra[0]}: not a parameter of {spec.name}")
    for name, shape in shapes.items():
        _check_array(f"params.{name}", problem.params[name], dtype)
        if problem.params[name].shape != shape:
            got = list(problem.params[name].shape)
            raise InputError(f"params.{name}: shape {got}, expected {list(shape)}")
    for state, width in spec.state_widths(hidden, problem.options).items():
        if state not in problem.state0:
            raise InputError(f"state0.{state}: missing (cell {spec.name} has states {widths})")
        _check_array(f"state0.{state}", problem.state0[state], dtype)
        if problem.state0[state].shape != (batch, width):
            got = list(problem.state0[state].shape)
            raise InputError(f"state0.{state}: shape {got}, expected {[batch, width]}")
    for name, value in (problem.head | problem.probes).items():
        _check_array(name, value, dtype)
    targets = np.asarray(problem.targets)
    classes = problem.head["W_y"].shape[1] if "W_y" in problem.head else None
    classes = classes or spec.output_width(hidden, problem.options)
    if targets.shape != (batch,) or targets.dtype.kind not in "iu":
        raise InputError(f"targets: expected {batch} integers (one per batch row)")
    if targets.size and (targets.min() < 0 or targets.max() >= classes):
        raise InputError(f"targets: values must be class indices in [0, {classes})")


def _hidden_from_params(spec: CellSpec, problem: Problem) -> int:
    """The hidden size that makes the declared shapes match the given parameters."""
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
