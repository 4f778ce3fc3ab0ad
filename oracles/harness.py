"""Running a case through the reference and the oracles, and comparing every tensor."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType

from oracles.base import DEFAULT_ORACLES, Oracle, Tensors, framework_missing, get_oracle
from oracles.cases import Case, make_problem, tensor_kind, tensor_names
from oracles.compare import Comparison, compare_tensor
from oracles.errors import InputError, OracleUnavailable
from oracles.programs import run_program
from oracles.registry import CellSpec
from oracles.tolerances import Tolerance, tolerance
from oracles.validate import validate_problem
from reference_impl import network
from reference_impl.network import Problem


@dataclass
class Report:
    comparisons: list[Comparison] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # oracle -> reason
    ran: list[str] = field(default_factory=list)  # the implementations run, in order

    @property
    def agree(self) -> bool:
        return bool(self.comparisons) and all(c.ok for c in self.comparisons)

    def failures(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.ok]


def kind_for(oracle: Oracle, tensor: str) -> str:
    return oracle.gradient_kind if tensor_kind(tensor) == "gradient" else "value"


def oracle_tensors(oracle: Oracle, names: Iterable[str]) -> list[str]:
    return [n for n in names if oracle.computes_values or tensor_kind(n) == "gradient"]


def resolve_oracles(names: Iterable[str] | None, spec: CellSpec, report: Report) -> list[Oracle]:
    """The oracles to run: unavailable ones are skipped (default) or an error (asked by name)."""
    explicit = names is not None
    chosen = []
    for name in names if explicit else DEFAULT_ORACLES:
        oracle = get_oracle(name)
        reason = oracle.unsupported(spec)
        if reason and explicit:
            raise InputError(f"oracle {name} cannot run cell {spec.name}: {reason}")
        if reason:
            report.skipped[name] = reason
        else:
            chosen.append(oracle)
    return chosen


def run_reference(spec: CellSpec, problem: Problem, cell: ModuleType | None = None) -> Tensors:
    validate_problem(spec, problem)
    return network.run(spec.reference_for(problem.options, cell), problem)


def run_oracle(oracle: Oracle, spec: CellSpec, problem: Problem) -> Tensors:
    validate_problem(spec, problem)
    reason = oracle.unsupported(spec)
    if reason:
        raise OracleUnavailable(reason)
    return oracle.run(spec, problem)


@lru_cache(maxsize=8)
def cached_reference(case: Case) -> Tensors:
    return run_reference(case.spec, make_problem(case))


@lru_cache(maxsize=8)
def cached_oracle(case: Case, oracle_name: str) -> Tensors:
    return run_oracle(get_oracle(oracle_name), case.spec, make_problem(case))


def compare_tensors(
    oracle: str,
    kinds: Mapping[str, str],
    baseline: Tensors,
    candidate: Tensors,
    tol: Mapping[str, Tolerance],
    baseline_name: str = "reference",
) -> list[Comparison]:
    """Compare every tensor named in ``kinds`` (name -> tolerance kind)."""
    return [
        compare_tensor(
            oracle, name, kind, baseline[name], candidate[name], tol[kind], baseline=baseline_name
        )
        for name, kind in kinds.items()
    ]


def compare_case(
    case: Case, oracle_names: Iterable[str] | None = None, cell: ModuleType | None = None
) -> Report:
    """Every oracle against the reference (``cell`` replaces the reference module if given)."""
    spec = case.spec
    report = Report()
    oracles = resolve_oracles(oracle_names, spec, report)
    problem = make_problem(case)
    reference = run_reference(spec, problem, cell)
    names = tensor_names(case)
    for oracle in oracles:
        try:
            tensors = oracle.run(spec, problem, cell)
        except OracleUnavailable as reason:  # the builder cannot build this case
            if oracle_names is not None:
                raise
            report.skipped[oracle.name] = str(reason)
            continue
        kinds = {n: kind_for(oracle, n) for n in oracle_tensors(oracle, names)}
        tol = {k: tolerance(case.dtype, k) for k in set(kinds.values())}
        report.comparisons += compare_tensors(oracle.name, kinds, reference, tensors, tol)
    return report


def _cell_runs(fixture, oracle_names: Iterable[str] | None, report: Report) -> dict[str, Tensors]:
    spec, problem = fixture.spec, fixture.problem
    runs = {"reference": run_reference(spec, problem)}
    for oracle in resolve_oracles(oracle_names, spec, report):
        try:
            tensors = oracle.run(spec, problem)
        except OracleUnavailable as reason:
            if oracle_names is not None:
                raise
            report.skipped[oracle.name] = str(reason)
            continue
        runs[oracle.name] = {n: tensors[n] for n in oracle_tensors(oracle, tensors)}
    return runs


def _program_runs(
    fixture, oracle_names: Iterable[str] | None, report: Report
) -> dict[str, Tensors]:
    explicit = oracle_names is not None
    runs = {}
    for name in ("reference", *(oracle_names if explicit else DEFAULT_ORACLES)):
        framework = {"torch": ("torch", "torch"), "tf": ("tensorflow", "tf")}.get(name)
        missing = framework and framework_missing(*framework)
        if missing and explicit:
            raise InputError(f"oracle {name} cannot run program fixtures: {missing}")
        if missing:
            report.skipped[name] = missing
            continue
        runs[name] = run_program(name, fixture.program, fixture.program_inputs, fixture.output)
    return runs


def reproduce_fixture(fixture, oracle_names: Iterable[str] | None = None) -> Report:
    """The reference and every available oracle against a fixture's expected values.

    An implementation is compared on the expected tensors it computes (the numerical oracles
    compute gradients only)."""
    report = Report()
    runs = (_program_runs if fixture.kind == "program" else _cell_runs)(
        fixture, oracle_names, report
    )
    report.ran = list(runs)
    for name, tensors in runs.items():
        for tensor, expected in fixture.expected.items():
            if tensor in tensors:
                report.comparisons.append(
                    compare_tensor(
                        name,
                        tensor,
                        "fixture",
                        expected,
                        tensors[tensor],
                        fixture.tolerance(tensor),
                        baseline="expected",
                    )
                )
    return report
