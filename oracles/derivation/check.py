"""Check a hand-written backward pass (the lecture slides' deriv() notation) against the truth.

``check_derivation(forward, backward, inputs, output)`` runs the forward program
(``equations.evaluate``), takes the true gradients of ``output`` by reverse mode over it
(``equations.backprop``) and confirms them by complex step (forward passes only), runs the
written backward statements with the slides' deriv routine (``reference_impl.derivation``) and
compares, with the float64 ``gradient`` tolerance:

- every input gradient, written vs true (``DerivationReport.comparisons``);
- every gradient a statement reads, at the moment it reads it (``DerivationReport.trace``);
- every statement on its own: its deriv() applied to the *true* incoming gradient vs what its
  forward equation really passes back (the primitive's VJP). A statement that is wrong there
  is the slip's line, whatever came before it (``DerivationReport.findings``).

Gradients are compared in the slides' layout (∇_V L has V's shape transposed).

The forward file: ``derivation/forward.py``; the findings: ``derivation/diagnose.py``; text
and JSON: ``derivation/render.py``. ``docs/examples/slides_lstm/measure.py`` uses all of it to
measure every slip of the seed slides (docs/seed-slips.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from gradparity.core.compare import compare_tensor
from gradparity.core.errors import InputError
from gradparity.derivation.diagnose import diagnose, shape_text
from gradparity.derivation.forward import read_forward
from gradparity.derivation.report import GRADIENT, DerivationReport, StatementCheck
from gradparity.reference_impl.derivation import (
    SLIDES_RULES,
    Rule,
    Statement,
    as_column_layout,
    complex_step_gradients,
    grad_shape,
    parse_backward,
    run_backward,
)
from gradparity.reference_impl.equations import Eq, backprop, evaluate


def _as_inputs(inputs: Mapping[str, ArrayLike]) -> dict[str, np.ndarray]:
    result = {}
    for name, value in inputs.items():
        try:
            array = as_column_layout(value)
        except ValueError as error:
            raise InputError(f"input {name}: {error}") from None
        if not np.isrealobj(array):
            raise InputError(f"input {name}: values must be real")
        result[name] = array.astype(np.float64)
    return result


def free_names(program: Sequence[Eq]) -> list[str]:
    assigned = {eq.out for eq in program}
    names = [a for eq in program for a in eq.args if isinstance(a, str) and a not in assigned]
    return list(dict.fromkeys(names))


def check_derivation(
    forward_program: Sequence[Eq] | str,
    backward_statements: Sequence[Statement] | str,
    inputs: Mapping[str, ArrayLike],
    output: str,
    *,
    rules: Mapping[str, Rule] = SLIDES_RULES,
    forward_lines: Sequence[int] | None = None,
) -> DerivationReport:
    """Compare a written backward pass with the true gradients of ``output``.

    ``forward_program``: ``equations`` program (or its text) in the slides' column convention.
    ``backward_statements``: ``parse_backward`` statements (or their text).
    ``inputs``: name → value; a 1-D value is an N×1 column, a scalar 1×1.
    ``output``: a 1×1 value of the program. Malformed input raises ``InputError`` (one line).
    """
    if isinstance(forward_program, str):
        spec = read_forward(forward_program)
        program, forward_lines = spec.program, spec.lines
    else:
        program = list(forward_program)
    lines = list(forward_lines) if forward_lines is not None else list(range(1, len(program) + 1))
    try:
        statements = (
            parse_backward(backward_statements)
            if isinstance(backward_statements, str)
            else list(backward_statements)
        )
    except ValueError as error:
        raise InputError(f"backward {error}") from None
    inputs = _as_inputs(inputs)
    missing = [n for n in free_names(program) if n not in inputs]
    if missing:
        raise InputError(
            f"no value or shape for input(s) {', '.join(missing)} of the forward program"
        )
    try:
        values = evaluate(program, inputs)
    except (ValueError, KeyError) as error:
        raise InputError(f"forward program: {error.args[0] if error.args else error}") from None
    for eq, lineno in zip(program, lines, strict=True):
        arg = values[eq.args[0]] if eq.args and isinstance(eq.args[0], str) else None
        if eq.op == "softmax" and arg is not None and arg.shape[-1] == 1 and arg.size > 1:
            raise InputError(
                f"forward line {lineno}: softmax({eq.args[0]}) of a {shape_text(arg)} column: the"
                " primitive's softmax normalizes along rows, so give it a 1xN row"
            )
    if output not in values:
        raise InputError(f"output {output!r} is not a variable of the forward program")
    if values[output].size != 1:
        raise InputError(
            f"output {output!r} is {shape_text(values[output])}; it must be a 1x1 scalar"
        )

    value_grads = backprop(program, values, output)
    true = {name: value_grads.get(name, np.zeros_like(value)).T for name, value in values.items()}
    stepped = complex_step_gradients(program, inputs, output)
    truth = [
        compare_tensor(
            "complex_step",
            f"d{n}",
            "gradient",
            true[n],
            stepped[n].T,
            GRADIENT,
            baseline="backprop",
        )
        for n in inputs
    ]
    try:
        run = run_backward(statements, values, output, rules)
    except ValueError as error:
        raise InputError(f"backward {error}") from None

    def written(name: str) -> np.ndarray:
        return run.grads.get(name, np.zeros(grad_shape(values[name])))

    comparisons = [
        compare_tensor("written", f"d{n}", "gradient", true[n], written(n), GRADIENT, "true")
        for n in inputs
    ]
    touched = [n for r in run.results for n in (r.statement.dz, *r.contributions)]
    touched = [n for n in touched if n not in inputs]
    intermediates = [
        compare_tensor("written", f"d{n}", "gradient", true[n], written(n), GRADIENT, "true")
        for n in dict.fromkeys(touched)
    ]
    trace = [
        StatementCheck(
            r.statement,
            compare_tensor(
                "written",
                f"d{r.statement.dz}",
                "gradient",
                true[r.statement.dz],
                r.read,
                GRADIENT,
                "true",
            ),
        )
        for r in run.results
    ]
    findings = diagnose(program, lines, values, value_grads, true, run, trace, rules, output)
    return DerivationReport(
        output, comparisons, truth, intermediates, trace, findings, values, true, run.grads
    )
