"""Fast agreement checks of the reference, the test selection of the mutmut run (tox -e mutation).

mutmut runs, for every mutant of ``reference_impl/``, the tests that reach the mutated function,
so these must be cheap and still cover every code path of every cell: a few small cases per
registered cell, each compared with complex step (a backward bug shows against the reference's
own forward pass) and PyTorch (a forward bug shows too). For every cell:

- float64 and float32 with the default options;
- one float64 case per non-default setting of each of the cell's own options (``option_variants``);
- no dense head and no probes (the network's other branches);
- two stacked bidirectional layers (``reference_impl/stack.py``), against PyTorch alone when it is
  installed (complex step over every element of four units took seconds per cell);

plus the checks that mutation testing itself asked for (docs/mutation-testing.md). Cells come from
the registry, never by name. Also part of the normal suite (a few seconds).
"""

from __future__ import annotations

import numpy as np
import pytest

from oracles.base import get_oracle
from oracles.cases import Case, make_problem
from oracles.harness import compare_case, run_reference
from oracles.registry import CellSpec, Option, all_cells

SIZES = {"input_size": 3, "hidden_size": 4, "seq_len": 5, "batch": 2}
STACKED_SIZES = {"input_size": 2, "hidden_size": 3, "seq_len": 3, "batch": 2}
STACKED = {"layers": 2, "bidirectional": True}


def variant_values(option: Option, hidden: int) -> list[object]:
    """Non-default settings of ``option`` that take other code paths: every other choice; a
    flag flipped; a float at 0.5 (or at 0 when its default is not 0: e.g. a bias term or a
    clip that is off at 0 and, at 0.5, active on states drawn from U(-1, 1)); a size (an int
    option, e.g. a projection width) at half the hidden size."""
    default = option.default
    if option.choices:
        return [choice for choice in option.choices if choice != default]
    if isinstance(default, bool):
        return [not default]
    if isinstance(default, float):
        return [0.5 if default == 0 else 0.0]
    if isinstance(default, int):
        return [hidden // 2]
    return []


def option_variants(spec: CellSpec) -> list[dict[str, object]]:
    return [
        {option.name: value}
        for option in spec.options
        for value in variant_values(option, SIZES["hidden_size"])
    ]


def framework_available(spec: CellSpec) -> bool:
    return get_oracle("torch").unsupported(spec) is None


def mutation_cases(spec: CellSpec) -> list[tuple[Case, bool]]:
    """The cases of one cell, each with whether complex step runs on it."""
    make = Case.make
    cases = [(make(spec.name, dtype=dtype, **SIZES), True) for dtype in ("float64", "float32")]
    cases += [(make(spec.name, options=variant, **SIZES), True) for variant in option_variants(spec)]
    cases.append((make(spec.name, head="none", probes=False, **SIZES), True))
    if spec.recurrent:
        stacked = make(spec.name, options=STACKED, **STACKED_SIZES)
        cases.append((stacked, not framework_available(spec)))
    return cases


def _params():
    for spec in all_cells().values():
        for case, numerical in mutation_cases(spec):
            yield pytest.param(case, numerical, id=case.id)


@pytest.mark.parametrize(("case", "numerical"), list(_params()))
def test_reference_agrees(case, numerical):
    oracles = (["numerical"] if numerical else []) + (
        ["torch"] if framework_available(case.spec) else []
    )
    report = compare_case(case, oracles)
    failures = report.failures()
    assert report.agree, "\n".join(c.message(case.id, case.command(c.oracle)) for c in failures)


def test_the_variants_take_other_paths():
    """Every cell option gets a variant, and a variant changes the reference's outputs."""
    for spec in all_cells().values():
        variants = option_variants(spec)
        assert {name for variant in variants for name in variant} == {
            option.name for option in spec.options
        }
        base = run_reference(spec, make_problem(Case.make(spec.name, **SIZES)))["outputs"]
        for variant in variants:
            case = Case.make(spec.name, options=variant, **SIZES)
            outputs = run_reference(spec, make_problem(case))["outputs"]
            assert outputs.shape != base.shape or not np.allclose(outputs, base), case.id
