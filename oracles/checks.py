"""Comparing a case, reproducing a fixture: the oracles chosen by name, run through the one loop
(``core.loop``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from types import ModuleType

import numpy as np

from gradparity.core.cases import Case, make_problem, tensor_names
from gradparity.core.compare import compare_tensor
from gradparity.core.edits import SourcePatch
from gradparity.core.errors import (
    InputError,
    OracleCrashed,
    OracleMisconfigured,
    OracleUnavailable,
)
from gradparity.core.loop import Oracle, Report, Tensors, compare_runs, run_oracles, run_reference
from gradparity.frameworks import default_oracles, get_oracle, with_modules
from gradparity.reference_impl.equations import backprop, differentiated, evaluate


def resolve_oracles(names: Iterable[str] | None, modules: Sequence[str] = ()) -> list[Oracle]:
    """The named oracles (every default one when ``names`` is None), each framework of
    ``modules`` (``FRAMEWORK=MODULE:ATTR``) with the user's module in place of its stock layer."""
    chosen = with_modules(tuple(default_oracles() if names is None else names), modules)
    return [get_oracle(name) for name in chosen]


def compare_case(
    case: Case,
    oracles: Iterable[str] | None = None,
    modules: Sequence[str] = (),
    cell: ModuleType | None = None,
    patch: SourcePatch | None = None,
) -> Report:
    """Every oracle (``oracles``: by name; default every framework and complex step) against
    the reference on ``case``. ``modules`` (``["torch=mypkg.kernels:MyLSTM"]``) puts a user's
    module in place of a framework's stock layer. ``cell`` replaces the reference module and
    ``patch`` edits a framework's builder module (planted bugs)."""
    spec, problem = case.spec, make_problem(case)
    report = Report(case=case)
    reference = run_reference(spec, problem, cell)
    chosen = resolve_oracles(oracles, modules)
    explicit = oracles is not None or bool(modules)
    runs = run_oracles(chosen, spec, problem, report, explicit, cell, patch)
    report.ran = ["reference", *runs]
    by_name = {oracle.name: oracle for oracle in chosen}
    report.comparisons = compare_runs(by_name, tensor_names(case), reference, runs, case.dtype)
    return report


@lru_cache(maxsize=8)
def cached_reference(case: Case) -> Tensors:
    return run_reference(case.spec, make_problem(case))


@lru_cache(maxsize=8)
def cached_oracle(case: Case, oracle_name: str) -> Tensors:
    report = Report()
    runs = run_oracles([get_oracle(oracle_name)], case.spec, make_problem(case), report, True)
    if report.broken:
        raise OracleMisconfigured(report.broken[oracle_name])
    if report.errors:
        raise OracleCrashed(report.errors[oracle_name])
    return runs[oracle_name]


def _cell_runs(fixture, oracle_names: Iterable[str] | None, report: Report) -> dict[str, Tensors]:
    spec, problem = fixture.spec, fixture.problem
    runs = {"reference": run_reference(spec, problem)}
    oracles = resolve_oracles(oracle_names)
    found = run_oracles(oracles, spec, problem, report, oracle_names is not None)
    for name, tensors in found.items():
        runs[name] = {n: tensors[n] for n in tensors if n in fixture.expected}
    return runs


def run_program_reference(program, inputs, output) -> Tensors:
    """The reference's program run: forward, then the slides' deriv with ``+=`` (backprop)."""
    values = evaluate(program, inputs)
    grads = backprop(program, values, output)
    result = {name: v for name, v in values.items() if name not in inputs}
    for name in differentiated(program, inputs, output):
        result[f"grad/{name}"] = grads.get(name, np.zeros_like(values[name]))
    return result


def _program_runs(fixture, oracle_names: Iterable[str] | None, report: Report) -> dict:
    program, inputs, output = fixture.program, fixture.program_inputs, fixture.output
    runs = {"reference": run_program_reference(program, inputs, output)}
    for oracle in resolve_oracles(oracle_names):
        try:
            runs[oracle.name] = oracle.run_program(program, inputs, output)
        except OracleUnavailable as reason:
            if oracle_names is not None:
                message = f"oracle {oracle.name} cannot run program fixtures: {reason}"
                raise InputError(message) from None
            report.skipped[oracle.name] = str(reason)
    return runs


def reproduce_fixture(fixture, oracle_names: Iterable[str] | None = None) -> Report:
    """The reference and every available oracle against a fixture's expected values.

    An implementation is compared on the expected tensors it computes (the numerical oracles
    compute gradients only)."""
    report = Report(fixture=str(fixture.path))
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
