"""Hand-written backward passes in the lecture slides' notation, run with the slides' deriv().

A backward pass is one statement per line, as the slides write it::

    [dA, dB] += deriv(dZ, A, B, 'op')     # binary: Z = A op B
    [dA] += deriv(dZ, A, 'op')            # unary:  Z = op(A)

``'op'`` is one of the slides' operators: ``'+'``, ``'-'``, ``'o'`` (Schur product), ``'*'``
(matrix product), ``'tanh'``, ``'sigmoid'``, ``'softmax'``. ``dZ`` is the gradient read (the
derivative of the loss with respect to a forward variable ``Z``), ``A``/``B`` are forward values
and ``[dA, dB]`` the gradients the result is added to (``+=``) or assigned to (``=``). A target
may be ``_`` to drop that result. ``#`` starts a comment. The slides omit the argument of three
unary statements (``[dz16] += deriv(dC̃_t, 'sigmoid')``); since a unary deriv's argument is the
variable its target names, ``[dA] += deriv(dZ, 'op')`` is read as ``deriv(dZ, A, 'op')``.

Convention (the slides', not ``primitives.py``'s rows): a vector is an N×1 column, a matrix
product is ``z = W x`` with W N×M and x M×1, and the gradient ∇_V L of a variable V has the shape
of V transposed (1×N for a column, M×N for an N×M matrix). Values are stored as 2-D arrays: a
column as (N, 1), a scalar as (1, 1). The forward program itself is an ``equations`` program in
those shapes (``z1 = matmul(W_fC, C_tm1)``); ``primitives``' VJPs handle it as written.

The local rules are the slides' vector deriv routine, word for word::

    'o'       : return dz ∘ yᵀ, dz ∘ xᵀ
    '*'       : return y·dz, dz·x            (x must be the matrix)
    '+'       : return dz, dz
    '-'       : return dz, -dz
    'tanh'    : return dz ∘ (1 - tanh²(x))ᵀ
    'sigmoid' : return dz ∘ σ(x)ᵀ ∘ (1 - σ(x))ᵀ
    'softmax' : return dz·J(x), J the Jacobian of the softmax
                (the slides print "Jacobian(sigmoid, x)": ``PRINTED_RULES`` keeps that slip)

No broadcasting: ``∘`` needs equal shapes and a result must have its target's gradient shape,
as the slides' "Please verify that the dimensions match!" asks. A mismatch is not a crash: the
statement's line is reported (``StatementResult.shape_error``, one line) and the gradients it
should have produced become NaN, so they fail the comparison.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .deriv_rules import (
    KNOWN_OPERATORS,
    OPS,
    PRINTED_RULES,
    SLIDES_OP,
    SLIDES_RULES,
    Rule,
    ShapeSlip,
    dims,
)
from .equations import Eq, evaluate
from .numerical import COMPLEX_STEP, gradient
from .primitives import get_primitive

__all__ = [
    "OPS",
    "PRINTED_RULES",
    "SLIDES_OP",
    "SLIDES_RULES",
    "BackwardRun",
    "Rule",
    "ShapeSlip",
    "Statement",
    "StatementResult",
    "apply_rule",
    "as_column_layout",
    "complex_step_gradients",
    "expected_statement",
    "grad_shape",
    "parse_backward",
    "run_backward",
    "true_contributions",
]

# --- parsing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """``[dT1, dT2] += deriv(dZ, A1, A2, 'op')``: names without the ``d``; ``None`` for ``_``."""

    line: int
    text: str
    targets: tuple[str | None, ...]
    assign: str
    dz: str
    args: tuple[str, ...]
    op: str
    inferred_arg: bool = False

    def __str__(self) -> str:
        return self.text


_NAME = r"[A-Za-z_]\w*"
_STATEMENT = re.compile(r"\[(?P<targets>[^\]]*)\]\s*(?P<assign>\+=|=)\s*deriv\s*\((?P<args>.*)\)")
_OP = re.compile(r"""['"`‘’](?P<op>[^'"`‘’]*)['"`‘’]""")
_FORM = "expected \"[dA, dB] += deriv(dZ, A, B, 'op')\" or \"[dA] += deriv(dZ, A, 'op')\""


def _gradient_name(token: str, lineno: int, what: str) -> str:
    if re.fullmatch(rf"d{_NAME}", token) and len(token) > 1:
        return token[1:]
    raise ValueError(f"line {lineno}: {what} must be d<variable>, got {token!r}")


def parse_backward(text: str) -> list[Statement]:
    """One statement per non-empty line; ``ValueError('line N: ...')`` (one line) if malformed."""
    statements = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _STATEMENT.fullmatch(line)
        if match is None:
            raise ValueError(f"line {lineno}: cannot parse {line!r}; {_FORM}")
        target_tokens = [t.strip() for t in match["targets"].split(",")]
        tokens = [t.strip() for t in match["args"].split(",")]
        if len(tokens) < 2 or not all(target_tokens) or not all(tokens):
            raise ValueError(f"line {lineno}: cannot parse {line!r}; {_FORM}")
        op_match = _OP.fullmatch(tokens[-1])
        if op_match is None:
            raise ValueError(
                f"line {lineno}: the last argument of deriv must be the quoted operator"
                f" (one of {KNOWN_OPERATORS}), got {tokens[-1]!r}"
            )
        op = op_match["op"]
        if op not in SLIDES_RULES:
            raise ValueError(
                f"line {lineno}: unknown operator {op!r}; the slides' deriv knows {KNOWN_OPERATORS}"
            )
        targets = tuple(
            None if t == "_" else _gradient_name(t, lineno, "a target") for t in target_tokens
        )
        dz = _gradient_name(tokens[0], lineno, "the first argument of deriv (the gradient read)")
        args = tokens[1:-1]
        for arg in args:
            if not re.fullmatch(_NAME, arg):
                raise ValueError(f"line {lineno}: bad argument {arg!r} in {line!r}; {_FORM}")
        arity = SLIDES_RULES[op].arity
        inferred = False
        if arity == 1 and not args and len(targets) == 1 and targets[0] is not None:
            args, inferred = [targets[0]], True
        if len(args) != arity or len(targets) != arity:
            shape = (
                "deriv(dZ, A, B, '{0}') into [dA, dB]"
                if arity == 2
                else "[dA] += deriv(dZ, A, '{0}')"
            )
            raise ValueError(
                f"line {lineno}: '{op}' takes {arity} argument(s) and {arity} target(s)"
                f" ({shape.format(op)}); got {len(args)} argument(s) and {len(targets)} target(s)"
            )
        statements.append(
            Statement(lineno, line, targets, match["assign"], dz, tuple(args), op, inferred)
        )
    return statements


# --- evaluation ---------------------------------------------------------------------------


def as_column_layout(value: np.ndarray | float) -> np.ndarray:
    """A scalar as 1×1, a 1-D vector as an N×1 column; 2-D unchanged."""
    array = np.asarray(value)
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        return array.reshape(-1, 1)
    if array.ndim == 2:
        return array
    raise ValueError(f"the slides' convention has scalars, vectors and matrices; got {array.shape}")


def grad_shape(value: np.ndarray) -> tuple[int, ...]:
    """The slides' shape of ∇_V L: V's shape transposed."""
    return tuple(reversed(np.shape(value)))


def apply_rule(
    statement: Statement,
    dz: np.ndarray,
    values: Mapping[str, np.ndarray],
    rules: Mapping[str, Rule] = SLIDES_RULES,
) -> tuple[np.ndarray, ...]:
    """The statement's deriv() results, one per argument; ``ShapeSlip`` with names filled in."""
    args = [np.asarray(values[a]) for a in statement.args]
    try:
        return tuple(np.asarray(r) for r in rules[statement.op].fn(np.asarray(dz), *args))
    except ShapeSlip as slip:
        names = {"dz": f"d{statement.dz}", "x": statement.args[0]}
        names["y"] = statement.args[1] if len(statement.args) > 1 else "y"
        raise ShapeSlip(f"'{statement.op}' computes {str(slip).format(**names)}") from None


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_names(statement: Statement, values: Mapping[str, np.ndarray]) -> None:
    names = [(f"d{statement.dz}", statement.dz)]
    names += [(a, a) for a in statement.args]
    names += [(f"d{t}", t) for t in statement.targets if t is not None]
    for token, name in names:
        if name not in values:
            raise ValueError(
                f"line {statement.line}: {token}: {name!r} is not a variable of the forward"
                f" program{_suggest(name, list(values))}"
            )


@dataclass(frozen=True)
class StatementResult:
    statement: Statement
    read: np.ndarray
    """dZ as the statement read it."""
    contributions: dict[str, np.ndarray]
    """What the statement added to (or assigned to) each target, NaN where shapes failed."""
    shape_error: str | None = None
    """One line naming the statement's line, when its shapes do not match."""


@dataclass(frozen=True)
class BackwardRun:
    grads: dict[str, np.ndarray]
    """Every gradient at the end, in the slides' layout (V's shape transposed)."""
    results: list[StatementResult]


def run_backward(
    statements: Sequence[Statement],
    values: Mapping[str, np.ndarray],
    output: str,
    rules: Mapping[str, Rule] = SLIDES_RULES,
) -> BackwardRun:
    """Run the statements in order: every gradient starts at 0, ``d<output>`` at 1."""
    for statement in statements:
        _check_names(statement, values)
    grads: dict[str, np.ndarray] = {output: np.ones(grad_shape(values[output]))}

    def current(name: str) -> np.ndarray:
        return grads.get(name, np.zeros(grad_shape(values[name])))

    results = []
    for st in statements:
        read = current(st.dz).copy()
        errors: list[str] = []
        try:
            outs: tuple[np.ndarray, ...] | None = apply_rule(st, read, values, rules)
        except ShapeSlip as slip:
            outs, errors = None, [str(slip)]
        sums: dict[str, np.ndarray] = {}
        for position, target in enumerate(st.targets):
            if target is None:
                continue
            wanted = grad_shape(values[target])
            if outs is None:
                piece = np.full(wanted, np.nan)
            elif outs[position].shape != wanted:
                errors.append(
                    f"'{st.op}' returns {dims(outs[position].shape)} for d{target}, whose"
                    f" gradient is {dims(wanted)} ({target} is {dims(np.shape(values[target]))})"
                )
                piece = np.full(wanted, np.nan)
            else:
                piece = outs[position]
            sums[target] = sums[target] + piece if target in sums else piece
        for target, piece in sums.items():
            grads[target] = piece.copy() if st.assign == "=" else current(target) + piece
        error = f"line {st.line}: {st.text}: shape error: {'; '.join(errors)}" if errors else None
        results.append(StatementResult(st, read, sums, error))
    return BackwardRun(grads, results)


# --- the truth: primitive VJPs and complex step -------------------------------------------


def true_contributions(
    eq: Eq, grad_out: np.ndarray, values: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """What ``eq`` passes back to each of its variable arguments, in the slides' layout.

    ``grad_out`` is the true gradient of ``eq.out`` in the values' layout (``backprop``'s).
    """
    prim = get_primitive(eq.op)
    inputs = [values[a] if isinstance(a, str) else a for a in eq.args]
    cotangents = prim.vjp(grad_out, values[eq.out], *inputs)
    result: dict[str, np.ndarray] = {}
    for arg, cotangent in zip(eq.args, cotangents, strict=True):
        if isinstance(arg, str):
            piece = np.asarray(cotangent).T
            result[arg] = result[arg] + piece if arg in result else piece
    return result


def expected_statement(eq: Eq) -> str | None:
    """The statement that differentiates ``eq`` with the slides' deriv, if it has a rule."""
    op = SLIDES_OP.get(eq.op)
    if op is None or not all(isinstance(a, str) for a in eq.args):
        return None
    targets = ", ".join(f"d{a}" for a in eq.args)
    return f"[{targets}] += deriv(d{eq.out}, {', '.join(map(str, eq.args))}, '{op}')"


def complex_step_gradients(
    program: Sequence[Eq],
    inputs: Mapping[str, np.ndarray],
    output: str,
) -> dict[str, np.ndarray]:
    """``d output / d input`` element by element by complex step, values' layout.

    Independent of every VJP: it only runs the forward program.
    """
    base = {name: np.asarray(value, dtype=np.float64) for name, value in inputs.items()}

    def of(name: str):
        return lambda value: np.asarray(evaluate(program, {**base, name: value})[output]).flat[0]

    return {name: gradient(of(name), value, COMPLEX_STEP) for name, value in base.items()}
