"""The agreement suite: every registered cell's sample cases × every oracle × every tensor.

This template never names a cell: cells, cases, tensors and known discrepancies all come from
the registry (oracles/cells.py).
"""

from __future__ import annotations

import pytest

from oracles.base import get_oracle
from oracles.cases import tensor_names
from oracles.compare import compare_tensor
from oracles.errors import OracleUnavailable
from oracles.harness import cached_oracle, cached_reference, kind_for, oracle_tensors
from oracles.registry import all_cells
from oracles.tolerances import tolerance

SUITE_ORACLES = ("torch", "tf", "numerical", "fd")


def _agreement_params():
    for spec in all_cells().values():
        for case in spec.sample_cases(spec):
            for name in SUITE_ORACLES:
                group = pytest.mark.xdist_group(f"{case.id}-{name}")
                for tensor in oracle_tensors(get_oracle(name), tensor_names(case)):
                    marks = [group]
                    known = spec.discrepancy(name, tensor, case.dtype)
                    if known:
                        marks.append(pytest.mark.xfail(strict=True, reason=known.reason))
                    yield pytest.param(
                        case, name, tensor, id=f"{case.id}-{name}-{tensor}", marks=marks
                    )


@pytest.mark.parametrize(("case", "oracle_name", "tensor"), list(_agreement_params()))
def test_agreement(case, oracle_name, tensor, results_log):
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
    kind = kind_for(oracle, tensor)
    comparison = compare_tensor(
        oracle_name,
        tensor,
        kind,
        cached_reference(case)[tensor],
        theirs[tensor],
        tolerance(case.dtype, kind),
    )
    results_log(
        {
            **row,
            "seq_len": case.seq_len,
            "hidden_size": case.hidden_size,
            "tensor": tensor,
            "kind": kind,
            "max_rel_err": comparison.max_rel_err,
            "tolerance_used": comparison.tolerance_used,
            "ok": comparison.ok,
            "known_discrepancy": case.spec.discrepancy(oracle_name, tensor, case.dtype) is not None,
        }
    )
    assert comparison.ok, comparison.message(case.id, case.command(oracle_name))
