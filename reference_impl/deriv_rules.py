"""The slides' local derivative rules (their vector ``deriv`` routine), word for word, in the
slides' column convention (see ``derivation.py``); ``PRINTED_RULES`` keeps the printed softmax
line's slip."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .primitives import get_primitive

OPS: dict[str, str] = {
    "+": "add",
    "-": "subtract",
    "o": "schur",
    "*": "matmul",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softmax": "softmax",
}
"""The slides' operator names and the primitive each one differentiates."""

SLIDES_OP: dict[str, str] = {prim: op for op, prim in OPS.items()}

KNOWN_OPERATORS = "'+', '-', 'o' (Schur), '*' (matrix product), 'tanh', 'sigmoid', 'softmax'"


class ShapeSlip(ValueError):
    """A local rule met shapes that do not match; the text names them with {dz}/{x}/{y}."""


@dataclass(frozen=True)
class Rule:
    arity: int
    fn: Callable[..., tuple[np.ndarray, ...]]


def dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape) if shape else "scalar"


def _ew(a: np.ndarray, b: np.ndarray, la: str, lb: str) -> np.ndarray:
    if a.shape != b.shape:
        raise ShapeSlip(f"{la} ({dims(a.shape)}) ∘ {lb} ({dims(b.shape)})")
    return a * b


def _mm(a: np.ndarray, b: np.ndarray, la: str, lb: str) -> np.ndarray:
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ShapeSlip(f"{la} ({dims(a.shape)}) · {lb} ({dims(b.shape)})")
    return a @ b


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return get_primitive("sigmoid").forward(x)


def _schur(dz, x, y):
    return _ew(dz, y.T, "{dz}", "{y}ᵀ"), _ew(dz, x.T, "{dz}", "{x}ᵀ")


def _matmul(dz, x, y):
    return _mm(y, dz, "{y}", "{dz}"), _mm(dz, x, "{dz}", "{x}")


def _add(dz, x, y):
    return dz, dz


def _subtract(dz, x, y):
    return dz, -dz


def _tanh(dz, x):
    return (_ew(dz, (1.0 - np.tanh(x) ** 2).T, "{dz}", "(1 - tanh²({x}))ᵀ"),)


def _sigmoid_rule(dz, x):
    s = _sigmoid(x)
    return (_ew(dz, (s * (1.0 - s)).T, "{dz}", "(σ({x}) ∘ (1 - σ({x})))ᵀ"),)


def _vector(dz: np.ndarray, x: np.ndarray) -> None:
    if x.ndim != 2 or 1 not in x.shape or dz.shape != x.T.shape:
        raise ShapeSlip(
            f"softmax needs a vector {{x}} and {{dz}} of its transposed shape;"
            f" got {{x}} ({dims(x.shape)}) and {{dz}} ({dims(dz.shape)})"
        )


def _softmax(dz, x):
    _vector(dz, x)
    s = get_primitive("softmax").forward(x.reshape(1, -1)).ravel()
    jacobian = np.diag(s) - np.outer(s, s)
    return ((dz.reshape(1, -1) @ jacobian).reshape(dz.shape),)


def _softmax_as_printed(dz, x):
    # "'softmax' : return dz*Jacobian(sigmoid,x)": the sigmoid's Jacobian is diagonal.
    _vector(dz, x)
    s = _sigmoid(x).ravel()
    return ((dz.reshape(1, -1) @ np.diag(s * (1.0 - s))).reshape(dz.shape),)


SLIDES_RULES: dict[str, Rule] = {
    "+": Rule(2, _add),
    "-": Rule(2, _subtract),
    "o": Rule(2, _schur),
    "*": Rule(2, _matmul),
    "tanh": Rule(1, _tanh),
    "sigmoid": Rule(1, _sigmoid_rule),
    "softmax": Rule(1, _softmax),
}
"""The slides' vector deriv routine, with its softmax line as meant (the softmax's Jacobian)."""

PRINTED_RULES: dict[str, Rule] = {**SLIDES_RULES, "softmax": Rule(1, _softmax_as_printed)}
"""The routine as printed: ``'softmax' : return dz*Jacobian(sigmoid,x)``."""
