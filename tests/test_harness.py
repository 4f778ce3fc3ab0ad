"""The comparison machinery checked by itself: the meta-checks (``gradparity.suite.meta``: the
relative error's scale, the tolerance table pinned both ways, NaN, seeded parameters distinct
across gates, families and elements, probes on every output and final state, every reference
tensor compared, projected comparisons, pairwise coverage), each shown to fail on the harness
mutant planted for it; and every reference tensor compared by every framework oracle."""

from __future__ import annotations

import pytest

from gradparity.api import case
from gradparity.catalog import all_cells
from gradparity.checks import compare_case
from gradparity.core.cases import make_problem, tensor_names
from gradparity.core.compare import Projected
from gradparity.core.loop import oracle_tensors, run_reference
from gradparity.frameworks import get_oracle
from gradparity.harness_mutants import HARNESS_MUTANTS, run_harness_mutant
from gradparity.numerical.oracles import MAX_PASSES
from gradparity.suite.meta import META_CHECKS
from helpers import frameworks_running, uncompiled_frameworks


@pytest.mark.parametrize("check", sorted(META_CHECKS))
def test_the_meta_check_passes_on_the_harness_as_it_is(check):
    META_CHECKS[check]()


@pytest.mark.parametrize("mutant", HARNESS_MUTANTS, ids=[m.name for m in HARNESS_MUTANTS])
def test_the_harness_mutant_fails_its_meta_check_and_is_undone(mutant):
    killed, check, message = run_harness_mutant(mutant)
    assert killed and check == mutant.caught_by, f"{mutant.name}: {check or 'survived'}"
    assert message.startswith("AssertionError: ") and len(message) > 30, message
    META_CHECKS[mutant.caught_by]()  # the module is whole again


def test_every_meta_check_has_a_harness_mutant_and_there_are_ten_or_more():
    assert {m.caught_by for m in HARNESS_MUTANTS} == set(META_CHECKS)
    assert len(HARNESS_MUTANTS) >= 10


@pytest.mark.parametrize("cell", sorted(all_cells()))
def test_every_reference_tensor_is_compared_by_every_oracle_that_computes_it(cell):
    spec = all_cells()[cell]
    options = {"layers": 2, "bidirectional": True} if spec.recurrent else {}
    small = case(cell, options, hidden_size=3, input_size=2, seq_len=2, batch=2)
    names = tensor_names(small)
    # the compiling frameworks' every tensor: the odd-shape test of test_cli.py, on every oracle
    oracles = [*(n for n in frameworks_running(spec) if n in uncompiled_frameworks()), "numerical"]
    assert set(names) <= set(run_reference(spec, make_problem(small)))
    if spec.recurrent:  # every layer and direction's parameters, initial and final states
        units = {n.split("/")[1] for n in names if n.startswith("grad/l")}
        assert units == {"l0", "l0_reverse", "l1", "l1_reverse"}, units
        for state in spec.states:
            assert {f"{u}/{state}_T" for u in units} <= set(names)
            assert {f"grad/{u}/{state}0" for u in units} <= set(names)
    report = compare_case(small, oracles)
    assert report.ran[0] == "reference" and report.agree
    assert "reference" not in {c.oracle for c in report.comparisons}  # never its own oracle
    for name in report.ran[1:]:
        compared = {c.tensor for c in report.comparisons if c.oracle == name}
        assert compared == set(oracle_tensors(get_oracle(name), names)), name
    assert set(report.ran[1:]) | set(report.skipped) == set(oracles)


def test_central_differences_project_from_half_the_elements_complex_step_does():
    """The numerical oracles share one budget of forward passes: on a case with 1 000-2 000
    elements, complex step (one pass an element) still differentiates every element and
    central differences (two) project, and both agree with the reference."""
    sizes = {"input_size": 3, "seq_len": 1, "batch": 1}
    cases = (case("lstm", hidden_size=hidden, **sizes) for hidden in range(2, 40))
    elements = lambda c: sum(v.size for v in make_problem(c).inputs().values())  # noqa: E731
    lstm = next(c for c in cases if MAX_PASSES // 2 < elements(c) <= MAX_PASSES)
    spec = all_cells()["lstm"]
    by = {o: get_oracle(o).run(spec, make_problem(lstm)) for o in ("numerical", "fd")}
    projected = {
        o: sorted(n for n, v in r.items() if isinstance(v, Projected)) for o, r in by.items()
    }
    assert not projected["numerical"], (
        f"complex step projected {projected['numerical']} on {lstm.id}"
    )
    unprojected = sorted(set(by["fd"]) - set(projected["fd"]))
    assert not unprojected, (
        f"central differences went element by element on {unprojected}, {lstm.id}"
    )
    assert compare_case(lstm, ["numerical", "fd"]).agree
