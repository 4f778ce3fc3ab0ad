"""The one oracle loop: run the reference and each oracle on a problem, compare every tensor.

``compare_case`` (``gradparity.checks``), ``reproduce``, the report's sweep and the agreement
suite all come through here, with the oracles already chosen (``gradparity.frameworks``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from gradparity.core.cases import tensor_kind
from gradparity.core.compare import Comparison, compare_tensor
from gradparity.core.edits import SourcePatch
from gradparity.core.errors import InputError, OracleCrashed, OracleUnavailable
from gradparity.core.registry import CellSpec
from gradparity.core.tolerances import tolerance
from gradparity.core.validate import validate_problem
from gradparity.reference_impl import network
from gradparity.reference_impl.network import Problem

Tensors = dict[str, Any]


class Oracle(Protocol):
    name: str
    gradient_kind: str
    computes_values: bool  # False: gradients only (the numerical oracles)
    computes_gradients: bool  # False: values only (an inference runtime)

    def unsupported(self, spec: CellSpec) -> str | None: ...

    def run(
        self,
        spec: CellSpec,
        problem: Problem,
        reference: ModuleType | None = None,
        patch: SourcePatch | None = None,
    ) -> Tensors:
        """``reference`` replaces the registered reference module (a planted bug), which only
        the numerical oracles use; ``patch`` edits a framework's builder module (a planted
        converter bug), which only that framework uses."""


@dataclass
class Report:
    comparisons: list[Comparison] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # oracle -> why it did not run
    errors: dict[str, str] = field(default_factory=dict)  # oracle -> how it failed to compute
    ran: list[str] = field(default_factory=list)  # the implementations run, in order

    @property
    def agree(self) -> bool:
        return bool(self.comparisons) and not self.errors and all(c.ok for c in self.comparisons)

    def failures(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.ok]


def kind_for(oracle: Oracle, tensor: str) -> str:
    """The tolerance kind of ``tensor`` as ``oracle`` computes it."""
    return oracle.gradient_kind if tensor_kind(tensor) == "gradient" else "value"


def oracle_tensors(oracle: Oracle, names: Iterable[str]) -> list[str]:
    """The tensors of ``names`` that ``oracle`` computes (the numerical ones: gradients; an
    inference runtime: values)."""
    wanted = {"gradient": oracle.computes_gradients, "value": oracle.computes_values}
    return [n for n in names if wanted[tensor_kind(n)]]


def run_reference(spec: CellSpec, problem: Problem, cell: ModuleType | None = None) -> Tensors:
    """Every tensor of ``problem`` by the reference (``cell`` replacing its module if given)."""
    validate_problem(spec, problem)
    return network.run(spec.reference_for(problem.options, cell), problem)


def run_oracles(
    oracles: Sequence[Oracle],
    spec: CellSpec,
    problem: Problem,
    report: Report,
    explicit: bool,
    cell: ModuleType | None = None,
    patch: SourcePatch | None = None,
) -> dict[str, Tensors]:
    """Each oracle's tensors of ``problem``. An oracle that cannot run is skipped with its
    reason (an error when it was asked for by name: ``explicit``); one that fails while
    computing is recorded in ``report.errors``."""
    validate_problem(spec, problem)
    for oracle in oracles:  # frameworks that load in worker processes start loading together
        if oracle.unsupported(spec) is None and hasattr(oracle, "start"):
            oracle.start()
    runs = {}
    for oracle in oracles:
        try:
            reason = oracle.unsupported(spec)
            if reason:
                raise OracleUnavailable(reason)
            runs[oracle.name] = oracle.run(spec, problem, cell, patch)
        except OracleUnavailable as reason:
            if explicit:
                message = f"oracle {oracle.name} cannot run cell {spec.name}: {reason}"
                raise OracleUnavailable(message) from None
            report.skipped[oracle.name] = str(reason)
        except OracleCrashed as error:
            report.errors[oracle.name] = str(error)
        except InputError:
            raise
        except Exception as error:  # the oracle failed on this case; the others still run
            report.errors[oracle.name] = f"{oracle.name} raised {type(error).__name__}: {error}"
    return runs


def compare_runs(
    oracles: Mapping[str, Oracle],
    names: Sequence[str],
    baseline: Tensors,
    runs: Mapping[str, Tensors],
    dtype: str,
    baseline_name: str = "reference",
) -> list[Comparison]:
    """Every tensor in ``names`` that each oracle computes, against ``baseline``, with the
    tolerance table's entry for its dtype and kind."""
    comparisons = []
    for name, tensors in runs.items():
        oracle = oracles[name]
        for tensor in oracle_tensors(oracle, names):
            kind = kind_for(oracle, tensor)
            comparisons.append(
                compare_tensor(
                    name,
                    tensor,
                    kind,
                    baseline[tensor],
                    tensors[tensor],
                    tolerance(computed_dtype(dtype, tensors[tensor]), kind),
                    baseline=baseline_name,
                )
            )
    return comparisons


def computed_dtype(dtype: str, tensor: Any) -> str:
    """The dtype whose tolerances apply: the case's, or float32 when the oracle could only
    compute in float32 (an inference runtime without float64 kernels)."""
    return "float32" if getattr(tensor, "dtype", None) == np.float32 else dtype
