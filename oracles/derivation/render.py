"""``gradparity derivation``: files in, the report as text or strict JSON out."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from gradparity.core.errors import InputError
from gradparity.core.text import dumps, format_table, strict
from gradparity.derivation.check import check_derivation, free_names
from gradparity.derivation.diagnose import shape_text
from gradparity.derivation.forward import parse_shapes, read_forward, seeded_inputs
from gradparity.derivation.report import GRADIENT, DerivationReport
from gradparity.reference_impl.derivation import SLIDES_RULES, Rule


def _read(path: str | Path, what: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as error:
        raise InputError(f"cannot read {what} {str(path)!r}: {error.strerror or error}") from None


def check_files(
    forward_path: str | Path,
    backward_path: str | Path,
    output: str | None = None,
    shapes: Mapping[str, tuple[int, ...]] | None = None,
    rules: Mapping[str, Rule] = SLIDES_RULES,
) -> DerivationReport:
    """``check_derivation`` on files; ``shapes`` adds to or overrides the ``# inputs:`` header."""
    spec = read_forward(_read(forward_path, "forward program"))
    backward = _read(backward_path, "backward statements")
    output = output or spec.output
    if output is None:
        raise InputError(
            "no output: pass --output NAME or put '# output: NAME' in the forward file"
        )
    declared = {**spec.shapes, **(shapes or {})}
    free = free_names(spec.program)
    undeclared = [n for n in free if n not in declared]
    if undeclared:
        raise InputError(
            f"no shape for input(s) {', '.join(undeclared)}: declare them with"
            f" '# inputs: {undeclared[0]}[N]' in the forward file or --inputs"
        )
    unused = [n for n in declared if n not in free]
    if unused:
        raise InputError(
            f"declared input(s) {', '.join(unused)} are not inputs of the forward program"
        )
    return check_derivation(
        spec.program,
        backward,
        seeded_inputs(declared),
        output,
        rules=rules,
        forward_lines=spec.lines,
    )


def error_text(x: float) -> str:
    return f"{x:.2e}" if math.isfinite(x) else ("nan" if math.isnan(x) else "inf")


def format_report(report: DerivationReport) -> str:
    rows = [["gradient", "shape", "max_abs_err", "max_rel_err", "ok"]]
    for c in report.comparisons:
        shape = shape_text(report.written_grads.get(c.tensor[1:], report.true_grads[c.tensor[1:]]))
        rows.append(
            [
                c.tensor,
                shape,
                error_text(c.max_abs_err),
                error_text(c.max_rel_err),
                "ok" if c.ok else "FAIL",
            ]
        )
    worst = max((c.max_rel_err for c in report.truth), default=0.0)
    lines = [
        f"d{report.output} w.r.t. {len(report.comparisons)} inputs: written (your statements)"
        " vs true (backprop over the forward program)",
        f"true gradients confirmed by complex step: {'yes' if report.truth_ok else 'NO'}"
        f" (max_rel_err {error_text(worst)});"
        f" tolerance rtol {GRADIENT.rtol:g}, atol {GRADIENT.atol:g}",
        "",
        format_table(rows),
    ]
    wrong_mid = [c.tensor for c in report.intermediates if not c.ok]
    if wrong_mid:
        lines += ["", f"intermediate gradients wrong at the end: {', '.join(wrong_mid)}"]
    causes = [f for f in report.findings if f.cause]
    if causes:
        lines += ["", "findings (in statement order):", *(f"  {f.message}" for f in causes)]
    first = report.first_offending
    if first is not None and not report.ok:
        lines += ["", f"first offending statement: {first.message}"]
    if not report.truth_ok:
        bad = ", ".join(c.tensor for c in report.truth if not c.ok)
        lines += ["", f"backprop and complex step disagree on {bad}: the truth is in doubt"]
    failed = len(report.failing)
    verdict = (
        "RIGHT: every input gradient agrees"
        if report.ok
        else f"WRONG: {failed} of {len(report.comparisons)} input gradients disagree"
        + (f" ({', '.join(report.failing)})" if failed else "")
    )
    return "\n".join([*lines, "", verdict])


def report_json(report: DerivationReport) -> dict:
    first = report.first_offending
    return strict(
        {
            "agree": report.ok,
            "output": report.output,
            "results": [c.to_json() for c in report.comparisons],
            "truth": [c.to_json() for c in report.truth],
            "intermediates": [c.to_json() for c in report.intermediates],
            "reads": [
                {"line": t.statement.line, "statement": t.statement.text, **t.read.to_json()}
                for t in report.trace
            ],
            "findings": [f.to_json() for f in report.findings],
            "first_offending": first.to_json() if first is not None and not report.ok else None,
        }
    )


def derivation_command(
    forward: str,
    backward: str,
    output: str | None = None,
    inputs: Sequence[str] = (),
    as_json: bool = False,
) -> int:
    """``gradparity derivation``: print the report; 0 right, 1 wrong (InputError: bad input)."""
    shapes: dict[str, tuple[int, ...]] = {}
    for text in inputs:
        shapes.update(parse_shapes(text))
    report = check_files(forward, backward, output, shapes)
    print(dumps(report_json(report)) if as_json else format_report(report))
    return 0 if report.ok else 1


def cmd_derivation(args: argparse.Namespace) -> int:
    return derivation_command(args.forward, args.backward, args.output, args.inputs, args.json)
