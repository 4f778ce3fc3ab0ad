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

Files: a forward program in ``equations`` syntax with header comments
``# inputs: W[3,2] x[2] b[3] P[1,3]`` (``[N]`` is an N×1 column, ``[]`` a 1×1 scalar) and
``# output: L``; inputs are seeded per name, ``default_rng(zlib.adler32(name))``, U(-1, 1).

``python -m oracles.derivations`` measures every slip of the slides (docs/seed-slips.md).
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from oracles.compare import Comparison, compare_tensor
from oracles.errors import InputError
from oracles.tables import format_table
from oracles.tolerances import tolerance
from reference_impl.derivation import (
    OPS,
    SLIDES_RULES,
    Rule,
    ShapeSlip,
    Statement,
    apply_rule,
    as_column_layout,
    complex_step_gradients,
    expected_statement,
    grad_shape,
    parse_backward,
    run_backward,
    true_contributions,
)
from reference_impl.equations import Eq, backprop, evaluate, parse

__all__ = [
    "DerivationReport",
    "Finding",
    "ForwardSpec",
    "check_derivation",
    "check_files",
    "derivation_command",
    "format_report",
    "parse_shapes",
    "read_forward",
    "report_json",
    "seeded_inputs",
]

GRADIENT = tolerance("float64", "gradient")
VALUE = tolerance("float64", "value")


# --- the forward file ---------------------------------------------------------------------


@dataclass(frozen=True)
class ForwardSpec:
    program: list[Eq]
    lines: list[int]
    """The file line of each equation."""
    shapes: dict[str, tuple[int, ...]]
    """Declared input shapes, as stored: ``[N]`` → (N, 1), ``[]`` → (1, 1)."""
    output: str | None


_DECL = re.compile(r"([A-Za-z_]\w*)\[([\d\s,]*)\]")
_OUTPUT = re.compile(r"output:\s*([A-Za-z_]\w*)\s*")
_DECL_FORM = "expected NAME[N] (an N x 1 column), NAME[N,M] or NAME[] (a scalar), e.g. x[2] W[3,2]"


def parse_shapes(text: str, where: str = "--inputs") -> dict[str, tuple[int, ...]]:
    """``"x_t[2] W[3,2] s[]"`` → ``{"x_t": (2, 1), "W": (3, 2), "s": (1, 1)}``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for token in re.findall(r"[^\s\[;]*\[[^\]]*\]?|[^\s;]+", text):
        match = _DECL.fullmatch(token)
        dims = [d.strip() for d in match[2].split(",")] if match else []
        if match is None or any(not d.isdigit() or int(d) < 1 for d in dims if d) or len(dims) > 2:
            raise InputError(f"{where}: bad input declaration {token!r}; {_DECL_FORM}")
        sizes = tuple(int(d) for d in dims if d)
        shapes[match[1]] = (*sizes, 1) if len(sizes) == 1 else sizes or (1, 1)
    return shapes


def read_forward(text: str) -> ForwardSpec:
    """An ``equations`` program plus its ``# inputs:`` and ``# output:`` header comments."""
    shapes: dict[str, tuple[int, ...]] = {}
    output = None
    lines = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        code, _, comment = raw.partition("#")
        if code.strip():
            lines.append(lineno)
        header = comment.strip()
        if not code.strip() and header.startswith("inputs:"):
            shapes.update(parse_shapes(header[len("inputs:") :], f"line {lineno}"))
        elif not code.strip() and (match := _OUTPUT.fullmatch(header)):
            output = match[1]
    try:
        program = parse(text)
    except ValueError as error:
        raise InputError(f"forward {error}") from None
    return ForwardSpec(program, lines, shapes, output)


def seeded_inputs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """U(-1, 1) values, seeded by the name: distinct per element, the same in every run."""
    return {
        name: np.random.default_rng(zlib.adler32(name.encode())).uniform(-1.0, 1.0, shape)
        for name, shape in shapes.items()
    }


# --- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One line of diagnosis. ``line`` is the backward line (None: a statement is missing)."""

    line: int | None
    kind: str
    """shape, wrong, overwrite, duplicate, order, missing (causes); reads (a consequence)."""
    message: str

    @property
    def cause(self) -> bool:
        return self.kind != "reads"

    def to_json(self) -> dict:
        return {"line": self.line, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class StatementCheck:
    statement: Statement
    read: Comparison
    """The gradient the statement read, at the moment it read it, vs the true one."""


@dataclass
class DerivationReport:
    output: str
    comparisons: list[Comparison]
    """One per input: the written gradient vs the true one (backprop), slides' layout."""
    truth: list[Comparison]
    """One per input: complex step vs backprop (the truth checked by an independent method)."""
    intermediates: list[Comparison]
    """Final value of every other gradient the statements write, vs the true one."""
    trace: list[StatementCheck]
    findings: list[Finding]
    values: dict[str, np.ndarray] = field(repr=False)
    true_grads: dict[str, np.ndarray] = field(repr=False)
    """True gradients in the slides' layout, for every forward variable."""
    written_grads: dict[str, np.ndarray] = field(repr=False)

    @property
    def truth_ok(self) -> bool:
        return all(c.ok for c in self.truth)

    @property
    def ok(self) -> bool:
        return self.truth_ok and all(c.ok for c in self.comparisons)

    @property
    def failing(self) -> list[str]:
        """Names of the input gradients that disagree, e.g. ``["dW_ix", "dx_t"]``."""
        return [c.tensor for c in self.comparisons if not c.ok]

    @property
    def first_offending(self) -> Finding | None:
        """The earliest statement that is wrong on its own (else a missing statement)."""
        causes = [f for f in self.findings if f.cause]
        return (causes or self.findings or [None])[0]


_DESCRIBE = {
    "add": "a sum ('+')",
    "subtract": "a difference ('-')",
    "schur": "a Schur product ('o')",
    "matmul": "a matrix product ('*')",
}


def _describe(prim: str) -> str:
    return _DESCRIBE.get(prim, f"a {prim}" + (f" ('{prim}')" if prim in OPS else ""))


def _eq_text(eq: Eq) -> str:
    return f"{eq.out} = {eq.op}({', '.join(map(str, eq.args))})"


def _hints(st: Statement, eq: Eq) -> list[str]:
    hints = []
    if OPS[st.op] != eq.op:
        hints.append(
            f"'{st.op}' is the rule for {_describe(OPS[st.op])}, {eq.out} is {_describe(eq.op)}"
        )
    if tuple(st.args) != tuple(eq.args):
        hints.append(
            f"it evaluates at ({', '.join(st.args)}), {eq.out} is a function of"
            f" ({', '.join(map(str, eq.args))})"
        )
    return hints


def _maxabs(a: np.ndarray) -> float:
    return float(np.max(np.abs(a))) if np.size(a) else 0.0


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


def _free_names(program: Sequence[Eq]) -> list[str]:
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
    missing = [n for n in _free_names(program) if n not in inputs]
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
                f"forward line {lineno}: softmax({eq.args[0]}) of a {_shape(arg)} column: the"
                " primitive's softmax normalizes along rows, so give it a 1xN row"
            )
    if output not in values:
        raise InputError(f"output {output!r} is not a variable of the forward program")
    if values[output].size != 1:
        raise InputError(f"output {output!r} is {_shape(values[output])}; it must be a 1x1 scalar")

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
    findings = _diagnose(program, lines, values, value_grads, true, run, trace, rules, output)
    return DerivationReport(
        output, comparisons, truth, intermediates, trace, findings, values, true, run.grads
    )


def _shape(a: np.ndarray) -> str:
    return "x".join(map(str, np.shape(a)))


def _diagnose(program, lines, values, value_grads, true, run, trace, rules, output):
    """Findings: each statement on its own, missing statements, '=' and order, bad reads."""
    eq_of = {eq.out: (eq, lineno) for eq, lineno in zip(program, lines, strict=True)}
    issues: dict[int, list[str]] = {}
    correct: set[tuple[int, str]] = set()  # (statement, target): right and nonzero on its own
    for index, result in enumerate(run.results):
        if result.shape_error:
            issues.setdefault(index, []).append(result.shape_error.split(": shape error: ", 1)[1])
        problems = _local_problems(result, eq_of, values, value_grads, true, rules, correct, index)
        if problems:
            issues.setdefault(index, []).extend(problems)
    findings = _coverage(program, lines, values, value_grads, run, issues)
    for index, problems in issues.items():
        findings.append(_statement_finding(run.results[index], problems, eq_of))
    findings += _bookkeeping(run, output, correct)
    for check in trace:
        if not check.read.ok:
            st, c = check.statement, check.read
            findings.append(
                Finding(
                    st.line,
                    "reads",
                    f"line {st.line}: reads d{st.dz}, which is off by {c.max_abs_err:.2e}"
                    f" (max_rel_err {c.max_rel_err:.2e})",
                )
            )
    rank = ["shape", "wrong", "overwrite", "duplicate", "order", "missing", "reads"]
    findings.sort(key=lambda f: (not f.cause, f.line is None, f.line or 0, rank.index(f.kind)))
    return findings


def _local_problems(result, eq_of, values, value_grads, true, rules, correct, index):
    """The statement's deriv() on the *true* dZ vs what Z's equation really passes back."""
    st = result.statement
    eq, _ = eq_of.get(st.dz, (None, None))
    if not result.contributions:
        return []
    grad_out = value_grads.get(st.dz, np.zeros_like(values[st.dz]))
    reference = true_contributions(eq, grad_out, values) if eq is not None else {}
    try:
        pieces = apply_rule(st, true[st.dz], values, rules)
    except ShapeSlip:
        return []  # already a shape error of the run
    local: dict[str, np.ndarray] = {}
    for position, target in enumerate(st.targets):
        if target is not None and pieces[position].shape == grad_shape(values[target]):
            local[target] = local.get(target, 0) + pieces[position]
    problems = []
    for target, piece in local.items():
        expected = reference.get(target, np.zeros(grad_shape(values[target])))
        c = compare_tensor("statement", f"d{target}", "gradient", expected, piece, GRADIENT)
        if c.ok:
            if _maxabs(expected) > 0:
                correct.add((index, target))
        elif eq is None:
            problems.append(
                f"{st.dz} is an input, yet d{target} receives up to {_maxabs(piece):.2e}"
            )
        elif target not in reference:
            problems.append(
                f"d{target} receives up to {_maxabs(piece):.2e}, but {st.dz} does not depend"
                f" on {target} directly"
            )
        else:
            problems.append(
                f"d{target} is off by {c.max_abs_err:.2e} (max_rel_err {c.max_rel_err:.2e})"
            )
    return problems


def _coverage(program, lines, values, value_grads, run, issues) -> list[Finding]:
    """Every argument an equation really passes gradient to must receive it from a statement."""
    readers: dict[str, list[int]] = {}
    for index, result in enumerate(run.results):
        readers.setdefault(result.statement.dz, []).append(index)
    findings = []
    for eq, lineno in zip(program, lines, strict=True):
        if _maxabs(value_grads.get(eq.out, 0.0)) == 0:
            continue
        reference = true_contributions(eq, value_grads[eq.out], values)
        covered = {t for i in readers.get(eq.out, []) for t in run.results[i].statement.targets}
        lost = [a for a, piece in reference.items() if a not in covered and _maxabs(piece) > 0]
        if not lost:
            continue
        if eq.out in readers:
            issues.setdefault(readers[eq.out][0], []).extend(
                f"nothing passes d{eq.out} on to d{a} (true contribution up to"
                f" {_maxabs(reference[a]):.2e})"
                for a in lost
            )
            continue
        wanted = expected_statement(eq) or f"a rule for {eq.op} (not in the slides' deriv)"
        lost_names = ", ".join(f"d{a}" for a in lost)
        findings.append(
            Finding(
                None,
                "missing",
                f"no statement reads d{eq.out}, so nothing reaches {lost_names} (forward line"
                f" {lineno}: {_eq_text(eq)}); expected {wanted}",
            )
        )
    return findings


def _statement_finding(result, problems: list[str], eq_of) -> Finding:
    st = result.statement
    eq, lineno = eq_of.get(st.dz, (None, None))
    parts = [f"shape error: {problems[0]}"] if result.shape_error else []
    if eq is not None:
        parts.append(f"differentiates {_eq_text(eq)} (forward line {lineno})")
    parts += problems[1:] if result.shape_error else problems
    if eq is not None:
        expected = expected_statement(eq)
        hints = _hints(st, eq)
        if hints:
            parts += hints + ([f"expected {expected}"] if expected else [])
        elif st.targets == tuple(eq.args):
            parts.append(f"the statement has the equation's form: the rule for '{st.op}' is wrong")
    kind = "shape" if result.shape_error else "wrong"
    return Finding(st.line, kind, f"line {st.line}: {st.text}: " + "; ".join(parts))


def _bookkeeping(run, output, correct) -> list[Finding]:
    """'=' discarding earlier contributions, repeated statements, reads before a later write."""
    findings = []
    seen: dict[tuple, int] = {}
    since_reset: dict[str, list[str]] = {output: ["the seed"]}
    done: dict[tuple[str, str], int] = {}  # (dZ, target) -> the line that propagated it right
    for index, result in enumerate(run.results):
        st = result.statement
        head = f"line {st.line}: {st.text}"
        key = (st.dz, st.args, st.op, st.targets)
        if key in seen:
            effect = (
                "its results are added a second time"
                if st.assign == "+="
                else "with '=' it changes nothing; another derivative is probably meant"
            )
            findings.append(
                Finding(st.line, "duplicate", f"{head}: repeats line {seen[key]}; {effect}")
            )
        else:
            seen[key] = st.line
            again = [
                (t, done[(st.dz, t)])
                for t in result.contributions
                if (index, t) in correct and (st.dz, t) in done and st.assign == "+="
            ]
            if again:
                targets = ", ".join(f"d{target}" for target, _ in again)
                lines = ", ".join(dict.fromkeys(str(line) for _, line in again))
                findings.append(
                    Finding(
                        st.line,
                        "duplicate",
                        f"{head}: passes d{st.dz} on to {targets} again (line {lines} already"
                        " did), so it is counted twice",
                    )
                )
            for target in result.contributions if st.assign == "=" else ():
                if since_reset.get(target):
                    findings.append(
                        Finding(
                            st.line,
                            "overwrite",
                            f"{head}: '=' overwrites d{target}, discarding what"
                            f" {', '.join(since_reset[target])} added; use +=",
                        )
                    )
        for target in result.contributions:
            if (index, target) in correct:
                done.setdefault((st.dz, target), st.line)
            if st.assign == "=":
                since_reset[target] = []
            since_reset.setdefault(target, []).append(f"line {st.line}")
        later = [
            run.results[j].statement.line
            for j in range(index + 1, len(run.results))
            if (j, st.dz) in correct
        ]
        if later:
            findings.append(
                Finding(
                    st.line, "order", f"{head}: reads d{st.dz} before line {later[0]} adds to it"
                )
            )
    return findings


# --- files, text and JSON -----------------------------------------------------------------


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
    free = _free_names(spec.program)
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


def _err(x: float) -> str:
    return f"{x:.2e}" if math.isfinite(x) else ("nan" if math.isnan(x) else "inf")


def format_report(report: DerivationReport) -> str:
    rows = [["gradient", "shape", "max_abs_err", "max_rel_err", "ok"]]
    for c in report.comparisons:
        shape = _shape(report.written_grads.get(c.tensor[1:], report.true_grads[c.tensor[1:]]))
        rows.append(
            [c.tensor, shape, _err(c.max_abs_err), _err(c.max_rel_err), "ok" if c.ok else "FAIL"]
        )
    worst = max((c.max_rel_err for c in report.truth), default=0.0)
    lines = [
        f"d{report.output} w.r.t. {len(report.comparisons)} inputs: written (your statements)"
        " vs true (backprop over the forward program)",
        f"true gradients confirmed by complex step: {'yes' if report.truth_ok else 'NO'}"
        f" (max_rel_err {_err(worst)}); tolerance rtol {GRADIENT.rtol:g}, atol {GRADIENT.atol:g}",
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


def _finite(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)  # "inf"/"nan": strict JSON has no such numbers
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def report_json(report: DerivationReport) -> dict:
    first = report.first_offending
    return _finite(
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
    print(json.dumps(report_json(report)) if as_json else format_report(report))
    return 0 if report.ok else 1


# --- the slides' LSTM: every slip, measured -----------------------------------------------

SLIDES_DIR = Path(__file__).resolve().parents[1] / "docs" / "examples" / "slides_lstm"


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
        [c.tensor, _err(c.max_abs_err), _err(c.max_rel_err)] for c in report.comparisons if not c.ok
    ]
    return format_table(rows) if len(rows) > 1 else "(no input gradient disagrees)"


def _value_differences(a: dict, b: dict, names: Sequence[str], kind: str) -> str:
    rows = [["tensor", "max_abs_err", "max_rel_err"]]
    for name in names:
        c = compare_tensor(
            "b", name, kind, a[name], b[name], VALUE if kind == "value" else GRADIENT
        )
        if not c.ok:
            rows.append([name, _err(c.max_abs_err), _err(c.max_rel_err)])
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
    diff = max(_maxabs(implicit.written_grads[n] - explicit.written_grads[n]) for n in inputs)
    section(
        "(c) unary deriv without its argument (eqs. 19, 14, 7)",
        f"max |difference| over every input gradient: {diff:.1e}; agree: {implicit.ok}",
    )
    for label, rules in (("as meant", SLIDES_RULES), ("as printed", _printed())):
        r = slides_check(SOFTMAX_FORWARD, SOFTMAX_BACKWARD, rules)
        section(f"(c) softmax rule {label} (s = softmax(a), L = s p)", format_report(r))
    return "\n".join(out)


def _printed():
    from reference_impl.derivation import PRINTED_RULES

    return PRINTED_RULES


if __name__ == "__main__":
    print(slides_report())
