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

from gradparity.core.cases import Case, tensor_kind
from gradparity.core.compare import Comparison, compare_tensor
from gradparity.core.edits import SourcePatch
from gradparity.core.errors import (
    InputError,
    OracleCrashed,
    OracleMisconfigured,
    OracleUnavailable,
)
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
    suite: str  # the agreement suite's cases it runs: "grid" or "pairwise" (Framework.suite)

    def unsupported(self, spec: CellSpec) -> str | None: ...

    def ready(self) -> None:
        """Load what the oracle needs (a framework), so that timing its runs leaves it out."""

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
    """What one comparison run found. ``agree``: something was compared, every comparison is
    within its tolerance and no oracle failed or was misconfigured."""

    comparisons: list[Comparison] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # oracle -> why it did not run
    errors: dict[str, str] = field(default_factory=dict)  # oracle -> how it failed to compute
    broken: dict[str, str] = field(default_factory=dict)  # oracle -> why it cannot be set up
    ran: list[str] = field(default_factory=list)  # the implementations run, in order
    case: Case | None = None  # the case compared, or
    fixture: str | None = None  # the fixture reproduced (its path, or a shipped name)

    @property
    def agree(self) -> bool:
        if self.errors or self.broken:
            return False
        return bool(self.comparisons) and all(c.ok for c in self.comparisons)

    def failures(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.ok]

    def failure_messages(self) -> list[str]:
        """Each failing comparison's full message, with the command that reproduces it."""
        case = self.case
        if case is not None:
            return [c.message(case.id, case.command(c.oracle)) for c in self.failures()]
        command = f"gradparity reproduce {self.fixture}"
        return [c.message(str(self.fixture), command) for c in self.failures()]

    def messages(self) -> list[str]:
        """The failure messages, then each oracle that failed or could not be set up."""
        found = self.failure_messages()
        found += [f"{name} failed: {error}" for name, error in self.errors.items()]
        return found + [f"{name} cannot be set up: {why}" for name, why in self.broken.items()]


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
    reason (an error when the oracles were asked for by name, ``explicit``, and none of them
    can run); one that cannot be set up
    (its builder or a user's module: ``OracleMisconfigured``) is recorded in ``report.broken``;
    one that fails while computing, in ``report.errors``."""
    validate_problem(spec, problem)
    for oracle in oracles:  # frameworks that load in worker processes start loading together
        if oracle.unsupported(spec) is None and hasattr(oracle, "start"):
            oracle.start()
    runs, unavailable = {}, {}
    for oracle in oracles:
        try:
            reason = oracle.unsupported(spec)
            if reason:
                raise OracleUnavailable(reason)
            runs[oracle.name] = oracle.run(spec, problem, cell, patch)
        except OracleUnavailable as reason:
            unavailable[oracle.name] = str(reason)
        except OracleCrashed as error:
            report.errors[oracle.name] = str(error)
        except OracleMisconfigured as error:
            report.broken[oracle.name] = str(error)
        except InputError:
            raise
        except Exception as error:  # the oracle failed on this case; the others still run
            report.errors[oracle.name] = f"{oracle.name} raised {type(error).__name__}: {error}"
    if explicit and unavailable and len(unavailable) == len(oracles):
        name, reason = next(iter(unavailable.items()))
        message = f"oracle {name} cannot run cell {spec.name}: {reason}"
        more = len(unavailable) - 1
        raise OracleUnavailable(message + (f" (and {more} more oracles cannot)" if more else ""))
    report.skipped |= unavailable
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
