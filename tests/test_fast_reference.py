"""The fast reference (``forward``/``backward``, registered) against the readable per-gate form
(``forward_readable``/``backward_readable``) of the same cell: every value and every gradient,
in float64 to 1e-14 of the tensor's scale, in float32 to float32 rounding."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from gradparity.catalog import all_cells
from gradparity.commands.bench import fast_cells
from gradparity.core.cases import Case, make_problem, tensor_kind
from gradparity.core.compare import compare_tensor
from gradparity.core.tolerances import tolerance
from gradparity.reference_impl import network

FAST_CELLS = sorted(fast_cells())
TOLERANCE = {"float64": 1e-14, "float32": 1e-5}  # max |fast − readable| / max |readable|


def _options(cell: str) -> list[dict]:
    """Defaults, a stacked bidirectional case, and each declared option at a non-default value."""
    variants = [{}, {"layers": 2, "bidirectional": True}]
    for option in all_cells()[cell].options:
        if option.choices:
            variants += [{option.name: c} for c in option.choices if c != option.default]
        elif isinstance(option.default, bool):
            variants += [
                {option.name: not option.default},
                {option.name: not option.default, "layers": 2},
            ]
        elif isinstance(option.default, float):
            variants.append({option.name: option.default + 1.0})
        elif isinstance(option.default, int):
            variants += [{option.name: 2}, {option.name: 2, "layers": 2}]
    return variants


def _cases() -> list:
    cases = []
    for cell in FAST_CELLS:
        sizes = [(1, 1, 1), (2, 7, 3), (4, 50, 16), (3, 13, 5)]  # (B, T, H), input_size 5
        for k, options in enumerate(_options(cell)):
            for dtype in TOLERANCE:
                for seed, (batch, steps, hidden) in enumerate(sizes if k == 0 else sizes[1:3]):
                    case = Case.make(
                        all_cells()[cell],
                        options=options,
                        input_size=5,
                        hidden_size=hidden,
                        seq_len=steps,
                        batch=batch,
                        seed=seed,
                        dtype=dtype,
                    )
                    cases.append(pytest.param(case, id=case.id))
    return cases


def readable(module) -> SimpleNamespace:
    """The readable form under the cell interface (``forward``, ``backward``)."""
    return SimpleNamespace(forward=module.forward_readable, backward=module.backward_readable)


def test_the_fast_cells_include_lstm_and_gru():
    """Issue 7 asks for these two; a registry without them has nothing to check here."""
    wanted = {"lstm", "gru"} & set(all_cells())
    assert wanted <= set(FAST_CELLS)


@pytest.mark.parametrize("case", _cases())
def test_fast_equals_readable(case):
    spec, problem = case.spec, make_problem(case)
    module = spec.reference_module()
    before = {k: v.copy() for k, v in problem.inputs().items()}
    fast = network.run(spec.reference_for(problem.options), problem)
    slow = network.run(spec.reference_for(problem.options, readable(module)), problem)
    for name, value in problem.inputs().items():  # in-place work never touches the inputs
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    assert fast.keys() == slow.keys()
    for name, expected in slow.items():
        got = fast[name]
        assert got.shape == expected.shape, name
        assert got.dtype == np.dtype(case.dtype), f"{name} is {got.dtype}, not {case.dtype}"
        assert expected.dtype == got.dtype, f"readable {name} is {expected.dtype}"
        scale = max(float(np.max(np.abs(expected))), np.finfo(case.dtype).tiny)
        error = float(np.max(np.abs(got - expected))) / scale
        assert error <= TOLERANCE[case.dtype], f"{name}: {error:.2e} of its scale"


@pytest.mark.parametrize("cell", FAST_CELLS)
def test_fast_forward_is_complex_analytic(cell):
    """The complex-step oracle runs the fast forward on complex arrays: same values as the
    readable forward, imaginary parts included."""
    case = Case.make(all_cells()[cell], input_size=3, hidden_size=4, seq_len=6, batch=2)
    problem = make_problem(case).astype(np.complex128)
    tilt = {
        k: v + 1e-3j * np.cos(np.arange(v.size)).reshape(v.shape)
        for k, v in problem.inputs().items()
    }
    problem = problem.with_inputs(tilt)
    module = case.spec.reference_module()
    args = (problem.params, problem.x, problem.state0, problem.options)
    outputs, final, _ = module.forward(*args)
    expected_outputs, expected_final, _ = module.forward_readable(*args)
    assert outputs.dtype == np.complex128
    np.testing.assert_allclose(outputs, expected_outputs, rtol=1e-14, atol=1e-15)
    for name, value in expected_final.items():
        np.testing.assert_allclose(final[name], value, rtol=1e-14, atol=1e-15)


def _program_cases():
    """Every sample case of the agreement suite of every cell that has both a step program and
    a hand-written reference."""
    for spec in all_cells().values():
        if spec.has_program and hasattr(spec.module(), "forward"):
            for case in spec.sample_cases(spec):
                yield pytest.param(case, id=case.id)


@pytest.mark.parametrize("case", list(_program_cases()))
def test_the_program_reference_equals_the_hand_written_one(case):
    """The step program's readable reference (``reference_impl/program_cell.py``) against the
    registered, hand-written one, on the whole agreement grid: every tensor within the tolerance
    table's entry for its dtype and kind."""
    spec, problem = case.spec, make_problem(case)
    hand = network.run(spec.reference_for(problem.options), problem)
    program = network.run(spec.reference_for(problem.options, spec.program_reference()), problem)
    assert program.keys() == hand.keys()
    failures = []
    for name, expected in hand.items():
        kind = tensor_kind(name)
        comparison = compare_tensor(
            "program", name, kind, expected, program[name], tolerance(case.dtype, kind)
        )
        assert program[name].dtype == np.dtype(case.dtype), f"{name} is {program[name].dtype}"
        if not comparison.ok:
            failures.append(comparison.message(case.id, "pytest tests/test_fast_reference.py"))
    assert not failures, "\n\n".join(failures)
