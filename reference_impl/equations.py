"""Programs written as lists of unary/binary equations, evaluated forward and backpropagated.

``backprop`` is the slides' ``deriv(dz, x, y, op)`` routine applied to a whole program: walk the
equations in reverse, start every derivative at zero, and always accumulate with ``+=``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .primitives import get_primitive

__all__ = ["Eq", "backprop", "backprop_seeds", "differentiated", "evaluate", "parse"]


@dataclass(frozen=True)
class Eq:
    """One equation ``out = op(*args)``; a float arg is a constant."""

    out: str
    op: str
    args: tuple[str | float, ...]


def _as_array(value: ArrayLike) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    return array


def evaluate(program: Sequence[Eq], inputs: Mapping[str, ArrayLike]) -> dict[str, np.ndarray]:
    """Run the equations in order; return every value, inputs included."""
    values = {name: _as_array(value) for name, value in inputs.items()}
    for eq in program:
        prim = get_primitive(eq.op)
        if len(eq.args) != prim.arity:
            raise ValueError(
                f"{eq.out} = {eq.op}(...): {eq.op} takes {prim.arity} args, got {len(eq.args)}"
            )
        if eq.out in inputs:
            raise ValueError(f"{eq.out!r} is an input and cannot be assigned by {eq.op}")
        if eq.out in values:
            raise ValueError(f"{eq.out!r} is assigned twice (second time by {eq.op})")
        args = []
        for arg in eq.args:
            if isinstance(arg, str):
                if arg not in values:
                    raise ValueError(f"{eq.out} = {eq.op}(...): {arg!r} is not defined yet")
                args.append(values[arg])
            else:
                args.append(arg)
        values[eq.out] = np.asarray(prim.forward(*args))
    return values


def backprop(
    program: Sequence[Eq],
    values: Mapping[str, np.ndarray],
    output: str,
    seed: ArrayLike = 1.0,
) -> dict[str, np.ndarray]:
    """Gradients of ``output`` (weighted by ``seed``) for every value that receives one."""
    if output not in values:
        raise ValueError(f"output {output!r} is not among the evaluated values")
    return backprop_seeds(program, values, {output: seed})


def vjp_of(index: int, eq: Eq, dz: np.ndarray, out: np.ndarray, inputs: list) -> tuple:
    """The cotangents of equation ``index``'s arguments: its primitive's VJP."""
    return get_primitive(eq.op).vjp(dz, out, *inputs)


def backprop_seeds(
    program: Sequence[Eq],
    values: Mapping[str, np.ndarray],
    seeds: Mapping[str, ArrayLike],
    vjp: Callable[..., tuple] = vjp_of,
) -> dict[str, np.ndarray]:
    """Gradients of ``Σ_v <seeds[v], v>`` for every value that receives one: the seeds start
    the gradients of their values, then every equation, last first, adds (``+=``) its VJP to
    each of its arguments (a constant's cotangent is ``None`` and goes nowhere). ``vjp`` gives
    an equation's cotangents (``vjp_of``; a planted bug may replace it)."""
    grads: dict[str, np.ndarray] = {}

    def accumulate(name: str, grad: ArrayLike) -> None:
        if name not in grads:
            dtype = np.result_type(values[name], np.asarray(grad))
            grads[name] = np.zeros(np.shape(values[name]), dtype=dtype)
        grads[name] += grad

    for name, seed in seeds.items():
        accumulate(name, np.broadcast_to(seed, np.shape(values[name])))
    for index in reversed(range(len(program))):
        eq = program[index]
        if eq.out not in grads:
            continue
        inputs = [values[a] if isinstance(a, str) else a for a in eq.args]
        cotangents = vjp(index, eq, grads[eq.out], values[eq.out], inputs)
        for arg, cotangent in zip(eq.args, cotangents, strict=True):
            if isinstance(arg, str) and cotangent is not None:
                accumulate(arg, cotangent)
    return grads


def differentiated(program: Sequence[Eq], inputs: Mapping[str, object], output: str) -> list[str]:
    """Every input and intermediate that ``output`` depends on, inputs first."""
    needed = {output}
    for eq in reversed(program):
        if eq.out in needed:
            needed |= {a for a in eq.args if isinstance(a, str)}
    order = [*inputs, *(eq.out for eq in program)]
    return [name for name in order if name in needed]


_NAME = r"[A-Za-z_]\w*"
_LINE = re.compile(rf"\s*({_NAME})\s*=\s*({_NAME})\s*\((.*)\)\s*")
_FORM = "expected 'out = op(arg, ...)'"


def _parse_arg(token: str, lineno: int, line: str) -> str | float:
    if re.fullmatch(_NAME, token):
        return token
    try:
        return float(token)
    except ValueError:
        raise ValueError(f"line {lineno}: bad argument {token!r} in {line!r}; {_FORM}") from None


def parse(text: str) -> list[Eq]:
    """Parse one equation ``out = op(arg, arg)`` per non-empty line; ``#`` starts a comment."""
    program = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"line {lineno}: cannot parse {line!r}; {_FORM}")
        out, op, arg_text = match.groups()
        tokens = [t.strip() for t in arg_text.split(",")] if arg_text.strip() else []
        args = tuple(_parse_arg(t, lineno, line) for t in tokens)
        program.append(Eq(out, op, args))
    return program
