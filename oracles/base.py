"""The oracle interface and the table of oracles.

An oracle computes, for a ``Problem`` of a registered cell, the same tensors as the reference
(``outputs``, ``<state>_T``, ``loss``, ``grad/<name>``) by an independent route. Framework
oracles import their framework on first use; a missing framework raises ``OracleUnavailable``.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Protocol

import numpy as np

from oracles.compare import Projected
from oracles.errors import InputError, OracleUnavailable
from oracles.registry import CellSpec
from reference_impl.network import Problem

Tensors = dict[str, np.ndarray | Projected]


class Oracle(Protocol):
    name: str
    gradient_kind: str  # the tolerance kind of its gradients
    computes_values: bool  # False: gradients only (the numerical oracles)

    def unsupported(self, spec: CellSpec) -> str | None:
        """Why this oracle cannot run ``spec`` (framework missing, no builder), or None."""

    def run(self, spec: CellSpec, problem: Problem, reference: ModuleType | None = None) -> Tensors:
        """The tensors of ``problem``. ``reference`` is the reference module under test (the
        registered one when None); only the numerical oracles, which differentiate the
        reference's forward pass, use it."""


ORACLE_CLASSES = {
    "torch": "oracles.torch_oracle:TorchOracle",
    "tf": "oracles.tf_oracle:TFOracle",
    "numerical": "oracles.numerical:ComplexStepOracle",
    "fd": "oracles.numerical:FiniteDifferenceOracle",
}
DEFAULT_ORACLES = ("torch", "tf", "numerical")
_instances: dict[str, Oracle] = {}


def get_oracle(name: str) -> Oracle:
    if name not in ORACLE_CLASSES:
        raise InputError(f"unknown oracle {name!r}; expected one of {', '.join(ORACLE_CLASSES)}")
    if name not in _instances:
        module, _, cls = ORACLE_CLASSES[name].partition(":")
        _instances[name] = getattr(importlib.import_module(module), cls)()
    return _instances[name]


def framework_missing(module: str, extra: str) -> str | None:
    """Why ``module`` cannot be imported (without importing it), or None."""
    if importlib.util.find_spec(module) is None:
        return f"{module} is not installed (pip install 'gradparity[{extra}]')"
    return None


def require_builder(spec: CellSpec, oracle: str) -> None:
    if oracle not in spec.builders:
        raise OracleUnavailable(f"{oracle} has no builder for cell {spec.name}")
