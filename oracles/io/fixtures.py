"""Fixtures: reported numbers as JSON, loaded through one validated schema, and reproduced.

Two kinds share the common fields ``{"name", "source", "dtype", "expected": {TENSOR: value},
"rtol", "atol", "tolerances": {TENSOR: {"rtol", "atol"}}, "xfail", "notes",
"recorded_with"}``:

``"kind": "cell"`` (the default) adds ``{"cell", "hidden_size", "options", "params",
"inputs": {"x", "<state>0"..., "lengths"}, "head": {"W_y", "b_y", "targets"}, "probes"}``
(``lengths``: the valid steps of each batch row, ``reference_impl.ragged``). A number in
``params`` fills the whole tensor. Initial states default to zeros; without ``W_y``/``b_y``
the logits are the layer's last output. Without ``probes`` the differentiated scalar is the
loss alone; ``probes`` ({"outputs", "<state>"...}) adds ``Σ probe ∘ tensor`` as in
``reference_impl.network``.

``"kind": "program"`` adds ``{"program": ["out = op(arg, ...)", ...], "inputs": {NAME:
value}, "output"}``: the slides' equation notation over the primitive table, with ``grad/NAME``
the derivative of ``sum(output)`` for every input and intermediate.

``xfail`` (a reason) marks a fixture that no implementation reproduces: the suite treats it as
a strict xfail, and ``reproduce`` reports the expected failure.
"""

from __future__ import annotations

import json
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from gradparity.catalog import get_cell
from gradparity.core.errors import InputError
from gradparity.core.registry import CellSpec
from gradparity.core.tolerances import Tolerance
from gradparity.core.validate import DTYPES, check_lengths, check_x, validate_problem
from gradparity.reference_impl.equations import Eq, differentiated, evaluate, parse
from gradparity.reference_impl.network import Problem

KINDS = ("cell", "program")
COMMON_REQUIRED = ("name", "source", "dtype", "expected")
COMMON_OPTIONAL = ("kind", "rtol", "atol", "tolerances", "xfail", "notes", "recorded_with")
KIND_REQUIRED = {
    "cell": ("cell", "hidden_size", "params", "inputs"),
    "program": ("program", "inputs", "output"),
}
KIND_OPTIONAL = {"cell": ("options", "head", "probes"), "program": ()}
DEFAULT_RTOL, DEFAULT_ATOL = 1e-6, 0.0


@dataclass(frozen=True)
class Fixture:
    path: str
    name: str
    source: str
    dtype: str
    expected: dict[str, np.ndarray]
    rtol: float
    atol: float
    tolerances: dict[str, Tolerance] = field(default_factory=dict)
    xfail: str | None = None
    spec: CellSpec | None = None  # kind "cell"
    problem: Problem | None = None  # kind "cell"
    program: tuple[Eq, ...] = ()  # kind "program"
    program_inputs: dict[str, np.ndarray] = field(default_factory=dict)
    output: str = ""

    @property
    def kind(self) -> str:
        return "program" if self.program else "cell"

    @property
    def head(self) -> str:
        return "dense" if self.problem is not None and self.problem.head else "none"

    def tolerance(self, tensor: str) -> Tolerance:
        return self.tolerances.get(tensor, Tolerance(rtol=self.rtol, atol=self.atol))

    def describe(self) -> dict[str, Any]:
        """The fixture's identity for reports and JSON output."""
        about = {"fixture": self.path, "name": self.name, "source": self.source}
        about |= {"kind": self.kind, "dtype": self.dtype, "xfail": self.xfail}
        if self.spec is not None and self.problem is not None:
            about |= {"cell": self.spec.name, "options": self.problem.options}
        return about


def _fail(path: str, field: str, problem: str) -> InputError:
    return InputError(f"{path}: {field}: {problem}")


def _array(path: str, field: str, value: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A finite float64 array from a number or nested list; a number fills ``shape`` (when the
    tensor has one; shapes are checked by ``core.validate``)."""
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
    if shape is not None and array.ndim == 0:
        array = np.full(shape, float(array))
    return array


def _load_json(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError(
            f"{path}: no such fixture file, nor a fixture gradparity ships"
            " (`gradparity reproduce NAME` takes the stem of a file in gradparity/fixtures)"
        ) from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a fixture file") from None
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


def _check_fields(path: str, data: dict[str, Any]) -> str:
    kind = data.get("kind", "cell")
    if kind not in KINDS:
        raise _fail(path, "kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    required = COMMON_REQUIRED + KIND_REQUIRED[kind]
    for key in required:
        if key not in data:
            raise _fail(
                path,
                key,
                f"missing (required fields of a {kind} fixture: " + ", ".join(required) + ")",
            )
    allowed = required + COMMON_OPTIONAL + KIND_OPTIONAL[kind]
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise _fail(
            path,
            unknown[0],
            f"unknown field (allowed in a {kind} fixture: " + ", ".join(allowed) + ")",
        )
    for key in ("name", "source", "dtype", "cell", "output", "notes"):
        if key in data and not isinstance(data[key], str):
            raise _fail(path, key, f"expected a string, got {data[key]!r:.40}")
    for key in (
        "options",
        "params",
        "inputs",
        "expected",
        "head",
        "probes",
        "tolerances",
        "recorded_with",
    ):
        if key in data and not isinstance(data[key], dict):
            raise _fail(path, key, "expected a JSON object")
    if data["dtype"] not in DTYPES:
        raise _fail(path, "dtype", f"{data['dtype']!r} is not one of {', '.join(DTYPES)}")
    xfail = data.get("xfail")
    if xfail is not None and (not isinstance(xfail, str) or not xfail.strip()):
        raise _fail(
            path,
            "xfail",
            "expected the reason (a non-empty string) no implementation reproduces the fixture",
        )
    return kind


def _tolerance_value(path: str, field: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (value >= 0)
        or math.isinf(value)
    ):
        raise _fail(path, field, f"expected a finite non-negative number, got {value!r}")
    return float(value)


def _tolerances(path: str, data: dict[str, Any], expected: dict) -> dict[str, Any]:
    rtol = _tolerance_value(path, "rtol", data.get("rtol", DEFAULT_RTOL))
    atol = _tolerance_value(path, "atol", data.get("atol", DEFAULT_ATOL))
    per_tensor = {}
    for tensor, given in data.get("tolerances", {}).items():
        where = f"tolerances.{tensor}"
        if tensor not in expected:
            raise _fail(path, where, "not an expected tensor (" + ", ".join(expected) + ")")
        if not isinstance(given, dict) or not given or set(given) - {"rtol", "atol"}:
            raise _fail(path, where, 'expected {"rtol": number, "atol": number}')
        per_tensor[tensor] = Tolerance(
            rtol=_tolerance_value(path, f"{where}.rtol", given.get("rtol", rtol)),
            atol=_tolerance_value(path, f"{where}.atol", given.get("atol", atol)),
        )
    return {"rtol": rtol, "atol": atol, "tolerances": per_tensor}


def shipped_fixtures() -> dict[str, Path]:
    """The fixtures gradparity ships (package data ``gradparity.fixtures``), by file stem."""
    folder = resources.files("gradparity.fixtures")
    return {
        Path(entry.name).stem: Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


def find_fixture(given: str) -> str:
    """``given`` if it is a file; else the shipped fixture of that name (``.json`` optional);
    else ``given`` unchanged (the loader then says it does not exist)."""
    if Path(given).exists() or "/" in given:
        return given
    shipped = shipped_fixtures().get(given.removesuffix(".json"))
    return str(shipped) if shipped is not None else given


def load_fixture(path: str | Path) -> Fixture:
    path = str(path)
    data = _load_json(path)
    kind = _check_fields(path, data)
    loaded = _load_program(path, data) if kind == "program" else _load_cell(path, data)
    return Fixture(
        path=path,
        name=data["name"],
        source=data["source"],
        dtype=data["dtype"],
        xfail=data.get("xfail"),
        **loaded,
        **_tolerances(path, data, loaded["expected"]),
    )


def _load_program(path: str, data: dict[str, Any]) -> dict[str, Any]:
    lines = data["program"]
    if not isinstance(lines, list) or not lines or not all(isinstance(s, str) for s in lines):
        raise _fail(path, "program", "expected a non-empty list of 'out = op(arg, ...)' strings")
    try:
        program = tuple(parse("\n".join(lines)))
    except ValueError as error:
        raise _fail(path, "program", str(error)) from None
    if not data["inputs"]:
        raise _fail(path, "inputs", "empty; give a value for every free name of the program")
    inputs = {
        name: _array(path, f"inputs.{name}", value).astype(data["dtype"])
        for name, value in data["inputs"].items()
    }
    try:
        values = evaluate(program, inputs)
    except (ValueError, KeyError) as error:
        raise _fail(path, "program", str(error).strip("'\"")) from None
    output = data["output"]
    if output not in values or output in inputs:
        outs = ", ".join(eq.out for eq in program)
        raise _fail(path, "output", f"{output!r} is not assigned by the program ({outs})")
    shapes = {eq.out: np.shape(values[eq.out]) for eq in program}
    shapes |= {f"grad/{n}": np.shape(values[n]) for n in differentiated(program, inputs, output)}
    expected = _expected_of_shapes(path, data["expected"], shapes)
    return {"expected": expected, "program": program, "program_inputs": inputs, "output": output}


def _load_cell(path: str, data: dict[str, Any]) -> dict[str, Any]:
    """JSON to arrays (a number fills its tensor), then ``core.validate`` checks the problem."""
    try:
        spec = get_cell(data["cell"])
    except InputError as error:
        raise _fail(path, "cell", str(error)) from None
    hidden = data["hidden_size"]
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
        raise _fail(path, "hidden_size", f"expected a positive integer, got {hidden!r}")
    try:
        options = spec.resolve_options(data.get("options", {}))
    except InputError as error:
        raise _fail(path, "options", str(error)) from None
    inputs = dict(data["inputs"])
    if "x" not in inputs:
        raise _fail(path, "inputs.x", "missing")
    x = _array(path, "inputs.x", inputs.pop("x"))
    with _in_file(path):
        check_x(spec, x)
    batch, input_size = x.shape[0], x.shape[-1]
    lengths = inputs.pop("lengths", None)
    if lengths is not None:
        with _in_file(path):
            lengths = check_lengths(spec, lengths, batch, x.shape[1], "inputs.lengths")

    shapes = spec.shapes(input_size, hidden, options)
    params = {
        name: _array(path, f"params.{name}", value, shapes.get(name))
        for name, value in data["params"].items()
    }
    state0 = {}
    state_widths = spec.state_widths(hidden, options)
    for state, width in state_widths.items():
        value = inputs.pop(f"{state}0", 0.0)
        state0[state] = _array(path, f"inputs.{state}0", value, (batch, width))
    if inputs:
        allowed = ", ".join(["x", *(f"{s}0" for s in state_widths), "lengths"])
        raise _fail(path, f"inputs.{sorted(inputs)[0]}", f"unknown input (allowed: {allowed})")

    head_data = dict(data.get("head", {}))
    targets_value = head_data.pop("targets", None)
    head = {k: _array(path, f"head.{k}", v) for k, v in head_data.items()}
    needs_loss = any(k == "loss" or k.startswith("grad/") for k in data["expected"])
    if targets_value is None:
        if needs_loss:
            raise _fail(path, "head.targets", "missing; the loss and every gradient need targets")
        targets_value = [0] * batch
    targets = np.asarray(targets_value)
    probes = {k: _array(path, f"probes.{k}", v) for k, v in data.get("probes", {}).items()}

    problem = Problem(
        params, x, state0, targets, options, head=head, probes=probes, lengths=lengths
    )
    with _in_file(path):
        validate_problem(spec, problem, hidden)
    problem = problem.astype(data["dtype"])
    shapes = tensor_shapes(spec, problem, hidden)
    expected = _expected_of_shapes(path, data["expected"], shapes)
    return {"expected": expected, "spec": spec, "problem": problem}


@contextmanager
def _in_file(path: str):
    """Prefix a validation error with the fixture's path."""
    try:
        yield
    except InputError as error:
        raise InputError(f"{path}: {error}") from None


def tensor_shapes(spec: CellSpec, problem: Problem, hidden: int) -> dict[str, tuple[int, ...]]:
    """The shape of every tensor a run of ``problem`` produces, without running it."""
    width = spec.output_width(hidden, problem.options)
    shapes = {"outputs": (*problem.x.shape[:-1], width), "loss": ()}
    shapes |= {f"{s}_T": v.shape for s, v in problem.state0.items()}
    shapes |= {name: value.shape for name, value in problem.inputs().items()}
    return shapes


def _expected_of_shapes(
    path: str, values: dict, shapes: dict[str, tuple[int, ...]]
) -> dict[str, np.ndarray]:
    if not values:
        raise _fail(path, "expected", "empty; give at least one tensor to reproduce")
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
