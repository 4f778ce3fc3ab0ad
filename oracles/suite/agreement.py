"""The agreement suite: every registered cell's sample cases × every oracle, every tensor.

One test per case and oracle compares every tensor (outputs, final states, loss, every
gradient) and, on failure, reports each tensor that disagrees with its full message. A known
discrepancy (registry) is taken out of that test and becomes its own strict xfail per tensor.
This template never names a cell or a framework: cells, cases, tensors, oracles and known
discrepancies all come from the registry and the frameworks table.

It ships inside gradparity: ``gradparity certify`` runs this file, ``pytest --gradparity`` adds
it to any project's run (``gradparity.suite.plugin``), and this repository's
``tests/test_agreement.py`` imports it. ``--gradparity-cells`` and ``--gradparity-oracles``
narrow it.
"""

from __future__ import annotations

import time
import zlib

import pytest

from gradparity.api import disagreement
from gradparity.catalog import all_cells, get_cell
from gradparity.checks import cached_oracle, cached_reference
from gradparity.core.cases import pairwise_cases, ragged_cases, tensor_names
from gradparity.core.compare import compare_tensor
from gradparity.core.errors import InputError, OracleMisconfigured, OracleUnavailable
from gradparity.core.loop import computed_dtype, kind_for, oracle_tensors
from gradparity.core.tolerances import tolerance
from gradparity.core.validate import DTYPES
from gradparity.frameworks import all_frameworks, all_oracles, get_oracle
from gradparity.suite.plugin import selection


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


SUITE_SKIPS = {("fd", "float32"): "complex step already differentiates the float32 reference"}
"""(oracle, dtype) pairs the suite leaves out, with the reason: central differences compute in
float64 whatever the case's dtype, so on a float32 case they repeat the float64 case's
arithmetic (same seeds and sizes) with truncation error on top, while complex step checks the
float32 reference exactly. ``gradparity compare --oracles fd --dtype float32`` still runs it."""


def suite_skip(oracle_name: str, dtype: str) -> str | None:
    """Why the suite leaves out ``oracle_name`` on ``dtype`` cases (``SUITE_SKIPS``, or a
    dtype its framework refuses: ``Framework.refuses``), or None."""
    if (oracle_name, dtype) in SUITE_SKIPS:
        return SUITE_SKIPS[(oracle_name, dtype)]
    framework = all_frameworks().get(oracle_name.partition("=")[0])
    return framework.refuses.get(dtype) if framework is not None else None


def takes_lengths(oracle_name: str, spec) -> bool:
    """Whether the suite gives ``oracle_name`` per-example lengths with ``spec``'s options (a
    pairwise factor, ``core.cases.pairwise_factors``): for a recurrent cell, unless the
    framework's builder declares that it takes none (``Builder.without_lengths``) or a user's
    module replaces its stock layer (a drop-in is checked on full-length batches)."""
    framework, is_module, _ = oracle_name.partition("=")
    if not spec.recurrent or is_module:
        return False
    row = all_frameworks().get(framework)
    builder = row.builder_for(spec) if row is not None else None
    return not (builder is not None and builder.without_lengths)


def suite_pairs(cells=None, oracles=None) -> list:
    """Every (case, oracle) of the suite, ``cells`` × ``oracles`` (in that order): each
    oracle's pairwise cases (``core.cases.pairwise_cases``, over the dtypes it runs and, where
    it takes them, per-example lengths: ``takes_lengths``), its per-example-lengths cases
    (``core.cases.ragged_cases``: in its first dtype alone when it compiles per network,
    ``suite`` "pairwise") and, unless its ``suite`` is "pairwise" (``Framework.suite``), the
    registry's sample cases."""
    for name in cells or ():
        get_cell(name)  # an unknown cell is an error, not an empty suite
    specs = [s for s in all_cells().values() if cells is None or s.name in cells]
    names = list(all_oracles()) if oracles is None else [get_oracle(n).name for n in oracles]
    pairs = []
    for spec in specs:
        grid = list(spec.sample_cases(spec))
        for name in names:
            dtypes = tuple(d for d in DTYPES if suite_skip(name, d) is None)
            compiles = getattr(get_oracle(name), "suite", "grid") == "pairwise"
            ragged = ragged_cases(spec, dtypes[:1] if compiles else dtypes)
            paired = pairwise_cases(spec, dtypes, takes_lengths(name, spec))
            chosen = paired + ragged if dtypes else []
            if not compiles:
                chosen = grid + chosen
            pairs += [(case, name) for case in chosen if suite_skip(name, case.dtype) is None]
    return pairs


def network_group(case, oracle_name: str) -> str:
    """The tests of one framework network (cell, hidden size, dtype, options: batch and time
    may vary) share a group, so that ``--dist loadgroup`` sends them to one worker, which traces
    or builds the network once. Numerical oracles have nothing to share: a group per test."""
    if not get_oracle(oracle_name).computes_values:
        return f"{case.id}-{oracle_name}"
    sizes = (case.cell, case.hidden_size, case.input_size, case.dtype, case.options, case.head)
    return f"{oracle_name}-{zlib.adler32(repr(sizes).encode())}"


def pytest_generate_tests(metafunc) -> None:
    chosen = selection(metafunc.config)
    try:
        oracles = chosen.oracle_names(tuple(all_oracles()))
        pairs = suite_pairs(chosen.cells, oracles)
    except InputError as error:
        raise pytest.UsageError(str(error)) from None
    if metafunc.definition.name == "test_agreement":
        params = [
            pytest.param(
                case,
                name,
                id=f"{case.id}-{name}",
                marks=pytest.mark.xdist_group(network_group(case, name)),
            )
            for case, name in pairs
        ]
        metafunc.parametrize(("case", "oracle_name"), params)
    elif metafunc.definition.name == "test_known_discrepancy":
        params = []
        for case, name in pairs:
            for tensor, reason in _split(case, name)[1]:
                mark = pytest.mark.xfail(strict=True, reason=reason)
                params.append(
                    pytest.param(case, name, tensor, id=f"{case.id}-{name}-{tensor}", marks=mark)
                )
        metafunc.parametrize(("case", "oracle_name", "tensor"), params)


def _compare(case, oracle_name: str, tensors: list[str], results_log) -> list:
    oracle = get_oracle(oracle_name)
    row = {"cell": case.cell, "case": case.id, "oracle": oracle_name, "dtype": case.dtype}
    try:
        reason = oracle.unsupported(case.spec)
        if reason:
            raise OracleUnavailable(reason)
        oracle.ready()  # loading the framework is not the cell's time (CELL_BUDGET_SECONDS)
        started = time.perf_counter()
        theirs = cached_oracle(case, oracle_name)
    except OracleUnavailable as error:
        results_log({**row, "skipped": str(error)})
        pytest.skip(str(error))
    except OracleMisconfigured as error:
        pytest.fail(str(error), pytrace=False)
    reference = cached_reference(case)
    comparisons = []
    for tensor in tensors:
        kind = kind_for(oracle, tensor)
        tol = tolerance(computed_dtype(case.dtype, theirs[tensor]), kind)
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
                **({} if comparison.ok else {"command": case.command(oracle_name)}),
            }
        )
    return comparisons


def test_agreement(case, oracle_name, results_log):
    checked, _ = _split(case, oracle_name)
    failures = [c for c in _compare(case, oracle_name, checked, results_log) if not c.ok]
    command = case.command(oracle_name)
    messages = [c.message(case.id, command) for c in failures]
    assert not failures, disagreement(case, messages, len(checked))


def test_known_discrepancy(case, oracle_name, tensor, results_log):
    (comparison,) = _compare(case, oracle_name, [tensor], results_log)
    assert comparison.ok, comparison.message(case.id, case.command(oracle_name))
