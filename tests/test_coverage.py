"""Option interactions on every oracle: for every cell and every oracle that can run it, the
agreement suite's cases cover every pair of values of two factors (each option's covered
values, layers, bidirectional, dtype and, for a recurrent cell on an oracle that takes them,
per-example lengths). The coverage is computed from the registry and the frameworks table, not
from a list kept by hand."""

from __future__ import annotations

import pytest

from gradparity.catalog import all_cells, get_cell
from gradparity.core.cases import factor_values, pairwise_cases, pairwise_factors
from gradparity.core.pairwise import missing_pairs, pairwise
from gradparity.core.validate import DTYPES
from gradparity.frameworks import all_frameworks, all_oracles
from gradparity.suite.agreement import suite_pairs, suite_skip, takes_lengths


def oracles_of(spec) -> list[str]:
    """The oracles with a builder for the cell (numerical oracles: every cell)."""
    frameworks = all_frameworks()
    return [
        name
        for name in all_oracles()
        if name not in frameworks or frameworks[name].builder_for(spec) is not None
    ]


def coverage_gaps(cell: str, oracle: str, cases: list) -> list[str]:
    """The pairs of option values (and dtypes, and lengths) that no case of ``oracle``
    covers."""
    spec = get_cell(cell)
    dtypes = tuple(d for d in DTYPES if suite_skip(oracle, d) is None)
    factors = pairwise_factors(spec, dtypes, takes_lengths(oracle, spec))
    rows = [factor_values(c) for c in cases]
    return sorted(f"{a}={u} with {b}={v}" for (a, u), (b, v) in missing_pairs(rows, factors))


PAIRS = [(cell, oracle) for cell, spec in all_cells().items() for oracle in oracles_of(spec)]


@pytest.mark.parametrize(("cell", "oracle"), PAIRS, ids=[f"{c}-{o}" for c, o in PAIRS])
def test_every_pair_of_option_values_meets_on_every_oracle(cell, oracle):
    cases = [case for case, name in suite_pairs([cell], [oracle])]
    gaps = coverage_gaps(cell, oracle, cases)
    assert not gaps, f"{oracle} never runs {cell} with: {'; '.join(gaps)}"


def test_a_missing_case_is_a_named_gap():
    cases = pairwise_cases(get_cell("peephole_lstm"), lengths=True)  # the pairwise rows alone
    assert not coverage_gaps("peephole_lstm", "jax", cases)
    for removed in cases:
        gaps = coverage_gaps("peephole_lstm", "jax", [c for c in cases if c is not removed])
        assert gaps, f"{removed.id} covers no pair that another case does not"
        values = {f"{k}={v}" for k, v in factor_values(removed).items()}
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


def test_lengths_are_a_factor_wherever_the_oracle_takes_them():
    """Declared refusals (``Builder.without_lengths``) and a user's module drop the factor; every
    other oracle of a recurrent cell has it, and its per-example rows are ragged."""
    for cell, oracle in PAIRS:
        spec = get_cell(cell)
        framework = all_frameworks().get(oracle)
        builder = framework.builder_for(spec) if framework else None
        declared = builder is not None and bool(builder.without_lengths)
        assert takes_lengths(oracle, spec) == (spec.recurrent and not declared), (cell, oracle)
        assert not takes_lengths(f"{oracle}=mypkg.kernels:MyLayer", spec)
    for spec in all_cells().values():
        ragged = [c for c in pairwise_cases(spec, lengths=True) if c.lengths is not None]
        assert bool(ragged) == spec.recurrent, spec.name
        for case in ragged:
            assert len(set(case.lengths)) > 1 and min(case.lengths) >= 1, case.id
            assert max(case.lengths) >= case.seq_len - 1, case.id
        full = [c.lengths for c in ragged if max(c.lengths) == c.seq_len]
        assert not ragged or len(full) < len(ragged), f"{spec.name}: every row had a full row"
