"""Checks of the primitive VJPs and the equation evaluator against the lecture slides."""

from __future__ import annotations

import dataclasses
import math
import warnings
import zlib
from collections.abc import Callable

import numpy as np
import pytest

from gradparity.reference_impl.equations import Eq, backprop, evaluate, parse
from gradparity.reference_impl.primitives import PRIMITIVES, get_primitive

H_COMPLEX = 1e-30


# --- 1. the slides' circuit f = (x + y) z -------------------------------------------------


def test_slides_circuit_add_then_multiply() -> None:
    program = parse(
        """
        q = add(x, y)
        f = schur(q, z)
        """
    )
    values = evaluate(program, {"x": -2.0, "y": 5.0, "z": -4.0})
    grads = backprop(program, values, "f")
    assert float(values["f"]) == -12.0
    assert [float(grads[name]) for name in ("x", "y", "z")] == [-4.0, -4.0, 3.0]


# --- 2. the slides' 2-input sigmoid neuron --------------------------------------------------

NEURON_DOT = """
    w0x0 = schur(w0, x0)
    w1x1 = schur(w1, x1)
    s = add(w0x0, w1x1)
    dot = add(s, w2)
"""
NEURON_SIGMOID_GATE = NEURON_DOT + "f = sigmoid(dot)\n"
NEURON_EXP_CHAIN = (
    NEURON_DOT
    + """
    ndot = mul_const(dot, -1.0)
    e = exp(ndot)
    den = add_const(e, 1.0)  # 1 + exp(-dot)
    f = reciprocal(den)
    """
)


def _slides_neuron() -> tuple[float, list[float], list[float]]:
    w = [2, -3, -3]  # assume some random weights and data
    x = [-1, -2]

    # forward pass
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1 + math.exp(-dot))  # sigmoid function

    # backward pass through the neuron (backpropagation)
    ddot = (1 - f) * f  # gradient on dot variable, using the sigmoid gradient derivation
    dx = [w[0] * ddot, w[1] * ddot]  # backprop into x
    dw = [x[0] * ddot, x[1] * ddot, 1.0 * ddot]  # backprop into w
    return f, dx, dw


@pytest.mark.parametrize(
    "source", [NEURON_SIGMOID_GATE, NEURON_EXP_CHAIN], ids=["sigmoid-gate", "exp-chain"]
)
def test_sigmoid_neuron_matches_slides(source: str) -> None:
    program = parse(source)
    inputs = {"w0": 2.0, "w1": -3.0, "w2": -3.0, "x0": -1.0, "x1": -2.0}
    values = evaluate(program, inputs)
    grads = backprop(program, values, "f")

    f, dx, dw = _slides_neuron()
    np.testing.assert_allclose(values["f"], f, rtol=1e-15)
    np.testing.assert_allclose([grads["x0"], grads["x1"]], dx, rtol=1e-15)
    np.testing.assert_allclose([grads["w0"], grads["w1"], grads["w2"]], dw, rtol=1e-15)


# --- 3. the slides' staged example f = (x + sig(y)) / (sig(x) + (x + y)^2) -----------------

STAGED = """
    sigy = sigmoid(y)         # sigmoid in numerator
    num = add(x, sigy)        # numerator
    sigx = sigmoid(x)         # sigmoid in denominator
    xpy = add(x, y)
    xpysqr = square(xpy)
    den = add(sigx, xpysqr)   # denominator
    invden = reciprocal(den)
    f = schur(num, invden)    # done!
"""


def _slides_staged(x: float, y: float) -> tuple[float, float, float]:
    # forward pass
    sigy = 1.0 / (1 + math.exp(-y))  # sigmoid in numerator  (1)
    num = x + sigy  # numerator  (2)
    sigx = 1.0 / (1 + math.exp(-x))  # sigmoid in denominator  (3)
    xpy = x + y  # (4)
    xpysqr = xpy**2  # (5)
    den = sigx + xpysqr  # denominator  (6)
    invden = 1.0 / den  # (7)
    f = num * invden  # done!  (8)

    # backprop f = num * invden
    dnum = invden  # gradient on numerator  (8)
    dinvden = num  # (8)
    # backprop invden = 1.0 / den
    dden = (-1.0 / (den**2)) * dinvden  # (7)
    # backprop den = sigx + xpysqr
    dsigx = (1) * dden  # (6)
    dxpysqr = (1) * dden  # (6)
    # backprop xpysqr = xpy**2
    dxpy = (2 * xpy) * dxpysqr  # (5)
    # backprop xpy = x + y
    dx = (1) * dxpy  # (4)
    dy = (1) * dxpy  # (4)
    # backprop sigx = 1.0 / (1 + math.exp(-x))
    dx += ((1 - sigx) * sigx) * dsigx  # Notice += !! See notes below  (3)
    # backprop num = x + sigy
    dx += (1) * dnum  # (2)
    dsigy = (1) * dnum  # (2)
    # backprop sigy = 1.0 / (1 + math.exp(-y))
    dy += ((1 - sigy) * sigy) * dsigy  # (1)
    # done! phew
    return f, dx, dy


def _staged_closed_form(x: complex, y: complex) -> complex:
    def sig(t: complex) -> complex:
        return 1.0 / (1.0 + np.exp(-t))

    return (x + sig(y)) / (sig(x) + (x + y) ** 2)


@pytest.fixture(scope="module")
def staged() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    program = parse(STAGED)
    values = evaluate(program, {"x": 3.0, "y": -4.0})
    return values, backprop(program, values, "f")


def test_staged_matches_slides_hand_written_backward(staged: tuple) -> None:
    values, grads = staged
    f, dx, dy = _slides_staged(3.0, -4.0)
    np.testing.assert_allclose(values["f"], f, rtol=1e-15)
    np.testing.assert_allclose([grads["x"], grads["y"]], [dx, dy], rtol=1e-15)


def test_staged_matches_central_differences(staged: tuple) -> None:
    _, grads = staged
    x, y, h = 3.0, -4.0, 1e-6
    dx = (_staged_closed_form(x + h, y) - _staged_closed_form(x - h, y)) / (2 * h)
    dy = (_staged_closed_form(x, y + h) - _staged_closed_form(x, y - h)) / (2 * h)
    np.testing.assert_allclose([grads["x"], grads["y"]], [dx, dy], rtol=1e-8)


def test_staged_matches_complex_step(staged: tuple) -> None:
    _, grads = staged
    x, y, h = 3.0, -4.0, H_COMPLEX
    dx = _staged_closed_form(x + 1j * h, y).imag / h
    dy = _staged_closed_form(x, y + 1j * h).imag / h
    np.testing.assert_allclose([grads["x"], grads["y"]], [dx, dy], rtol=1e-14)

    # The equation program itself is complex-analytic too.
    values = evaluate(parse(STAGED), {"x": x + 1j * h, "y": y})
    np.testing.assert_allclose(grads["x"], values["f"].imag / h, rtol=1e-14)


# --- 4. every primitive's VJP against complex-step directional derivatives ---------------

Inputs = list[np.ndarray | float]


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


def _normal(*shapes: tuple[int, ...]) -> Callable[[np.random.Generator], Inputs]:
    return lambda rng: [rng.standard_normal(s) for s in shapes]


# (case id, primitive name, input builder); a float input is a constant and is not perturbed.
VJP_CASES: list[tuple[str, str, Callable[[np.random.Generator], Inputs]]] = [
    ("add", "add", _normal((3, 4), (3, 4))),
    ("add-bias", "add", _normal((3, 4), (4,))),
    ("add-row", "add", _normal((2, 4), (1, 4))),  # a size-1 axis stretched to 2
    ("subtract", "subtract", _normal((3, 4), (3, 4))),
    ("subtract-column", "subtract", _normal((3, 4), (3, 1))),
    ("schur", "schur", _normal((3, 4), (3, 4))),
    ("matmul", "matmul", _normal((3, 4), (4, 2))),
    ("matmul-vector", "matmul", _normal((4,), (4, 2))),
    ("divide", "divide", lambda rng: [rng.standard_normal((3, 4)), _away_from_zero(rng, (3, 4))]),
    ("tanh", "tanh", _normal((3, 4))),
    ("sigmoid", "sigmoid", _normal((3, 4))),
    ("exp", "exp", _normal((3, 4))),
    ("log", "log", lambda rng: [rng.uniform(0.5, 2.0, (3, 4))]),
    ("reciprocal", "reciprocal", lambda rng: [_away_from_zero(rng, (3, 4))]),
    ("square", "square", _normal((3, 4))),
    ("negate", "negate", _normal((3, 4))),
    ("softmax", "softmax", _normal((3, 4))),
    ("softmax-vector", "softmax", _normal((4,))),  # a row vector [N], as matmul takes
    ("log_softmax", "log_softmax", _normal((3, 4))),
    ("log_softmax-far-from-zero", "log_softmax", lambda rng: [50.0 * rng.standard_normal((3, 4))]),
    ("sum", "sum", _normal((3, 4))),
    ("one_minus", "one_minus", _normal((3, 4))),
    ("relu", "relu", lambda rng: [_away_from_zero(rng, (3, 4))]),
    ("mean", "mean", _normal((3, 4))),
    ("rsqrt", "rsqrt", lambda rng: [rng.uniform(0.5, 2.0, (3, 4))]),
    ("clip", "clip", lambda rng: [_away_from_zero(rng, (3, 4)), 1.0]),  # some clipped
    ("clip-off", "clip", lambda rng: [rng.standard_normal((3, 4)), 0.0]),
    ("add_const", "add_const", lambda rng: [rng.standard_normal((3, 4)), float(rng.normal())]),
    ("mul_const", "mul_const", lambda rng: [rng.standard_normal((3, 4)), float(rng.normal())]),
]


def check_vjp_by_complex_step(name: str, inputs: Inputs, rng: np.random.Generator) -> None:
    """Assert <dz, J_i u_i> == <vjp(dz)_i, u_i> for every array input i."""
    prim = PRIMITIVES[name]
    out = prim.forward(*inputs)
    dz = rng.standard_normal(np.shape(out))
    cotangents = prim.vjp(dz, out, *inputs)
    assert len(cotangents) == prim.arity == len(inputs)

    for i, (x, cotangent) in enumerate(zip(inputs, cotangents, strict=True)):
        if isinstance(x, float):
            assert cotangent is None, f"{name}: constant input {i} got a cotangent"
            continue
        assert np.shape(cotangent) == np.shape(x), f"{name}: cotangent {i} has wrong shape"
        u = rng.standard_normal(np.shape(x))
        perturbed = list(inputs)
        perturbed[i] = x + 1j * H_COMPLEX * u
        jvp = np.imag(prim.forward(*perturbed)) / H_COMPLEX
        lhs = float(np.sum(dz * jvp))
        rhs = float(np.sum(cotangent * u))
        assert abs(lhs - rhs) <= 1e-13 * max(abs(lhs), abs(rhs)), (
            f"{name}: input {i}: <dz, J u> = {lhs!r} but <vjp(dz), u> = {rhs!r}"
        )


def _run_case(case_id: str, name: str, build: Callable[[np.random.Generator], Inputs]) -> None:
    rng = np.random.default_rng(zlib.adler32(case_id.encode()))
    check_vjp_by_complex_step(name, build(rng), rng)


@pytest.mark.parametrize(("case_id", "name", "build"), VJP_CASES, ids=[c[0] for c in VJP_CASES])
def test_vjp_matches_complex_step(case_id: str, name: str, build: Callable) -> None:
    _run_case(case_id, name, build)


def test_every_primitive_has_a_vjp_case() -> None:
    assert {name for _, name, _ in VJP_CASES} == set(PRIMITIVES)


def test_planted_swapped_schur_vjp_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    def swapped(dz: np.ndarray, out: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple:
        return dz * x, dz * y

    planted = dataclasses.replace(PRIMITIVES["schur"], vjp=swapped)
    monkeypatch.setitem(PRIMITIVES, "schur", planted)
    _, name, build = next(case for case in VJP_CASES if case[0] == "schur")
    with pytest.raises(AssertionError, match="schur: input 0"):
        _run_case("schur", name, build)


def test_sigmoid_saturates_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = PRIMITIVES["sigmoid"].forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])


def test_softmax_is_shift_invariant_per_row_far_from_zero() -> None:
    """softmax(x + c) = softmax(x) for a constant c per row, also where exp(x + c) overflows or
    underflows: rows near 0 and near ±1000 in one batch (adding 1000 rounds x by ~1e-13)."""
    x = np.random.default_rng(0).uniform(-1, 1, (3, 4))
    shifts = np.array([[0.0], [1000.0], [-1000.0]])
    softmax = PRIMITIVES["softmax"].forward
    np.testing.assert_allclose(softmax(x + shifts), softmax(x), rtol=1e-12, atol=0)


# --- 6. error messages ----------------------------------------------------------------------


def test_unknown_op_message() -> None:
    with pytest.raises(KeyError) as excinfo:
        get_primitive("cube")
    message = excinfo.value.args[0]
    assert "'cube'" in message and "\n" not in message
    assert ", ".join(sorted(PRIMITIVES)) in message

    with pytest.raises(KeyError, match="cube"):
        evaluate(parse("f = cube(x)"), {"x": 1.0})


def test_undefined_argument_message() -> None:
    program = parse("q = add(x, y)\nf = schur(q, zz)")
    with pytest.raises(ValueError, match="'zz'") as excinfo:
        evaluate(program, {"x": 1.0, "y": 2.0})
    assert "\n" not in str(excinfo.value)


def test_malformed_line_message() -> None:
    with pytest.raises(ValueError, match="line 3") as excinfo:
        parse("q = add(x, y)\n\nf = schur q z  # missing parentheses")
    message = str(excinfo.value)
    assert "schur q z" in message and "out = op(arg, ...)" in message and "\n" not in message


@pytest.mark.parametrize(
    ("program", "fragment"),
    [
        ([Eq("x", "negate", ("y",))], "'x' is an input"),
        ([Eq("q", "negate", ("x",)), Eq("q", "exp", ("x",))], "'q' is assigned twice"),
        ([Eq("q", "add", ("x",))], "add takes 2 args, got 1"),
    ],
    ids=["overwrite-input", "assigned-twice", "arity"],
)
def test_evaluate_rejects_bad_programs(program: list[Eq], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        evaluate(program, {"x": 1.0, "y": 2.0})


def test_parse_reads_constants_and_comments() -> None:
    program = parse("# header\nden = add_const(e, 1.0)  # 1 + e\nf = mul_const(den, -2.5e0)\n")
    assert program == [Eq("den", "add_const", ("e", 1.0)), Eq("f", "mul_const", ("den", -2.5))]


def test_parse_keeps_only_what_precedes_the_first_hash() -> None:
    program = parse("q = add(x, y)  # sum # of x and y\nf = exp()\n")
    assert program == [Eq("q", "add", ("x", "y")), Eq("f", "exp", ())]  # arity: evaluate's job


def test_bad_argument_message_names_the_line() -> None:
    with pytest.raises(ValueError) as excinfo:
        parse("q = add(x, y)\nf = schur(q, 2x)")
    message = str(excinfo.value)
    assert message.startswith("line 2: bad argument '2x' in 'f = schur(q, 2x)';")
    assert "out = op(arg, ...)" in message


def test_backprop_of_a_value_never_evaluated_is_an_error() -> None:
    program = parse("q = add(x, y)")
    values = evaluate(program, {"x": 1.0, "y": 2.0})
    with pytest.raises(ValueError, match="output 'f' is not among the evaluated values"):
        backprop(program, values, "f")


def test_integer_inputs_are_evaluated_in_float64() -> None:
    """Inputs written as integers (the slides' x = -2) are floats: exact, and float64."""
    program = parse("q = add(x, y)\nf = schur(q, z)")
    values = evaluate(program, {"x": -2, "y": 5, "z": np.array([-4, 1])})
    assert {name: str(v.dtype) for name, v in values.items()} == dict.fromkeys(values, "float64")
    expected = evaluate(program, {"x": -2.0, "y": 5.0, "z": np.array([-4.0, 1.0])})
    for name, value in expected.items():
        np.testing.assert_array_equal(values[name], value)


def test_backprop_skips_equations_the_output_does_not_depend_on() -> None:
    """An equation after (or beside) the output's own is skipped, not the end of the walk."""
    base = "q = add(x, y)\nf = schur(q, z)\n"
    inputs = {"x": -2.0, "y": 5.0, "z": -4.0}
    with_unused = parse(base + "unused = exp(x)\n")
    grads = backprop(with_unused, evaluate(with_unused, inputs), "f")
    expected = backprop(parse(base), evaluate(parse(base), inputs), "f")
    assert grads.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_array_equal(grads[name], value)


def test_backprop_of_a_vector_output_weights_it_by_the_seed() -> None:
    """``seed`` of the output's shape: the gradient of <seed, output>, checked by complex step."""
    rng = np.random.default_rng(0)
    program = parse("z = matmul(x, W)\nf = tanh(z)")
    inputs = {"x": rng.standard_normal((2, 3)), "W": rng.standard_normal((3, 4))}
    seed = rng.standard_normal((2, 4))
    grads = backprop(program, evaluate(program, inputs), "f", seed=seed)
    for name, value in inputs.items():
        u = rng.standard_normal(value.shape)
        tilted = evaluate(program, {**inputs, name: value + 1j * H_COMPLEX * u})["f"]
        directional = float(np.sum(seed * tilted.imag)) / H_COMPLEX
        assert grads[name].shape == value.shape
        np.testing.assert_allclose(float(np.sum(grads[name] * u)), directional, rtol=1e-13)
