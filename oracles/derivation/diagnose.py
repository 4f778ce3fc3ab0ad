"""The findings of the derivation checker: which statement is the slip, and why, read off the
true gradients (reverse mode) and each statement's own rule."""

from __future__ import annotations

import numpy as np

from gradparity.core.compare import compare_tensor
from gradparity.derivation.report import GRADIENT, Finding
from gradparity.reference_impl.derivation import (
    OPS,
    ShapeSlip,
    Statement,
    apply_rule,
    expected_statement,
    grad_shape,
    true_contributions,
)
from gradparity.reference_impl.equations import Eq

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


def max_abs(a: np.ndarray) -> float:
    return float(np.max(np.abs(a))) if np.size(a) else 0.0


def shape_text(a: np.ndarray) -> str:
    return "x".join(map(str, np.shape(a)))


def diagnose(program, lines, values, value_grads, true, run, trace, rules, output):
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
            if max_abs(expected) > 0:
                correct.add((index, target))
        elif eq is None:
            problems.append(
                f"{st.dz} is an input, yet d{target} receives up to {max_abs(piece):.2e}"
            )
        elif target not in reference:
            problems.append(
                f"d{target} receives up to {max_abs(piece):.2e}, but {st.dz} does not depend"
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
        if max_abs(value_grads.get(eq.out, 0.0)) == 0:
            continue
        reference = true_contributions(eq, value_grads[eq.out], values)
        covered = {t for i in readers.get(eq.out, []) for t in run.results[i].statement.targets}
        lost = [a for a, piece in reference.items() if a not in covered and max_abs(piece) > 0]
        if not lost:
            continue
        if eq.out in readers:
            issues.setdefault(readers[eq.out][0], []).extend(
                f"nothing passes d{eq.out} on to d{a} (true contribution up to"
                f" {max_abs(reference[a]):.2e})"
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
