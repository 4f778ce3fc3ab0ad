"""``gradparity record``: run one case with one implementation and write it as a fixture.

The fixture holds every input (parameters, x, initial states, head, targets, probes) and every
tensor the implementation computed, with the versions and platform it ran on, so that anyone
can ``gradparity reproduce`` it later. Its tolerances are the table's for the case's dtype: the
gradient row overall, the value row for the forward tensors.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from oracles.base import get_oracle
from oracles.cases import Case, make_problem, tensor_kind
from oracles.errors import InputError
from oracles.harness import run_oracle, run_reference
from oracles.tolerances import tolerance

RECORDERS = ("reference", "torch", "tf")  # the implementations that compute every tensor
_DISTRIBUTIONS = {
    "gradparity": ("gradparity",),
    "numpy": ("numpy",),
    "torch": ("torch",),
    "tensorflow": ("tensorflow-cpu", "tensorflow"),
    "keras": ("keras",),
}


def _version(names: tuple[str, ...]) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def environment(implementation: str, command: str) -> dict[str, Any]:
    """What produced a recording: the implementation, library versions and the platform."""
    versions = {key: _version(names) for key, names in _DISTRIBUTIONS.items()}
    return {
        "implementation": implementation,
        **versions,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _listed(value: Any) -> Any:
    return np.asarray(value, dtype=np.float64).tolist()


def fixture_data(case: Case, implementation: str, command: str) -> dict[str, Any]:
    """The fixture JSON of ``case`` as computed by ``implementation``."""
    if implementation not in RECORDERS:
        raise InputError(
            f"cannot record with {implementation!r}: expected one of {', '.join(RECORDERS)}"
            " (the numerical oracles compute gradients only)"
        )
    spec, problem = case.spec, make_problem(case)
    if implementation == "reference":
        tensors = run_reference(spec, problem)
    else:
        tensors = run_oracle(get_oracle(implementation), spec, problem)
    gradient, value = tolerance(case.dtype, "gradient"), tolerance(case.dtype, "value")
    inputs = {"x": _listed(problem.x)} | {f"{s}0": _listed(v) for s, v in problem.state0.items()}
    head = {k: _listed(v) for k, v in problem.head.items()}
    head["targets"] = [int(t) for t in problem.targets]
    data: dict[str, Any] = {
        "name": f"recorded-{implementation}-{case.id}",
        "source": f"gradparity record with {implementation}: {command}",
        "cell": case.cell,
        "dtype": case.dtype,
        "hidden_size": case.hidden_size,
        "options": case.options_dict,
        "params": {k: _listed(v) for k, v in problem.params.items()},
        "inputs": inputs,
        "head": head,
    }
    if problem.probes:
        data["probes"] = {k: _listed(v) for k, v in problem.probes.items()}
    data["expected"] = {name: _listed(v) for name, v in tensors.items()}
    data["rtol"], data["atol"] = gradient.rtol, gradient.atol
    data["tolerances"] = {
        name: {"rtol": value.rtol, "atol": value.atol}
        for name in tensors
        if tensor_kind(name) == "value"
    }
    data["recorded_with"] = environment(implementation, command)
    return data


def check_destination(path: Path, force: bool) -> None:
    """Fail before any work if ``path`` cannot or should not be written."""
    if path.is_dir():
        raise InputError(f"--out {path}: is a directory; expected a file name like case.json")
    if path.exists() and not force:
        raise InputError(f"--out {path}: exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise InputError(f"--out {path}: directory {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"--out {path}: directory {path.parent} is not writable")


def write_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write through a temporary file in the same directory: never a half-written fixture."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=1)
            stream.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def record(case: Case, implementation: str, out: Path, force: bool = False) -> dict[str, Any]:
    check_destination(out, force)
    command = " ".join(["gradparity", "record", *case.cli_args(), "--implementation"])
    command += f" {implementation} --out {out.name}"
    data = fixture_data(case, implementation, command)
    write_atomically(out, data)
    print(f"recorded {len(data['expected'])} tensors of {case.id} to {out}", file=sys.stderr)
    return data
