"""``gradparity record``: run one case with one implementation and write it as a fixture.

The fixture holds every input (parameters, x, initial states, head, targets, probes) and every
tensor the implementation computed, with the versions and platform it ran on, so that anyone
can ``gradparity reproduce`` it later. Its tolerances are the table's for the case's dtype: the
gradient row overall, the value row for the forward tensors (the float32 row for a tensor the
implementation computed in float32: an inference runtime without float64 kernels, which
records values only).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from gradparity.checks import cached_oracle
from gradparity.core.cases import Case, make_problem, tensor_kind
from gradparity.core.errors import InputError
from gradparity.core.files import write_atomically
from gradparity.core.loop import computed_dtype, run_reference
from gradparity.core.tolerances import tolerance
from gradparity.frameworks import all_frameworks
from gradparity.versions import versions


def recorders() -> tuple[str, ...]:
    """The implementations that compute every tensor (every value, for a values-only
    framework): the reference and each framework."""
    return ("reference", *all_frameworks())


def environment(implementation: str, command: str) -> dict[str, Any]:
    """What produced a recording: the implementation, library versions and the platform."""
    return {
        "implementation": implementation,
        **versions(),
        "machine": platform.machine(),
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _listed(value: Any) -> Any:
    return np.asarray(value, dtype=np.float64).tolist()


def fixture_data(case: Case, implementation: str, command: str) -> dict[str, Any]:
    """The fixture JSON of ``case`` as computed by ``implementation``."""
    if implementation not in recorders():
        raise InputError(
            f"cannot record with {implementation!r}: expected one of {', '.join(recorders())}"
            " (the numerical oracles compute gradients only)"
        )
    spec, problem = case.spec, make_problem(case)
    if implementation == "reference":
        tensors = run_reference(spec, problem)
    else:
        tensors = cached_oracle(case, implementation)
    gradient = tolerance(case.dtype, "gradient")
    inputs = {"x": _listed(problem.x)} | {f"{s}0": _listed(v) for s, v in problem.state0.items()}
    if problem.lengths is not None:
        inputs["lengths"] = [int(n) for n in problem.lengths]
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
    data["tolerances"] = {}
    for name, tensor in tensors.items():
        if tensor_kind(name) == "value":
            value = tolerance(computed_dtype(case.dtype, tensor), "value")
            data["tolerances"][name] = {"rtol": value.rtol, "atol": value.atol}
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


def record(case: Case, implementation: str, out: Path, force: bool = False) -> dict[str, Any]:
    check_destination(out, force)
    command = " ".join(["gradparity", "record", *case.cli_args(), "--implementation"])
    command += f" {implementation} --out {out.name}"
    data = fixture_data(case, implementation, command)
    write_atomically(out, json.dumps(data, indent=1) + "\n")
    print(f"recorded {len(data['expected'])} tensors of {case.id} to {out}", file=sys.stderr)
    return data
