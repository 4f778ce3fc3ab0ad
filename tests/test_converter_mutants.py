"""Every framework's planted converter bugs (``gradparity.converter_mutants``: a swapped gate
block, a transposed weight, a dropped bias gradient, …, each an edit of one of its builder
modules applied in its worker) are caught by that framework's checks, with the tensor named;
the same cases without the edit agree."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gradparity.catalog import get_cell
from gradparity.checks import compare_case
from gradparity.converter_mutants import converter_mutants
from helpers import installed_frameworks

MUTANTS = converter_mutants()


def test_every_framework_plants_converter_bugs():
    described = {m.framework for m in MUTANTS}
    assert set(installed_frameworks()) <= described | {"numpy_cs"}


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_a_converter_bug_is_caught_naming_the_tensor(mutant):
    if mutant.framework not in installed_frameworks():
        pytest.skip(f"{mutant.framework} is not installed")
    case = mutant.case()
    control = compare_case(case, [mutant.framework])
    assert control.agree, [c.tensor for c in control.failures()]
    report = compare_case(case, [mutant.framework], patch=mutant.patch)
    failed = {c.tensor: c for c in report.failures()}
    assert mutant.caught_by in failed, f"{mutant.name} survived on {mutant.caught_by}"
    message = failed[mutant.caught_by].message(case.id, case.command(mutant.framework))
    assert message.startswith(
        f"{mutant.caught_by}: {mutant.framework} disagrees with reference on {case.id}"
    )


def test_a_forgotten_option_shows_only_at_a_value_other_than_the_frameworks_default():
    """Why the pairwise cases cover each option's values beyond its default: TF 1.x's
    LSTMCell defaults forget_bias to 1.0, the peephole cell's canonical default, so a builder
    that forgets to pass it agrees there and disagrees at 0.0 (a covered value)."""
    mutant = next(m for m in MUTANTS if m.name == "tf-peephole-forget-bias-not-passed")
    if mutant.framework not in installed_frameworks():
        pytest.skip(f"{mutant.framework} is not installed")
    at_default = replace(mutant, options=(("forget_bias", 1.0),)).case()
    assert compare_case(at_default, [mutant.framework], patch=mutant.patch).agree
    covered = next(o for o in get_cell(mutant.cell).options if o.name == "forget_bias")
    assert dict(mutant.options)["forget_bias"] in covered.covered_values
