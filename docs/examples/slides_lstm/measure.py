"""Every slip of the seed slides' LSTM derivation, measured with ``gradparity derivation``'s
checker: ``python docs/examples/slides_lstm/measure.py`` prints what docs/seed-slips.md
reports. The slides' files are beside this script."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from gradparity.core.compare import compare_tensor
from gradparity.core.text import format_table
from gradparity.derivation.check import check_derivation
from gradparity.derivation.diagnose import max_abs
from gradparity.derivation.forward import read_forward, seeded_inputs
from gradparity.derivation.render import error_text, format_report
from gradparity.derivation.report import GRADIENT, VALUE, DerivationReport
from gradparity.reference_impl.derivation import PRINTED_RULES, SLIDES_RULES, Rule
from gradparity.reference_impl.equations import backprop, evaluate

SLIDES_DIR = Path(__file__).resolve().parent


def slides_text(name: str) -> str:
    return (SLIDES_DIR / name).read_text()


def edit(text: str, old: str, new: str) -> str:
    """Replace the one line whose code (comment stripped) is ``old`` by ``new``."""
    lines = text.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.split("#", 1)[0].strip() == old.strip()]
    if len(hits) != 1:
        raise ValueError(f"{old!r} is the code of {len(hits)} lines, not 1")
    ending = "\n" if lines[hits[0]].endswith("\n") else ""
    lines[hits[0]] = new.rstrip("\n") + ending if new else ""
    return "".join(lines)


def slides_check(forward: str, backward: str, rules: Mapping[str, Rule] = SLIDES_RULES):
    """``check_derivation`` on forward/backward texts with the slides' seeded inputs."""
    spec = read_forward(forward)
    return check_derivation(
        spec.program,
        backward,
        seeded_inputs(spec.shapes),
        "L",
        rules=rules,
        forward_lines=spec.lines,
    )


def peephole_ct_forward() -> str:
    """The corrected forward with the output gate peeking at C_t (the slides' first listing)."""
    text = edit(slides_text("forward_corrected.txt"), "z19 = matmul(W_oC, C_tm1)", "")
    return edit(
        text,
        "C_t = add(z17, z18)",
        "C_t = add(z17, z18)\nz19 = matmul(W_oC, C_t)   # eq. 23 with the first listing's C_t",
    )


SOFTMAX_FORWARD = """# inputs: a[1,4] p[4]
s = softmax(a)
L = matmul(s, p)
"""
SOFTMAX_BACKWARD = """[ds, dp] += deriv(dL, s, p, '*')
[da] += deriv(ds, a, 'softmax')
"""

EQ29 = ("[dz24] += deriv(do_t, z24, 'sigmoid')", "[dz25] += deriv(do_t, z25, 'sigmoid')")
EQ11 = (
    "[dW_ix, dx_t] += deriv(dz10, W_ix, x_t, '*')",
    "[dW_ix, dx_t] += deriv(dz10, W_ix, x_t, '+')",
)
EQ19 = ("[dz16] += deriv(dCtil_t, z16, 'tanh')", "[dz16] += deriv(dCtil_t, z16, 'sigmoid')")

BACKWARD_VARIANTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    # name: (forward file, [(corrected fragment, slipped fragment), ...]) on backward_corrected
    "eq29-dz25": ("forward_corrected.txt", [EQ29]),
    "eq11-plus": ("forward_corrected.txt", [EQ11]),
    "eq19-sigmoid-rule": ("forward_corrected.txt", [EQ19]),
    "eq20-star-for-schur": (
        "forward_corrected.txt",
        [
            (
                "[df_t, dC_tm1] += deriv(dz17, f_t, C_tm1, 'o')",
                "[df_t, dC_tm1] += deriv(dz17, f_t, C_tm1, '*')",
            )
        ],
    ),
    "grad-step3-overwrite": (
        "forward_corrected.txt",
        [("[dC_t] += deriv(dz25, C_t, 'tanh')", "[dC_t] = deriv(dz25, C_t, 'tanh')")],
    ),
    "grad-step20-z14": (
        "forward_corrected.txt",
        [
            (
                "[dW_Ch, dh_tm1] += deriv(dz13, W_Ch, h_tm1, '*')",
                "[dW_Ch, _] += deriv(dz14, W_Ch, h_tm1, '*')   # step 20 as written\n"
                "[_, dh_tm1] += deriv(dz13, W_Ch, h_tm1, '*')  # step 21",
            )
        ],
    ),
    "grad-steps16-17-repeat": (
        "forward_corrected.txt",
        [
            (
                "[dz15, db_C] += deriv(dz16, z15, b_C, '+')",
                "[dz15, db_C] = deriv(dz16, z15, b_C, '+')    # steps 14-15",
            ),
            (
                "[dz13, dz14] += deriv(dz15, z13, z14, '+')",
                "[dz15, db_C] = deriv(dz16, z15, b_C, '+')    # steps 16-17 as written",
            ),
        ],
    ),
}


def backward_variant(name: str) -> tuple[str, str]:
    """(forward text, backward text): backward_corrected.txt with one slip put back."""
    forward_file, edits = BACKWARD_VARIANTS[name]
    backward = slides_text("backward_corrected.txt")
    for old, new in edits:
        backward = edit(backward, old, new)
    return slides_text(forward_file), backward


def _failing_table(report: DerivationReport) -> str:
    rows = [["gradient", "max_abs_err", "max_rel_err"]]
    rows += [
        [c.tensor, error_text(c.max_abs_err), error_text(c.max_rel_err)]
        for c in report.comparisons
        if not c.ok
    ]
    return format_table(rows) if len(rows) > 1 else "(no input gradient disagrees)"


def _value_differences(a: dict, b: dict, names: Sequence[str], kind: str) -> str:
    rows = [["tensor", "max_abs_err", "max_rel_err"]]
    for name in names:
        c = compare_tensor(
            "b", name, kind, a[name], b[name], VALUE if kind == "value" else GRADIENT
        )
        if not c.ok:
            rows.append([name, error_text(c.max_abs_err), error_text(c.max_rel_err)])
    return format_table(rows) if len(rows) > 1 else "(none)"


def slides_report() -> str:
    """Every measurement quoted in docs/seed-slips.md."""
    out = []

    def section(title: str, body: str) -> None:
        out.extend([f"== {title}", body, ""])

    as_written, corrected = slides_text("forward.txt"), slides_text("forward_corrected.txt")
    spec = read_forward(as_written)
    inputs = seeded_inputs(spec.shapes)
    sigma = evaluate(spec.program, inputs)
    tanh = evaluate(read_forward(corrected).program, inputs)
    ct = evaluate(read_forward(peephole_ct_forward()).program, inputs)
    assigned = [eq.out for eq in spec.program]
    section(
        "(a) forward as written (sigma candidate) vs corrected (tanh): values",
        _value_differences(tanh, sigma, assigned, "value"),
    )
    grads = {}
    for label, text in (("sigma", as_written), ("tanh", corrected), ("ct", peephole_ct_forward())):
        s = read_forward(text)
        g = backprop(s.program, evaluate(s.program, inputs), "L")
        grads[label] = {n: g[n] for n in inputs}
    section(
        "(a) ... true input gradients",
        _value_differences(grads["tanh"], grads["sigma"], list(inputs), "gradient"),
    )
    section(
        "(a2) output-gate peephole on C_t (first listing) vs C_{t-1} (eq. 23): values",
        _value_differences(tanh, ct, assigned, "value"),
    )
    section(
        "(a2) ... true input gradients",
        _value_differences(grads["tanh"], grads["ct"], list(inputs), "gradient"),
    )
    report = slides_check(as_written, slides_text("backward_as_written.txt"))
    section("(b) backward as written vs the forward as written", format_report(report))
    section(
        "corrected pair",
        format_report(slides_check(corrected, slides_text("backward_corrected.txt"))),
    )
    for name in BACKWARD_VARIANTS:
        r = slides_check(*backward_variant(name))
        first = r.first_offending
        section(
            f"(c) {name}",
            _failing_table(r) + "\nfirst offending: " + (first.message if first else "-"),
        )
    square = {"x_t": (3, 1), **{w: (3, 3) for w in ("W_fx", "W_ix", "W_Cx", "W_ox")}}
    forward, backward = backward_variant("eq11-plus")
    spec = read_forward(forward)
    r = check_derivation(
        spec.program,
        backward,
        seeded_inputs({**spec.shapes, **square}),
        "L",
        forward_lines=spec.lines,
    )
    section(
        "(c) eq11-plus with I = H = 3 (--inputs 'x_t[3] W_fx[3,3] W_ix[3,3] W_Cx[3,3] W_ox[3,3]')",
        _failing_table(r) + "\nfirst offending: " + r.first_offending.message,
    )
    r = slides_check(as_written, slides_text("backward_corrected.txt"))
    section(
        "(c) eq19: corrected (tanh) backward vs forward as written",
        _failing_table(r)
        + "\nfirst offending: "
        + (r.first_offending.message if r.first_offending else "-"),
    )
    r = slides_check(peephole_ct_forward(), slides_text("backward_corrected.txt"))
    section(
        "(c) peephole C_t forward vs backward written for C_{t-1}",
        _failing_table(r)
        + "\nfirst offending: "
        + (r.first_offending.message if r.first_offending else "-"),
    )
    fixed = edit(
        slides_text("backward_corrected.txt"),
        "[dW_oC, dC_tm1] += deriv(dz19, W_oC, C_tm1, '*')",
        "[dW_oC, dC_t] += deriv(dz19, W_oC, C_t, '*')",
    )
    r = slides_check(peephole_ct_forward(), fixed)
    section("(c) peephole C_t forward, eq. 23 statement rewritten for C_t", _failing_table(r))
    implicit = slides_check(
        corrected,
        edit(
            edit(
                edit(
                    slides_text("backward_corrected.txt"),
                    "[dz16] += deriv(dCtil_t, z16, 'tanh')",
                    "[dz16] += deriv(dCtil_t, 'tanh')",
                ),
                "[dz12] += deriv(di_t, z12, 'sigmoid')",
                "[dz12] += deriv(di_t, 'sigmoid')",
            ),
            "[dz6] += deriv(df_t, z6, 'sigmoid')",
            "[dz6] += deriv(df_t, 'sigmoid')",
        ),
    )
    explicit = slides_check(corrected, slides_text("backward_corrected.txt"))
    diff = max(max_abs(implicit.written_grads[n] - explicit.written_grads[n]) for n in inputs)
    section(
        "(c) unary deriv without its argument (eqs. 19, 14, 7)",
        f"max |difference| over every input gradient: {diff:.1e}; agree: {implicit.ok}",
    )
    for label, rules in (("as meant", SLIDES_RULES), ("as printed", _printed())):
        r = slides_check(SOFTMAX_FORWARD, SOFTMAX_BACKWARD, rules)
        section(f"(c) softmax rule {label} (s = softmax(a), L = s p)", format_report(r))
    return "\n".join(out)


def _printed():
    return PRINTED_RULES


if __name__ == "__main__":
    print(slides_report())
