"""The agreement suite: every registered cell's sample cases × every oracle, every tensor.

One test per case and oracle compares every tensor (outputs, final states, loss, every
gradient) and, on failure, reports each tensor that disagrees with its full message. A known
discrepancy (registry) is taken out of that test and becomes its own strict xfail per tensor.
This template never names a cell: cells, cases, tensors and known discrepancies all come from
the registry (oracles/cells.py).
"""

from __future__ import annotations

import time

import pytest

from oracles.base import get_oracle
from oracles.cases import tensor_names
from oracles.compare import compare_tensor
from oracles.errors import OracleUnavailable
from oracles.harness import cached_oracle, cached_reference, kind_for, oracle_tensors
from oracles.registry import all_cells
from oracles.tolerances import tolerance

SUITE_ORACLES = ("torch", "tf", "numerical", "fd")


def _split(case, oracle_name: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The case's tensors for this oracle: (checked, [(known discrepancy, its reason)])."""
    checked, known = [], []
    for tensor in oracle_tensors(get_oracle(oracle_name), tensor_names(case)):
        discrepancy = case.spec.discrepancy(oracle_name, tensor, case.dtype)
        if discrepancy:
            known.append((tensor, discrepancy.reason))
        else:
            checked.append(tensor)
    return checked, known


def _pairs():
    for spec in all_cells().values():
        for case in spec.sample_cases(spec):
            for name in SUITE_ORACLES:
                yield case, name


PAIRS = list(_pairs())


def _known_params():
    for case, name in PAIRS:
        for tensor, reason in _split(case, name)[1]:
            mark = pytest.mark.xfail(strict=True, reason=reason)
            yield pytest.param(case, name, tensor, id=f"{case.id}-{name}-{tensor}", marks=mark)


def _compare(case, oracle_name: str, tensors: list[str], results_log) -> list:
    started = time.perf_counter()
    oracle = get_oracle(oracle_name)
    row = {"cell": case.cell, "case": case.id, "oracle": oracle_name, "dtype": case.dtype}
    try:
        reason = oracle.unsupported(case.spec)
        if reason:
            raise OracleUnavailable(reason)
        theirs = cached_oracle(case, oracle_name)
    except OracleUnavailable as error:
        results_log({**row, "skipped": str(error)})
        pytest.skip(str(error))
    reference = cached_reference(case)
    comparisons = []
    for tensor in tensors:
        kind = kind_for(oracle, tensor)
        tol = tolerance(case.dtype, kind)
        comparisons.append(
            compare_tensor(oracle_name, tensor, kind, reference[tensor], theirs[tensor], tol)
        )
    seconds = (time.perf_counter() - started) / max(len(tensors), 1)  # this test's share
    for comparison in comparisons:
        tensor = comparison.tensor
        results_log(
            {
                **row,
                "seq_len": case.seq_len,
                "hidden_size": case.hidden_size,
                "tensor": tensor,
                "kind": comparison.kind,
                "max_rel_err": comparison.max_rel_err,
                "tolerance_used": comparison.tolerance_used,
                "ok": comparison.ok,
                "seconds": seconds,
                "known_discrepancy": case.spec.discrepancy(oracle_name, tensor, case.dtype)
                is not None,
            }
        )
    return comparisons


@pytest.mark.parametrize(
    ("case", "oracle_name"), PAIRS, ids=[f"{case.id}-{name}" for case, name in PAIRS]
)
def test_agreement(case, oracle_name, results_log):
    checked, _ = _split(case, oracle_name)
    failures = [c for c in _compare(case, oracle_name, checked, results_log) if not c.ok]
    command = case.command(oracle_name)
    assert not failures, (
        f"{len(failures)} of {len(checked)} tensors disagree on {case.id}:\n\n"
        + "\n\n".join(c.message(case.id, command) for c in failures)
    )


@pytest.mark.parametrize(("case", "oracle_name", "tensor"), list(_known_params()))
def test_known_discrepancy(case, oracle_name, tensor, results_log):
    (comparison,) = _compare(case, oracle_name, [tensor], results_log)
    assert comparison.ok, comparison.message(case.id, case.command(oracle_name))
