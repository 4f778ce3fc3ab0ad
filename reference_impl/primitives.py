"""Primitive operations with forward passes and vector-Jacobian products (VJPs).

Conventions:
- Row vectors: a matrix product is ``z = x @ W`` with ``x`` [B, N] (or [N]) and ``W`` [N, M].
- ``vjp(dz, out, *inputs)`` returns one cotangent per input, shaped like that input; the
  cotangent of a constant (the ``c`` of ``add_const``/``mul_const``) is ``None``.
- Every forward is complex-analytic, so complex-step differentiation can check every VJP; the
  piecewise ones (``relu``, ``clip``) take their masks from the real part.
- The second argument of ``add_const``, ``mul_const`` and ``clip`` is a constant (a float).
- ``sum`` reduces everything to a scalar; ``mean`` averages the last (feature) axis, kept as
  size 1, which is what layer norm needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["PRIMITIVES", "Primitive", "clip", "get_primitive", "log_softmax", "unbroadcast"]


@dataclass(frozen=True)
class Primitive:
    """A named operation: ``forward(*inputs)`` and ``vjp(dz, out, *inputs)``."""

    name: str
    arity: int
    forward: Callable[..., np.ndarray]
    vjp: Callable[..., tuple[np.ndarray | None, ...]]


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added to or stretched in ``shape``."""
    grad = np.asarray(grad)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(
        axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1
    )
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp(-x) overflows to inf for large negative x, and 1 / (1 + inf) is the correct limit 0.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _softmax(x: np.ndarray) -> np.ndarray:
    # Shifting by a real per-row constant leaves softmax unchanged and keeps it analytic.
    shifted = x - np.max(np.real(x), axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Stable log-softmax over the last axis (the shift uses the real part only, so it stays
    complex-analytic)."""
    shifted = x - np.max(np.real(x), axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _log_softmax_vjp(dz: np.ndarray, out: np.ndarray, x: np.ndarray) -> tuple:
    return (dz - np.exp(out) * np.sum(dz, axis=-1, keepdims=True),)


def _matmul_vjp(dz: np.ndarray, out: np.ndarray, x: np.ndarray, w: np.ndarray) -> tuple:
    dx = dz @ w.T
    dw = np.outer(x, dz) if np.ndim(x) == 1 else x.T @ dz
    return dx, dw


def _add_vjp(dz: np.ndarray, out: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple:
    return unbroadcast(dz, np.shape(x)), unbroadcast(dz, np.shape(y))


def _subtract_vjp(dz: np.ndarray, out: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple:
    return unbroadcast(dz, np.shape(x)), unbroadcast(-dz, np.shape(y))


def _schur_vjp(dz: np.ndarray, out: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple:
    return unbroadcast(dz * y, np.shape(x)), unbroadcast(dz * x, np.shape(y))


def _divide_vjp(dz: np.ndarray, out: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple:
    return unbroadcast(dz / y, np.shape(x)), unbroadcast(-dz * out / y, np.shape(y))


def _softmax_vjp(dz: np.ndarray, out: np.ndarray, x: np.ndarray) -> tuple:
    return (out * (dz - np.sum(dz * out, axis=-1, keepdims=True)),)


def _positive(x: np.ndarray) -> np.ndarray:
    """The mask where the real part is positive (complex step differentiates through it)."""
    return np.real(x) > 0


def clip(x: np.ndarray, c: float) -> np.ndarray:
    """``x`` clipped to [-c, c] by its real part; ``c <= 0``: unchanged (no clip)."""
    if c <= 0:
        return x
    return np.where(np.real(x) > c, c, np.where(np.real(x) < -c, -c, x))


def _clip_vjp(dz: np.ndarray, out: np.ndarray, x: np.ndarray, c: float) -> tuple:
    """Derivative 1 inside [-c, c], boundary included (as TensorFlow's ``clip_by_value``)."""
    if c <= 0:
        return dz, None
    inside = (np.real(x) >= -c) & (np.real(x) <= c)
    return dz * inside, None


def _mean(x: np.ndarray) -> np.ndarray:
    return np.mean(x, axis=-1, keepdims=True)


def _mean_vjp(dz: np.ndarray, out: np.ndarray, x: np.ndarray) -> tuple:
    return (np.broadcast_to(dz / np.shape(x)[-1], np.shape(x)).copy(),)


_TABLE = [
    Primitive("add", 2, lambda x, y: x + y, _add_vjp),
    Primitive("subtract", 2, lambda x, y: x - y, _subtract_vjp),
    Primitive("schur", 2, lambda x, y: x * y, _schur_vjp),
    Primitive("matmul", 2, lambda x, w: x @ w, _matmul_vjp),
    Primitive("divide", 2, lambda x, y: x / y, _divide_vjp),
    Primitive("tanh", 1, np.tanh, lambda dz, out, x: (dz * (1.0 - out * out),)),
    Primitive("sigmoid", 1, _sigmoid, lambda dz, out, x: (dz * out * (1.0 - out),)),
    Primitive("exp", 1, np.exp, lambda dz, out, x: (dz * out,)),
    Primitive("log", 1, np.log, lambda dz, out, x: (dz / x,)),
    Primitive("reciprocal", 1, lambda x: 1.0 / x, lambda dz, out, x: (-dz * out * out,)),
    Primitive("square", 1, lambda x: x * x, lambda dz, out, x: (2.0 * x * dz,)),
    Primitive("negate", 1, lambda x: -x, lambda dz, out, x: (-dz,)),
    Primitive("softmax", 1, _softmax, _softmax_vjp),
    Primitive("log_softmax", 1, log_softmax, _log_softmax_vjp),
    Primitive("sum", 1, np.sum, lambda dz, out, x: (np.broadcast_to(dz, np.shape(x)).copy(),)),
    Primitive("one_minus", 1, lambda x: 1.0 - x, lambda dz, out, x: (-dz,)),
    Primitive("relu", 1, lambda x: x * _positive(x), lambda dz, out, x: (dz * _positive(x),)),
    Primitive("mean", 1, _mean, _mean_vjp),  # over the last (feature) axis, kept
    Primitive("rsqrt", 1, lambda x: 1.0 / np.sqrt(x), lambda dz, out, x: (-0.5 * dz * out**3,)),
    Primitive("clip", 2, clip, _clip_vjp),
    Primitive("add_const", 2, lambda x, c: x + c, lambda dz, out, x, c: (dz, None)),
    Primitive("mul_const", 2, lambda x, c: c * x, lambda dz, out, x, c: (c * dz, None)),
]

PRIMITIVES: dict[str, Primitive] = {p.name: p for p in _TABLE}


def get_primitive(name: str) -> Primitive:
    """Return the primitive called ``name``; ``KeyError`` lists the known names."""
    try:
        return PRIMITIVES[name]
    except KeyError:
        known = ", ".join(sorted(PRIMITIVES))
        raise KeyError(f"unknown op {name!r}; known ops: {known}") from None
