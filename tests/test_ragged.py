"""Per-example lengths: the reference's semantics checked by hand, padded inputs' gradients exactly
zero everywhere, the shared constants, and the refusals of oracles that cannot take lengths."""

from __future__ import annotations

import numpy as np
import pytest

from gradparity.catalog import all_cells, get_cell
from gradparity.checks import cached_oracle, compare_case
from gradparity.core.cases import Case, make_problem, ragged_cases
from gradparity.core.errors import OracleUnavailable
from gradparity.core.loop import run_reference
from gradparity.core.sequences import PREFIX, sequence_constants
from gradparity.frameworks import all_frameworks, all_oracles
from gradparity.reference_impl.network import Problem
from helpers import installed_frameworks

RECURRENT = [name for name, spec in all_cells().items() if spec.recurrent]


def _case(cell: str, lengths, **options) -> Case:
    steps = max(lengths)
    return Case.make(
        get_cell(cell),
        options=options,
        input_size=3,
        hidden_size=4,
        seq_len=steps + 1,
        batch=len(lengths),
        seed=5,
        lengths=tuple(lengths),
    )


@pytest.mark.parametrize("cell", RECURRENT)
@pytest.mark.parametrize("stacked", [False, True], ids=["one-layer", "two-bidirectional"])
def test_every_length_equal_to_T_is_the_unpadded_network_exactly(cell, stacked):
    options = {"layers": 2, "bidirectional": True} if stacked else {}
    case = _case(cell, [6, 6, 6], **options)
    problem = make_problem(case)
    full = Problem(**{**problem.__dict__, "lengths": np.full(3, problem.x.shape[1])})
    plain = run_reference(case.spec, Problem(**{**problem.__dict__, "lengths": None}))
    ragged = run_reference(case.spec, full)
    assert plain.keys() == ragged.keys()
    for name, value in plain.items():
        np.testing.assert_array_equal(ragged[name], value, err_msg=name)


def _elman(problem: Problem, steps: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """A tanh RNN over row b's first ``steps`` inputs, written out: (outputs, final h)."""
    p, h = problem.params, problem.state0["h"][b]
    outputs = []
    for t in range(steps):
        h = np.tanh(problem.x[b, t] @ p["W"] + h @ p["U"] + p["b"])
        outputs.append(h)
    return np.array(outputs).reshape(steps, len(h)), h


def test_the_reference_semantics_by_hand_on_an_elman_rnn():
    """Outputs zero past the length, the final state after the last valid step (the initial
    state for length 0), and the head reading each row's last valid output."""
    case = _case("rnn", [5, 2, 1, 0], activation="tanh")
    problem = make_problem(case)
    result = run_reference(case.spec, problem)
    logits = []
    for b, length in enumerate(problem.lengths):
        outputs, h = _elman(problem, length, b)
        np.testing.assert_allclose(result["outputs"][b, :length], outputs, rtol=1e-14)
        assert not result["outputs"][b, length:].any(), f"row {b}: padded outputs are not 0"
        np.testing.assert_allclose(result["h_T"][b], h, rtol=1e-14)
        last = outputs[-1] if length else np.zeros_like(h)
        logits.append(last @ problem.head["W_y"] + problem.head["b_y"])
    logits = np.array(logits)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(4), problem.targets].mean()
    np.testing.assert_allclose(result["loss"], loss, rtol=1e-14)


def test_the_reverse_direction_runs_over_each_valid_prefix_reversed():
    case = _case("rnn", [5, 3, 1], activation="tanh", bidirectional=True)
    problem = make_problem(case)
    result = run_reference(case.spec, problem)
    hidden = case.hidden_size
    for b, length in enumerate(problem.lengths):
        reverse = Problem(
            params={k.removeprefix("l0_reverse/"): v for k, v in problem.params.items()},
            x=problem.x[:, :length][:, ::-1],
            state0={"h": problem.state0["l0_reverse/h"]},
            targets=problem.targets,
            options={},
        )
        outputs, h = _elman(reverse, length, b)
        np.testing.assert_allclose(result["outputs"][b, :length, hidden:], outputs[::-1], 1e-14)
        np.testing.assert_allclose(result["l0_reverse/h_T"][b], h, rtol=1e-14)


def _gradient_oracles() -> list[str]:
    installed = set(installed_frameworks())
    return [
        name
        for name, oracle in all_oracles().items()
        if oracle.computes_gradients and (name in installed or name not in all_frameworks())
    ]


def _padded_case(dtype: str) -> Case:
    return Case.make(
        get_cell("lstm"),
        options={"layers": 2},
        input_size=3,
        hidden_size=3,
        seq_len=4,
        batch=3,
        seed=9,
        dtype=dtype,
        lengths=(4, 2, 1),
    )


def _oracle_grad_x(oracle_name: str) -> tuple[Case, np.ndarray]:
    """grad/x of the padded case, float64 where the oracle computes it, else float32."""
    reasons = []
    for dtype in ("float64", "float32"):
        case = _padded_case(dtype)
        if oracle_name == "reference":
            return case, run_reference(case.spec, make_problem(case))["grad/x"]
        try:
            return case, np.asarray(cached_oracle(case, oracle_name)["grad/x"])
        except OracleUnavailable as reason:
            reasons.append(str(reason))
    pytest.skip("; ".join(reasons))


@pytest.mark.parametrize("oracle_name", ["reference", *_gradient_oracles()])
def test_gradients_of_padded_inputs_are_exactly_zero(oracle_name):
    case, grads = _oracle_grad_x(oracle_name)
    for b, length in enumerate(case.lengths):
        assert np.all(grads[b, length:] == 0.0), f"{oracle_name}: grad/x of row {b} past {length}"
        assert np.all(np.abs(grads[b, :length]).sum(axis=-1) > 0), "a valid step has no gradient"


def test_the_shared_constants_reverse_each_prefix_and_select_the_last_valid_step():
    named = sequence_constants(np.array([3, 1, 0]), 4, np.float64)
    reverse, select = named[PREFIX + "reverse"], named[PREFIX + "select"]
    x = np.arange(12.0).reshape(3, 4, 1)
    np.testing.assert_array_equal(
        (reverse @ x)[..., 0], [[2, 1, 0, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    )
    np.testing.assert_array_equal(reverse @ reverse, np.broadcast_to(np.eye(4), (3, 4, 4)))
    np.testing.assert_array_equal((select @ x)[:, 0, 0], [2, 4, 8])  # length 0 reads step 0
    np.testing.assert_array_equal(
        named[PREFIX + "mask"][..., 0], [[1, 1, 1, 0], [1, 0, 0, 0], [0] * 4]
    )


def test_a_builder_without_lengths_refuses_with_its_reason():
    declared = [
        (name, spec, builder)
        for name in installed_frameworks()
        for spec in map(get_cell, RECURRENT)
        if (builder := all_frameworks()[name].builder_for(spec)) and builder.without_lengths
    ]
    if not declared:
        pytest.skip("no installed framework declares a builder without per-example lengths")
    name, spec, builder = declared[0]
    case = Case.make(spec, dtype="float32", batch=2, seq_len=4, lengths=(3, 1))
    with pytest.raises(OracleUnavailable) as refused:
        compare_case(case, [name])
    assert builder.without_lengths in str(refused.value), refused.value
    assert builder.target in str(refused.value), refused.value


@pytest.mark.parametrize("cell", RECURRENT)
def test_every_recurrent_cell_has_ragged_suite_cases(cell):
    cases = ragged_cases(get_cell(cell))
    lengths = [case.lengths for case in cases]
    assert any(0 in ls for ls in lengths) and any(1 in ls for ls in lengths)
    assert any(len(set(ls)) == 1 for ls in lengths), "no case with every length equal"
    assert any(case.options_dict["bidirectional"] for case in cases if len(set(case.lengths)) > 1)
