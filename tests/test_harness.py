"""The comparison machinery checked by itself, each check shown to fail when it should: the
relative error's scale, the tolerance table pinned both ways, seeded parameters distinct
across gates, families and elements, and every reference tensor compared by every oracle
that computes it."""

from __future__ import annotations

import numpy as np
import pytest

from gradparity.api import case
from gradparity.catalog import all_cells
from gradparity.checks import compare_case
from gradparity.core.cases import make_problem, tensor_names
from gradparity.core.compare import compare_tensor
from gradparity.core.loop import oracle_tensors, run_reference
from gradparity.core.tolerances import TOLERANCES, Tolerance, tolerance
from gradparity.frameworks import get_oracle
from helpers import frameworks_running

SIZE = 1_000_003  # a prime: no reshaping or blocking hides an element


def test_the_scale_is_exactly_the_largest_reference_magnitude_on_a_large_tensor():
    reference = np.linspace(-0.5, 0.5, SIZE)
    reference[123_457] = -2.0  # the largest magnitude, negative, away from the largest diff
    candidate = reference.copy()
    candidate[999_999] += 3e-12
    found = compare_tensor(
        "o", "t", "gradient", reference, candidate, tolerance("float64", "gradient")
    )
    assert found.scale == 2.0  # not a norm or a sum: those grow with the size
    assert found.index == (999_999,) and found.max_abs_err == pytest.approx(3e-12, rel=1e-3)
    assert found.max_rel_err == pytest.approx(1.5e-12, rel=1e-3)
    assert not found.ok  # 3e-12 > 1e-14 + 1e-12 * 2
    assert found.reference_value == reference[999_999]
    assert found.oracle_value == candidate[999_999]
    message = found.message("case-id", "gradparity compare ...")
    assert "largest |diff| = 3.000e-12 at index (999999,)" in message
    assert "relative to scale 2.000e+00" in message and "rtol = 1e-12, atol = 1e-14" in message


def test_a_diff_just_inside_the_tolerance_passes_and_just_outside_fails():
    reference = np.full(SIZE, 0.25)
    allowed = 1e-14 + 1e-12 * 0.25
    for factor, ok in ((0.99, True), (1.01, False)):
        candidate = reference.copy()
        candidate[-1] += factor * allowed
        found = compare_tensor(
            "o", "t", "gradient", reference, candidate, tolerance("float64", "gradient")
        )
        assert found.ok is ok, (factor, found)


def test_a_nan_on_either_side_fails():
    reference = np.zeros(5)
    candidate = reference.copy()
    candidate[2] = np.nan
    for ref, cand in ((reference, candidate), (candidate, reference)):
        found = compare_tensor("o", "t", "value", ref, cand, Tolerance(rtol=1.0, atol=1.0))
        assert not found.ok and found.index == (2,)


def test_the_tolerance_table_is_pinned_both_ways():
    """float64 stays at 1e-13 (values) and 1e-12 (gradients) with floors a few ulp of 1;
    float32 at the rows docs/tolerances.md documents. A looser or a tighter entry fails here."""
    assert TOLERANCES == {
        ("float64", "value"): Tolerance(rtol=1e-13, atol=1e-15),
        ("float64", "gradient"): Tolerance(rtol=1e-12, atol=1e-14),
        ("float64", "gradient_fd"): Tolerance(rtol=1e-7, atol=1e-9),
        ("float32", "value"): Tolerance(rtol=1e-5, atol=5e-7),
        ("float32", "gradient"): Tolerance(rtol=1e-4, atol=1e-6),
        ("float32", "gradient_fd"): Tolerance(rtol=1e-4, atol=1e-6),
    }
    for (dtype, kind), entry in TOLERANCES.items():
        assert 0 < entry.atol <= entry.rtol, (dtype, kind)  # the floor never dominates


def duplicated_values(params: dict[str, np.ndarray]) -> list[str]:
    """Names of parameter tensors sharing a value with another element (of any tensor)."""
    values = np.concatenate([np.ravel(v) for v in params.values()])
    owners = np.concatenate([[name] * np.size(v) for name, v in params.items()])
    _, first, counts = np.unique(values, return_index=True, return_counts=True)
    repeated = set(values[first[counts > 1]])
    return sorted({owners[i] for i, v in enumerate(values) if v in repeated})


@pytest.mark.parametrize("cell", sorted(all_cells()))
def test_seeded_parameters_are_distinct_across_gates_families_and_elements(cell):
    spec = all_cells()[cell]
    for options in ({}, {"layers": 2, "bidirectional": True} if spec.recurrent else {}):
        problem = make_problem(case(cell, options, hidden_size=4, input_size=3))
        tensors = {**problem.params, **problem.head}
        assert duplicated_values(tensors) == [], (cell, options)
        filled = make_problem(case(cell, options, hidden_size=4, input_size=3, param_fill=0.1))
        assert duplicated_values(filled.params) == sorted(filled.params)  # the check can fail


@pytest.mark.parametrize("cell", sorted(all_cells()))
def test_every_reference_tensor_is_compared_by_every_oracle_that_computes_it(cell):
    spec = all_cells()[cell]
    options = {"layers": 2, "bidirectional": True} if spec.recurrent else {}
    small = case(cell, options, hidden_size=3, input_size=2, seq_len=2, batch=2)
    names = tensor_names(small)
    oracles = [*frameworks_running(spec), "numerical"]
    assert set(names) <= set(run_reference(spec, make_problem(small)))
    report = compare_case(small, oracles)
    assert report.ran[0] == "reference" and report.agree
    assert "reference" not in {c.oracle for c in report.comparisons}  # never its own oracle
    for name in report.ran[1:]:
        compared = {c.tensor for c in report.comparisons if c.oracle == name}
        assert compared == set(oracle_tensors(get_oracle(name), names)), name
    assert set(report.ran[1:]) | set(report.skipped) == set(oracles)


def test_every_output_and_final_state_of_every_unit_carries_a_probe():
    for spec in all_cells().values():
        if not spec.recurrent:
            continue
        stacked = case(spec.name, {"layers": 2, "bidirectional": True}, hidden_size=3)
        problem = make_problem(stacked)
        finals = [n.removesuffix("_T") for n in tensor_names(stacked) if n.endswith("_T")]
        assert set(problem.probes) == {"outputs", *finals}, spec.name
        assert all(np.all(v != 0) for v in problem.probes.values()), spec.name
