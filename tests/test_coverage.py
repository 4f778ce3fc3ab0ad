"""Option interactions on every oracle: for every cell and every oracle that can run it, the
agreement suite's cases cover every pair of values of two factors (each option's covered
values, layers, bidirectional, dtype). The coverage is computed from the registry and the
frameworks table, not from a list kept by hand."""

from __future__ import annotations

import pytest

from gradparity.catalog import all_cells, get_cell
from gradparity.core.cases import pairwise_factors
from gradparity.core.pairwise import missing_pairs, pairwise
from gradparity.core.validate import DTYPES
from gradparity.frameworks import all_frameworks, all_oracles
from gradparity.suite.agreement import suite_pairs, suite_skip


def oracles_of(spec) -> list[str]:
    """The oracles with a builder for the cell (numerical oracles: every cell)."""
    frameworks = all_frameworks()
    return [
        name
        for name in all_oracles()
        if name not in frameworks or frameworks[name].builder_for(spec) is not None
    ]


def coverage_gaps(cell: str, oracle: str, cases: list) -> list[str]:
    """The pairs of option values (and dtypes) that no case of ``oracle`` covers."""
    spec = get_cell(cell)
    dtypes = tuple(d for d in DTYPES if suite_skip(oracle, d) is None)
    rows = [{**c.options_dict, "dtype": c.dtype} for c in cases]
    return sorted(
        f"{a}={u} with {b}={v}"
        for (a, u), (b, v) in missing_pairs(rows, pairwise_factors(spec, dtypes))
    )


PAIRS = [(cell, oracle) for cell, spec in all_cells().items() for oracle in oracles_of(spec)]


@pytest.mark.parametrize(("cell", "oracle"), PAIRS, ids=[f"{c}-{o}" for c, o in PAIRS])
def test_every_pair_of_option_values_meets_on_every_oracle(cell, oracle):
    cases = [case for case, name in suite_pairs([cell], [oracle])]
    gaps = coverage_gaps(cell, oracle, cases)
    assert not gaps, f"{oracle} never runs {cell} with: {'; '.join(gaps)}"


def test_a_missing_case_is_a_named_gap():
    pairs = suite_pairs(["peephole_lstm"], ["jax"])
    cases = [case for case, _ in pairs if case.lengths is None]  # the pairwise rows alone
    assert not coverage_gaps("peephole_lstm", "jax", cases)
    for removed in cases:
        gaps = coverage_gaps("peephole_lstm", "jax", [c for c in cases if c is not removed])
        assert gaps, f"{removed.id} covers no pair that another case does not"
        values = {f"{k}={v}" for k, v in removed.options_dict.items()} | {f"dtype={removed.dtype}"}
        for gap in gaps:  # only the removed case's own pairs can go missing
            assert set(gap.split(" with ")) <= values, gap


@pytest.mark.parametrize("cell", sorted(all_cells()))
def test_every_option_is_covered_at_its_default_and_another_value(cell):
    for option in get_cell(cell).all_options:
        values = option.covered_values
        assert option.default in values, f"{cell}: {option.name} does not cover its default"
        assert len(values) >= 2, f"{cell}: {option.name} covers only {values}"


def test_the_pairwise_rows_cover_every_pair_and_a_removed_row_leaves_a_gap():
    factors = {"a": (0, 1, 2), "b": ("x", "y"), "c": (False, True), "d": (0.0, 0.5)}
    rows = pairwise(factors)
    assert not missing_pairs(rows, factors)
    assert len(rows) <= 8  # far below the 24 rows of the full product
    assert rows == pairwise(factors)  # deterministic
    for k in range(len(rows)):
        assert missing_pairs(rows[:k] + rows[k + 1 :], factors), f"row {k} covered nothing new"
