"""Fixtures: reported numbers as JSON, loaded through one validated schema, and reproduced.

Format (see README): ``{"name", "source", "cell", "dtype", "hidden_size", "options",
"params", "inputs": {"x", "<state>0"...}, "head": {"W_y", "b_y", "targets"}, "expected":
{TENSOR: value}, "rtol", "atol"}``. A number in ``params`` fills the whole tensor. Initial
states default to zeros; without ``W_y``/``b_y`` the logits are the layer's last output.
Fixtures carry no probes: the differentiated scalar is the loss alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oracles.cases import DTYPES
from oracles.errors import InputError
from oracles.registry import CellSpec, get_cell
from reference_impl.network import Problem

REQUIRED = ("name", "source", "cell", "dtype", "hidden_size", "params", "inputs", "expected")
OPTIONAL = ("options", "head", "rtol", "atol", "notes", "recorded_with")


@dataclass(frozen=True)
class Fixture:
    path: str
    name: str
    source: str
    spec: CellSpec
    dtype: str
    problem: Problem
    expected: dict[str, np.ndarray]
    rtol: float
    atol: float

    @property
    def head(self) -> str:
        return "dense" if self.problem.head else "none"


def _fail(path: str, field: str, problem: str) -> InputError:
    return InputError(f"{path}: {field}: {problem}")


def _array(path: str, field: str, value: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A finite float64 array from a number or nested list; a number fills ``shape``."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, dict)):
        raise _fail(path, field, f"expected a number or nested list of numbers, got {value!r:.40}")
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail(
            path, field, "expected a number or a rectangular nested list of numbers"
        ) from None
    if array.dtype == object:
        raise _fail(path, field, "ragged nested list; expected a rectangular array")
    if not np.all(np.isfinite(array)):
        raise _fail(path, field, "contains NaN or Inf; expected finite numbers")
    if shape is not None:
        if array.ndim == 0:
            array = np.full(shape, float(array))
        elif array.shape != shape:
            raise _fail(path, field, f"has shape {list(array.shape)}, expected {list(shape)}")
    return array


def _load_json(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such fixture file") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{path}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object at the top level")
    return data


def load_fixture(path: str | Path) -> Fixture:
    path = str(path)
    data = _load_json(path)
    for key in REQUIRED:
        if key not in data:
            raise _fail(path, key, "missing (required fields: " + ", ".join(REQUIRED) + ")")
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise _fail(
            path, unknown[0], "unknown field (allowed: " + ", ".join(REQUIRED + OPTIONAL) + ")"
        )
    for key in ("name", "source", "cell", "dtype"):
        if not isinstance(data[key], str):
            raise _fail(path, key, f"expected a string, got {data[key]!r:.40}")
    try:
        spec = get_cell(data["cell"])
    except InputError as error:
        raise _fail(path, "cell", str(error)) from None
    dtype = data["dtype"]
    if dtype not in DTYPES:
        raise _fail(path, "dtype", f"{dtype!r} is not one of {', '.join(DTYPES)}")
    hidden = data["hidden_size"]
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
        raise _fail(path, "hidden_size", f"expected a positive integer, got {hidden!r}")
    for key in ("options", "params", "inputs", "expected", "head"):
        if key in data and not isinstance(data[key], dict):
            raise _fail(path, key, "expected a JSON object")
    try:
        options = spec.resolve_options(data.get("options", {}))
    except InputError as error:
        raise _fail(path, "options", str(error)) from None

    inputs = dict(data["inputs"])
    if "x" not in inputs:
        raise _fail(path, "inputs.x", "missing")
    x = _array(path, "inputs.x", inputs.pop("x"))
    rank = 3 if spec.recurrent else 2
    if x.ndim != rank or 0 in x.shape:
        layout = "[B, T, I]" if spec.recurrent else "[B, I]"
        raise _fail(path, "inputs.x", f"has shape {list(x.shape)}, expected a non-empty {layout}")
    batch, input_size = x.shape[0], x.shape[-1]

    shapes = spec.shapes(input_size, hidden, options)
    missing = [name for name in shapes if name not in data["params"]]
    if missing:
        raise _fail(
            path, f"params.{missing[0]}", f"missing (cell {spec.name} needs {', '.join(shapes)})"
        )
    extra = sorted(set(data["params"]) - set(shapes))
    if extra:
        raise _fail(
            path, f"params.{extra[0]}", f"not a parameter of {spec.name} ({', '.join(shapes)})"
        )
    params = {n: _array(path, f"params.{n}", data["params"][n], s) for n, s in shapes.items()}

    state0 = {}
    state_widths = spec.state_widths(hidden, options)
    for state, width in state_widths.items():
        key = f"{state}0"
        value = inputs.pop(key, 0.0)
        state0[state] = _array(path, f"inputs.{key}", value, (batch, width))
    if inputs:
        allowed = ", ".join(["x", *(f"{s}0" for s in state_widths)])
        raise _fail(path, f"inputs.{sorted(inputs)[0]}", f"unknown input (allowed: {allowed})")

    head_data = dict(data.get("head", {}))
    targets_value = head_data.pop("targets", None)
    head = {}
    if head_data:
        if set(head_data) - {"W_y", "b_y"}:
            bad = sorted(set(head_data) - {"W_y", "b_y"})[0]
            raise _fail(path, f"head.{bad}", "unknown field (allowed: W_y, b_y, targets)")
        if set(head_data) != {"W_y", "b_y"}:
            raise _fail(path, "head", "W_y and b_y go together; give both or neither")
        w_y = _array(path, "head.W_y", head_data["W_y"])
        width = spec.output_width(hidden, options)
        if w_y.ndim != 2 or w_y.shape[0] != width:
            raise _fail(path, "head.W_y", f"has shape {list(w_y.shape)}, expected [{width}, K]")
        head = {"W_y": w_y, "b_y": _array(path, "head.b_y", head_data["b_y"], (w_y.shape[1],))}
    classes = head["W_y"].shape[1] if head else spec.output_width(hidden, options)

    needs_loss = any(k == "loss" or k.startswith("grad/") for k in data["expected"])
    if targets_value is None:
        if needs_loss:
            raise _fail(path, "head.targets", "missing; the loss and every gradient need targets")
        targets_value = [0] * batch
    targets = np.asarray(targets_value)
    if targets.shape != (batch,) or targets.dtype.kind not in "iu":
        raise _fail(path, "head.targets", f"expected {batch} integers (one per batch row)")
    if targets.min() < 0 or targets.max() >= classes:
        raise _fail(path, "head.targets", f"values must be class indices in [0, {classes})")

    problem = Problem(params, x, state0, targets, options, head=head).astype(dtype)
    expected = _expected(path, spec, data["expected"], problem, hidden)
    tolerances = {}
    for key, default in (("rtol", 1e-6), ("atol", 0.0)):
        value = data.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not (value >= 0)
            or math.isinf(value)
        ):
            raise _fail(path, key, f"expected a finite non-negative number, got {value!r}")
        tolerances[key] = float(value)
    return Fixture(path, data["name"], data["source"], spec, dtype, problem, expected, **tolerances)


def tensor_shapes(spec: CellSpec, problem: Problem, hidden: int) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor a run of ``problem`` produces, without running it."""
    width = spec.output_width(hidden, problem.options)
    shapes = {"outputs": (*problem.x.shape[:-1], width), "loss": ()}
    shapes |= {f"{s}_T": v.shape for s, v in problem.state0.items()}
    shapes |= {name: value.shape for name, value in problem.inputs().items()}
    return shapes


def _expected(
    path: str, spec: CellSpec, values: dict, problem: Problem, hidden: int
) -> dict[str, np.ndarray]:
    if not values:
        raise _fail(path, "expected", "empty; give at least one tensor to reproduce")
    shapes = tensor_shapes(spec, problem, hidden)
    expected = {}
    for name, value in values.items():
        if name not in shapes:
            raise _fail(
                path, f"expected.{name}", "unknown tensor (known: " + ", ".join(shapes) + ")"
            )
        expected[name] = _array(path, f"expected.{name}", value)
        if expected[name].shape != shapes[name]:
            got = list(expected[name].shape)
            raise _fail(path, f"expected.{name}", f"has shape {got}, expected {list(shapes[name])}")
    return expected
