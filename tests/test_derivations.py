"""The derivation checker: hand-written backward passes in the slides' deriv() notation.

Every expectation comes from backprop over the forward program or from complex step; no
gradient value is written down here. The slides' LSTM lives in docs/examples/slides_lstm.
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from gradparity.commands.main import main
from gradparity.core.compare import compare_tensor
from gradparity.derivation.check import check_derivation
from gradparity.derivation.forward import parse_shapes, read_forward, seeded_inputs
from gradparity.derivation.render import check_files
from gradparity.derivation.report import VALUE

sys.path.insert(0, str(Path(__file__).parents[1] / "docs" / "examples" / "slides_lstm"))
from measure import (
    BACKWARD_VARIANTS,
    EQ11,
    EQ19,
    EQ29,
    SLIDES_DIR,
    SOFTMAX_BACKWARD,
    SOFTMAX_FORWARD,
    backward_variant,
    edit,
    slides_check,
    slides_report,
    slides_text,
)

from gradparity.core.errors import InputError
from gradparity.reference_impl.derivation import (
    OPS,
    PRINTED_RULES,
    SLIDES_RULES,
    Statement,
    apply_rule,
    as_column_layout,
    complex_step_gradients,
    expected_statement,
    parse_backward,
    run_backward,
    true_contributions,
)
from gradparity.reference_impl.equations import Eq, evaluate, parse
from gradparity.reference_impl.primitives import get_primitive

FORWARD = "forward.txt"
FORWARD_FIXED = "forward_corrected.txt"
BACKWARD = "backward_as_written.txt"
BACKWARD_FIXED = "backward_corrected.txt"

O_GATE = {"dW_oC", "dW_oh", "dW_ox", "db_o", "dx_t", "dh_tm1", "dC_tm1"}
"""What the output gate's gradient reaches: lost when dz24 is never written (eq. 29 slip)."""
CANDIDATE = {"dW_Ch", "dW_Cx", "db_C", "dx_t", "dh_tm1"}
"""What flows back through C~_t's nonlinearity (eq. 19)."""


def line_of(text: str, code: str, occurrence: int | None = None) -> int:
    """The file line whose code (comment stripped) is ``code`` (the only one, unless told)."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if line.split("#")[0].strip() == code]
    assert len(hits) == 1 or occurrence is not None, (code, hits)
    return hits[occurrence or 0]


def causes(report) -> list:
    return [f for f in report.findings if f.cause]


def sigma_backward() -> str:
    """The corrected backward for the forward as written (sigma candidate): right for it."""
    return edit(slides_text(BACKWARD_FIXED), *EQ19)


# --- the corrected pair and the truth ---------------------------------------------------------


def test_corrected_backward_passes() -> None:
    report = slides_check(slides_text(FORWARD_FIXED), slides_text(BACKWARD_FIXED))
    assert report.ok and report.failing == [] and causes(report) == []
    names = {c.tensor for c in report.comparisons}
    assert names == {"d" + n for n in read_forward(slides_text(FORWARD_FIXED)).shapes}
    assert len(names) == 20
    assert all(c.ok for c in report.intermediates) and all(t.read.ok for t in report.trace)


def test_corrected_backward_for_the_sigma_forward_passes() -> None:
    report = slides_check(slides_text(FORWARD), sigma_backward())
    assert report.ok and causes(report) == []


@pytest.mark.parametrize("forward", [FORWARD, FORWARD_FIXED])
def test_backprop_is_confirmed_by_complex_step(forward: str) -> None:
    report = slides_check(slides_text(forward), slides_text(BACKWARD_FIXED))
    assert report.truth_ok
    assert [c.tensor for c in report.truth] == [c.tensor for c in report.comparisons]
    assert max(c.max_rel_err for c in report.truth) < 1e-13


# --- the slides' backward as written ------------------------------------------------------


def test_as_written_fails_exactly_on_the_slipped_gradients() -> None:
    report = slides_check(slides_text(FORWARD), slides_text(BACKWARD))
    assert not report.ok
    assert set(report.failing) == O_GATE | {"dW_ix", "dx_t"}
    # each slip alone, on a backward that is otherwise right for this forward
    eq29 = slides_check(slides_text(FORWARD), edit(sigma_backward(), *EQ29))
    eq11 = slides_check(slides_text(FORWARD), edit(sigma_backward(), *EQ11))
    assert set(eq29.failing) == O_GATE
    assert set(eq11.failing) == {"dW_ix", "dx_t"}
    assert set(report.failing) == set(eq29.failing) | set(eq11.failing)


def test_as_written_first_offending_statement_is_the_eq29_line() -> None:
    text = slides_text(BACKWARD)
    report = slides_check(slides_text(FORWARD), text)
    eq29_line = line_of(text, EQ29[1])
    eq11_line = line_of(text, EQ11[1])
    assert report.first_offending.line == eq29_line
    assert "expected [dz24] += deriv(do_t, z24, 'sigmoid')" in report.first_offending.message
    assert [f.line for f in causes(report)] == [eq29_line, eq11_line]
    plus = causes(report)[1]
    assert plus.kind == "shape" and plus.message.startswith(f"line {eq11_line}: ")
    assert "'+' returns 1x3 for dW_ix, whose gradient is 2x3" in plus.message
    assert "z10 is a matrix product ('*')" in plus.message and "\n" not in plus.message


def test_intermediate_gradients_are_compared_in_statement_order() -> None:
    text = slides_text(BACKWARD)
    report = slides_check(slides_text(FORWARD), text)
    first_bad_read = next(t for t in report.trace if not t.read.ok)
    # the first statement to read a wrong gradient is the one after the slip: it reads dz24
    assert first_bad_read.statement.dz == "z24"
    assert first_bad_read.statement.line > line_of(text, EQ29[1])
    wrong = {c.tensor for c in report.intermediates if not c.ok}
    assert {"dz25", "dz24", "dz23", "dz22", "dz21", "dz20", "dz19"} == wrong


@pytest.mark.parametrize(
    ("variant", "failing"),
    [
        ("eq29-dz25", O_GATE),
        ("eq11-plus", {"dW_ix", "dx_t"}),
        ("eq19-sigmoid-rule", CANDIDATE),
        ("grad-step20-z14", set()),  # dz14 == dz13 numerically (both copies of dz15)
        ("grad-steps16-17-repeat", {"dW_Ch", "dW_Cx", "dx_t", "dh_tm1"}),
    ],
)
def test_each_slip_alone_points_at_its_line(variant: str, failing: set[str]) -> None:
    forward, backward = backward_variant(variant)
    report = slides_check(forward, backward)
    assert set(report.failing) == failing
    slipped = BACKWARD_VARIANTS[variant][1][0][1].splitlines()[0]
    # the slip is the last line with that code (steps 16-17 repeat steps 14-15)
    assert report.first_offending.line == line_of(backward, slipped.split("#")[0].strip(), -1)
    assert "\n" not in report.first_offending.message


def test_overwrite_with_equals_is_reported_at_its_line() -> None:
    forward, backward = backward_variant("grad-step3-overwrite")
    report = slides_check(forward, backward)
    first = report.first_offending
    assert first.kind == "overwrite" and first.line == line_of(
        backward, "[dC_t] = deriv(dz25, C_t, 'tanh')"
    )
    probe_line = line_of(backward, "[dP_C, dC_t] += deriv(dz27, P_C, C_t, '*')")
    assert f"discarding what line {probe_line} added" in first.message
    # everything upstream of C_t loses the probe's dL/dC_t; the output gate does not
    assert not set(report.failing) & {"dW_oC", "dW_oh", "dW_ox", "db_o", "dP_h", "dP_C"}
    assert {"dW_fC", "dW_iC", "dW_Ch", "dC_tm1"} <= set(report.failing)


def test_missing_statement_is_reported_with_its_forward_line() -> None:
    forward = slides_text(FORWARD_FIXED)
    backward = edit(slides_text(BACKWARD_FIXED), "[dz13, dz14] += deriv(dz15, z13, z14, '+')", "")
    report = slides_check(forward, backward)
    missing = [f for f in report.findings if f.kind == "missing"]
    assert len(missing) == 1 and missing[0].line is None
    z15_line = line_of(forward, "z15 = add(z13, z14)")
    assert f"forward line {z15_line}" in missing[0].message
    assert "expected [dz13, dz14] += deriv(dz15, z13, z14, '+')" in missing[0].message
    assert set(report.failing) == {"dW_Ch", "dW_Cx", "dx_t", "dh_tm1"}


def test_reading_a_gradient_before_its_last_contribution_is_an_order_finding() -> None:
    probe = "[dP_C, dC_t] += deriv(dz27, P_C, C_t, '*')"
    cell = "[dz17, dz18] += deriv(dC_t, z17, z18, '+')"
    backward = edit(slides_text(BACKWARD_FIXED), probe, "")
    backward = edit(backward, cell, f"{cell}\n{probe}")
    report = slides_check(slides_text(FORWARD_FIXED), backward)
    first = report.first_offending
    assert first.kind == "order" and first.line == line_of(backward, cell)
    assert f"before line {line_of(backward, probe)} adds to it" in first.message
    assert not report.ok


def test_an_equivalent_statement_repeated_is_counted_twice() -> None:
    first = "[dz3, dz4] += deriv(dz5, z3, z4, '+')"
    again = "[dz4, dz3] += deriv(dz5, z4, z3, '+')"  # the same derivative, arguments swapped
    backward = edit(slides_text(BACKWARD_FIXED), first, f"{first}\n{again}")
    report = slides_check(slides_text(FORWARD_FIXED), backward)
    assert report.first_offending.kind == "duplicate"
    assert report.first_offending.line == line_of(backward, again)
    assert f"(line {line_of(backward, first)} already did)" in report.first_offending.message
    assert set(report.failing) == {"dW_fC", "dW_fh", "dW_fx", "dx_t", "dh_tm1", "dC_tm1"}


# --- sigma vs tanh in the forward -------------------------------------------------------------


def test_sigma_versus_tanh_forward_difference_is_detected() -> None:
    spec = read_forward(slides_text(FORWARD))
    inputs = seeded_inputs(spec.shapes)
    sigma = evaluate(spec.program, inputs)
    tanh = evaluate(read_forward(slides_text(FORWARD_FIXED)).program, inputs)
    differ = {
        name
        for name in sigma
        if not compare_tensor("sigma", name, "value", tanh[name], sigma[name], VALUE).ok
    }
    assert differ == {"Ctil_t", "z18", "C_t", "z25", "h_t", "z26", "z27", "L"}
    # the corrected backward, checked against the forward as written, fails at eq. 19
    text = slides_text(BACKWARD_FIXED)
    report = slides_check(slides_text(FORWARD), text)
    assert set(report.failing) == CANDIDATE
    assert report.first_offending.line == line_of(text, EQ19[0])
    assert "Ctil_t is a sigmoid ('sigmoid')" in report.first_offending.message


# --- the local rules ----------------------------------------------------------------------


def _column(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(-1, 1, (n, 1))


@pytest.mark.parametrize("op", sorted(set(SLIDES_RULES) - {"softmax"}))
def test_slides_rules_are_the_transposed_primitive_vjps(op: str) -> None:
    rng = np.random.default_rng(zlib.adler32(op.encode()))
    args = [rng.uniform(-1, 1, (3, 2)), _column(rng, 2)] if op == "*" else [_column(rng, 3)]
    if op in "+-o":
        args = [_column(rng, 3), _column(rng, 3)]
    prim = get_primitive(OPS[op])
    out = prim.forward(*args)
    dz = rng.uniform(-1, 1, out.T.shape)  # the slides' layout: a row for a column z
    names = ("a", "b")[: len(args)]
    st = Statement(1, "", names, "+=", "z", names, op)
    written = apply_rule(st, dz, dict(zip(names, args, strict=True)), SLIDES_RULES)
    for mine, theirs in zip(written, prim.vjp(dz.T, out, *args), strict=True):
        np.testing.assert_allclose(mine, np.asarray(theirs).T, rtol=1e-15, atol=1e-16)


def test_softmax_rule_as_meant_passes_and_as_printed_fails() -> None:
    meant = check_derivation(SOFTMAX_FORWARD, SOFTMAX_BACKWARD, _softmax_inputs(), "L")
    printed = check_derivation(
        SOFTMAX_FORWARD, SOFTMAX_BACKWARD, _softmax_inputs(), "L", rules=PRINTED_RULES
    )
    assert meant.ok and meant.truth_ok
    assert printed.failing == ["da"]
    assert "the rule for 'softmax' is wrong" in printed.first_offending.message


def _softmax_inputs() -> dict[str, np.ndarray]:
    return seeded_inputs(read_forward(SOFTMAX_FORWARD).shapes)


def test_softmax_of_a_column_in_the_forward_is_an_input_error() -> None:
    with pytest.raises(InputError, match="forward line 1: softmax") as excinfo:
        check_derivation(
            "s = softmax(a)\nL = matmul(p, s)", "", {"a": np.ones(3), "p": np.ones((1, 3))}, "L"
        )
    assert "\n" not in str(excinfo.value)


def test_unary_deriv_without_its_argument_reads_the_target() -> None:
    (st,) = parse_backward("[dz16] += deriv(dCtil_t, 'sigmoid')")
    assert st.args == ("z16",) and st.inferred_arg and st.targets == ("z16",)


# --- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "[dz26, dz27] += deriv(dL, z26, z27, '+')\n[dz1 += deriv(dz2, a, 'o')",
            "line 2: cannot parse",
        ),
        ("\n\n[da, db] += deriv(dz, a, b, 'x')", "line 3: unknown operator 'x'"),
        ("[da, db] += deriv(dz, a, b, o)", "line 1: the last argument of deriv must be the quoted"),
        ("[da] += deriv(dz, a, 'o')", "line 1: 'o' takes 2 argument(s) and 2 target(s)"),
        ("[a, db] += deriv(dz, a, b, 'o')", "line 1: a target must be d<variable>, got 'a'"),
        ("[da, db] += deriv(z, a, b, 'o')", "line 1: the first argument of deriv"),
        ("[_] += deriv(dz, 'tanh')", "line 1: 'tanh' takes 1 argument(s)"),
        ("[da, db] += deriv(dz, a, 2.0, '+')", "line 1: bad argument '2.0'"),
    ],
)
def test_malformed_statements_are_one_line_errors_with_line_numbers(
    text: str, fragment: str
) -> None:
    with pytest.raises(ValueError, match=r"^line") as excinfo:
        parse_backward(text)
    assert fragment in str(excinfo.value) and "\n" not in str(excinfo.value)
    with pytest.raises(InputError, match=r"^backward line"):
        slides_check(slides_text(FORWARD), text)


def test_unknown_variable_names_the_line_and_suggests() -> None:
    text = slides_text(BACKWARD_FIXED).replace("[dW_ox, dx_t] +=", "[dW_ox, dx] +=")
    with pytest.raises(InputError) as excinfo:
        slides_check(slides_text(FORWARD_FIXED), text)
    message = str(excinfo.value)
    line = line_of(text, "[dW_ox, dx] += deriv(dz22, W_ox, x_t, '*')")
    assert f"line {line}: dx:" in message
    assert "did you mean" in message and "\n" not in message


def test_shape_error_is_a_finding_not_a_crash() -> None:
    forward, backward = backward_variant("eq20-star-for-schur")
    report = slides_check(forward, backward)
    line = line_of(backward, "[df_t, dC_tm1] += deriv(dz17, f_t, C_tm1, '*')")
    assert report.first_offending.kind == "shape" and report.first_offending.line == line
    assert report.first_offending.message.startswith(f"line {line}: ")
    assert "dC_tm1" in report.failing and not np.isfinite(
        next(c.max_abs_err for c in report.comparisons if c.tensor == "dC_tm1")
    )


def test_input_declarations() -> None:
    assert parse_shapes("x_t[2] W[3,2] s[] r[1, 4]") == {
        "x_t": (2, 1),
        "W": (3, 2),
        "s": (1, 1),
        "r": (1, 4),
    }
    for bad in ("x[2", "x[0]", "x[2,3,4]", "[2]", "x[a]"):
        with pytest.raises(InputError, match="bad input declaration"):
            parse_shapes(bad)
    values = seeded_inputs({"W": (3, 2), "V": (3, 2)})
    assert len(np.unique(values["W"])) == 6 and not np.array_equal(values["W"], values["V"])
    np.testing.assert_array_equal(values["W"], seeded_inputs({"W": (3, 2)})["W"])


def test_undeclared_input_and_non_scalar_output_are_input_errors(tmp_path) -> None:
    forward = tmp_path / "f.txt"
    backward = tmp_path / "b.txt"
    forward.write_text("# inputs: x[2]\nz = matmul(W, x)\n")
    backward.write_text("")
    with pytest.raises(InputError, match=r"no shape for input.*W"):
        check_files(forward, backward, "z")
    with pytest.raises(InputError, match="'z' is 3x1; it must be a 1x1 scalar"):
        check_files(forward, backward, "z", {"W": (3, 2)})
    with pytest.raises(InputError, match="no output"):
        check_files(forward, backward, None, {"W": (3, 2)})


# --- the command line ---------------------------------------------------------------------


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["derivation", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_exit_0_on_the_corrected_pair(capsys) -> None:
    code, out, err = run(
        capsys, str(SLIDES_DIR / FORWARD_FIXED), str(SLIDES_DIR / BACKWARD_FIXED), "--output", "L"
    )
    assert code == 0 and err == ""
    assert "RIGHT: every input gradient agrees" in out
    assert all(f"d{n}" in out for n in ("W_fC", "x_t", "h_tm1", "C_tm1"))


def test_cli_exit_1_on_the_slides_as_written(capsys) -> None:
    code, out, _ = run(capsys, str(SLIDES_DIR / FORWARD), str(SLIDES_DIR / BACKWARD))
    text = slides_text(BACKWARD)
    assert code == 1
    assert f"first offending statement: line {line_of(text, EQ29[1])}: " in out
    assert "WRONG: 8 of 20 input gradients disagree" in out
    code, out, _ = run(capsys, str(SLIDES_DIR / FORWARD), str(SLIDES_DIR / BACKWARD), "--json")
    report = json.loads(out)
    assert code == 1 and report["agree"] is False
    assert report["first_offending"]["line"] == line_of(text, EQ29[1])
    failing = {r["tensor"] for r in report["results"] if not r["ok"]}
    assert failing == O_GATE | {"dW_ix", "dx_t"}
    (dw_ix,) = (r for r in report["results"] if r["tensor"] == "dW_ix")
    assert dw_ix["max_abs_err"] is None and dw_ix["max_abs_err_nonfinite"] == "inf"


def test_cli_inputs_override_the_header(capsys) -> None:
    square = "x_t[3] W_fx[3,3] W_ix[3,3] W_Cx[3,3] W_ox[3,3]"
    code, out, _ = run(
        capsys, str(SLIDES_DIR / FORWARD), str(SLIDES_DIR / BACKWARD), "--inputs", square
    )
    assert code == 1
    # with I = H the '+' slip gives dx_t a wrong value (not a shape error); dW_ix still fails
    assert "dx_t is off by" in out and "'+' returns 1x3 for dW_ix, whose gradient is 3x3" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["nope.txt", BACKWARD], "cannot read forward program"),
        ([FORWARD, "bad"], "backward line 2: cannot parse"),
        ([FORWARD, BACKWARD, "--inputs", "x_t[2"], "bad input declaration"),
        ([FORWARD, BACKWARD, "--output", "h_t"], "it must be a 1x1 scalar"),
        ([FORWARD, BACKWARD, "--inputs", "nothing[2]"], "not inputs of the forward program"),
    ],
)
def test_cli_exit_2_on_malformed_input(capsys, tmp_path, argv: list[str], fragment: str) -> None:
    (tmp_path / "bad").write_text("# a comment\n[dz1 += deriv(dz2, a, 'o')\n")
    paths = {FORWARD: str(SLIDES_DIR / FORWARD), BACKWARD: str(SLIDES_DIR / BACKWARD)}
    paths["bad"] = str(tmp_path / "bad")
    code, out, err = run(capsys, *[paths.get(a, a) for a in argv])
    assert code == 2 and out == ""
    assert err.startswith("gradparity: error: ") and fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_slides_report_runs() -> None:
    report = slides_report()
    assert "WRONG: 8 of 20 input gradients disagree" in report
    assert "agree: True" in report  # the unary statements without their argument


# --- the rules' own findings (cases that mutation testing asked for: docs/mutation-testing.md) --


def _col(rows: int, cols: int = 1) -> np.ndarray:
    return np.arange(1.0, rows * cols + 1).reshape(rows, cols) / 10


@pytest.mark.parametrize(
    ("statement", "values", "finding"),
    [
        ("[da, db] += deriv(dz, a, b, 'o')", {"z": _col(3), "a": _col(3), "b": _col(2)},
         "'o' computes dz (1x3) ∘ bᵀ (1x2)"),
        ("[da, db] += deriv(dz, a, b, 'o')", {"z": _col(3), "a": _col(2), "b": _col(3)},
         "'o' computes dz (1x3) ∘ aᵀ (1x2)"),
        ("[dx, dW] += deriv(dz, x, W, '*')", {"z": _col(2), "x": _col(3), "W": _col(2, 3)},
         "'*' computes W (2x3) · dz (1x2)"),
        ("[dW, dx] += deriv(dz, W, x, '*')", {"z": _col(2), "x": _col(3), "W": _col(3, 3)},
         "'*' computes dz (1x2) · W (3x3)"),
        ("[da] += deriv(dz, a, 'tanh')", {"z": _col(3), "a": _col(2)},
         "'tanh' computes dz (1x3) ∘ (1 - tanh²(a))ᵀ (1x2)"),
        ("[da] += deriv(dz, a, 'sigmoid')", {"z": _col(3), "a": _col(2)},
         "'sigmoid' computes dz (1x3) ∘ (σ(a) ∘ (1 - σ(a)))ᵀ (1x2)"),
        ("[da] += deriv(dz, a, 'softmax')", {"z": _col(3), "a": _col(2, 3)},
         "'softmax' computes softmax needs a vector a and dz of its transposed shape;"
         " got a (2x3) and dz (1x3)"),
        ("[da] += deriv(dz, a, 'softmax')", {"z": _col(2, 3), "a": _col(2, 3)},
         "'softmax' computes softmax needs a vector a and dz of its transposed shape;"
         " got a (2x3) and dz (3x2)"),
        ("[da] += deriv(dz, a, 'softmax')", {"z": _col(2), "a": _col(3)},
         "'softmax' computes softmax needs a vector a and dz of its transposed shape;"
         " got a (3x1) and dz (1x2)"),
        ("[da, db] += deriv(dz, a, b, '+')", {"z": _col(3), "a": _col(2), "b": _col(2)},
         "'+' returns 1x3 for da, whose gradient is 1x2 (a is 2x1);"
         " '+' returns 1x3 for db, whose gradient is 1x2 (b is 2x1)"),
    ],
    ids=["schur-y", "schur-x", "matmul-y", "matmul-x", "tanh", "sigmoid", "softmax-matrix",
         "softmax-matrix-dz-fits", "softmax-dz", "add-both-targets"],
)  # fmt: skip
def test_a_rule_shape_slip_is_one_line_and_its_targets_become_nan(statement, values, finding):
    run = run_backward(parse_backward(statement), values, "z")
    (result,) = run.results
    assert result.shape_error == f"line 1: {statement}: shape error: {finding}"
    for target in result.statement.targets:
        assert run.grads[target].shape == values[target].T.shape
        assert np.isnan(run.grads[target]).all()


def test_a_variable_used_twice_in_one_statement_sums_both_contributions():
    """z = a ∘ a: ``[da, da] += deriv(dz, a, a, 'o')`` adds both halves, as the primitive's
    VJP does; both against complex step."""
    program = parse("z = schur(a, a)\nL = matmul(w, z)")
    inputs = {"a": _col(3), "w": _col(3).T}
    values = evaluate(program, inputs)
    backward = "[dw, dz] += deriv(dL, w, z, '*')\n[da, da] += deriv(dz, a, a, 'o')"
    run = run_backward(parse_backward(backward), values, "L")
    truth = complex_step_gradients(program, inputs, "L")
    np.testing.assert_allclose(run.grads["a"], truth["a"].T, rtol=1e-14)
    dz = inputs["w"].T  # d L / d z in the values' layout
    contributions = true_contributions(program[0], dz, values)
    np.testing.assert_allclose(contributions["a"], truth["a"].T, rtol=1e-14)


def test_a_constant_argument_gets_no_contribution():
    values = evaluate([Eq("z", "add_const", ("x", 1.0))], {"x": _col(2)})
    contributions = true_contributions(Eq("z", "add_const", ("x", 1.0)), _col(2), values)
    assert contributions.keys() == {"x"}
    np.testing.assert_array_equal(contributions["x"], _col(2).T)


def test_expected_statement_only_for_the_slides_ops_on_variables():
    assert expected_statement(Eq("z", "add", ("x", "y"))) == "[dx, dy] += deriv(dz, x, y, '+')"
    assert expected_statement(Eq("z", "add", ("x", 1.0))) is None  # a constant argument
    assert expected_statement(Eq("z", "exp", ("x",))) is None  # no slides rule for exp


def test_the_printed_softmax_rule_is_the_sigmoid_rule():
    """The printed "dz*Jacobian(sigmoid,x)": for a vector x, exactly the slides' 'sigmoid' rule."""
    rng = np.random.default_rng(0)
    for shape in ((4, 1), (1, 4)):  # a column, and a row (its gradient then a column)
        x, dz = rng.standard_normal(shape), rng.standard_normal(shape[::-1])
        (printed,) = PRINTED_RULES["softmax"].fn(dz, x)
        (sigmoid,) = SLIDES_RULES["sigmoid"].fn(dz, x)
        assert printed.shape == dz.shape
        np.testing.assert_allclose(printed, sigmoid, rtol=1e-15)


def test_column_layout():
    scalar, vector, matrix = (
        as_column_layout(3),
        as_column_layout([1, 2]),
        as_column_layout(_col(2, 3)),
    )
    assert (scalar.shape, vector.shape, matrix.shape) == ((1, 1), (2, 1), (2, 3))
    assert scalar.dtype == vector.dtype == np.float64
    np.testing.assert_array_equal(vector, [[1.0], [2.0]])
    with pytest.raises(ValueError, match=r"scalars, vectors and matrices; got \(2, 2, 2\)$"):
        as_column_layout(np.zeros((2, 2, 2)))


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("[da] += deriv(dqqq, a, 'tanh')", "line 1: dqqq: 'qqq' is not a variable of the forward"
         " program"),
        ("[da] += deriv(dz, qqq, 'tanh')", "line 1: qqq: 'qqq' is not a variable of the forward"
         " program"),
        ("[da] += deriv(dz, z1, 'tanh')", "line 1: z1: 'z1' is not a variable of the forward"
         " program (did you mean 'z'?)"),
    ],
    ids=["gradient-read", "argument", "suggestion"],
)  # fmt: skip
def test_an_unknown_name_is_reported_with_a_suggestion_only_when_one_is_close(statement, message):
    with pytest.raises(ValueError) as excinfo:
        run_backward(parse_backward(statement), {"z": _col(2), "a": _col(2)}, "z")
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[da, db] += deriv(dz, a, b, o)", "line 1: the last argument of deriv must be the quoted"
         " operator (one of '+', '-', 'o' (Schur), '*' (matrix product), 'tanh', 'sigmoid',"
         " 'softmax'), got 'o'"),
        ("[da] += deriv(dz, a, 'o')", "line 1: 'o' takes 2 argument(s) and 2 target(s)"
         " (deriv(dZ, A, B, 'o') into [dA, dB]); got 1 argument(s) and 1 target(s)"),
        ("[da, db] += deriv(dz, a, b, 'tanh')", "line 1: 'tanh' takes 1 argument(s) and 1"
         " target(s) ([dA] += deriv(dZ, A, 'tanh')); got 2 argument(s) and 2 target(s)"),
        ("[ab, db] += deriv(dz, a, b, 'o')", "line 1: a target must be d<variable>, got 'ab'"),
    ],
    ids=["operator", "binary-arity", "unary-arity", "target"],
)  # fmt: skip
def test_statement_errors_in_full(text, message):
    with pytest.raises(ValueError) as excinfo:
        parse_backward(text)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    "text",
    ["[] += deriv(dz, a, 'tanh')", "[da] += deriv(dz, , 'tanh')", "[da] += deriv(dz)"],
    ids=["no-target", "empty-argument", "one-argument"],
)
def test_empty_targets_and_arguments_cannot_be_parsed(text):
    with pytest.raises(ValueError, match=r"^line 1: cannot parse"):
        parse_backward(text)


def test_a_comment_starts_at_the_first_hash_and_arguments_are_not_inferred_when_given():
    (st,) = parse_backward("[da] += deriv(dz, a, 'tanh')  # σ' # (eq. 3)")
    assert st.text == "[da] += deriv(dz, a, 'tanh')" and st.inferred_arg is False
