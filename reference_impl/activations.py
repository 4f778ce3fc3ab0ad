"""Element-wise activations shared by the cells, with derivatives from cached outputs.

Every function is complex-analytic (no abs, max or conj), so the complex-step oracle can
differentiate the forward passes that use them.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + exp(−x)), written into ``out`` when given (``out`` may be ``x`` itself)."""
    with np.errstate(over="ignore"):  # exp(−x) = inf for x ≪ 0 gives σ = 0, as it should
        if out is None:
            return 1.0 / (1.0 + np.exp(-x))
        np.negative(x, out=out)
        np.exp(out, out=out)
        out += 1.0
        return np.divide(1.0, out, out=out)


def sigmoid_grad(s: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """d sigmoid / dx, from the output ``s = sigmoid(x)``: s (1 − s), into ``out`` if given."""
    if out is None:
        return s * (1.0 - s)
    np.subtract(1.0, s, out=out)
    return np.multiply(s, out, out=out)


def tanh_grad(t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """d tanh / dx, from the output ``t = tanh(x)``: 1 − t², into ``out`` if given."""
    if out is None:
        return 1.0 - t * t
    np.multiply(t, t, out=out)
    return np.subtract(1.0, out, out=out)


def relu(x: np.ndarray) -> np.ndarray:
    """ReLU; for complex input the mask is taken from the real part (complex step stays exact)."""
    return x * (x.real > 0)


def relu_grad(y: np.ndarray) -> np.ndarray:
    return (y.real > 0).astype(y.dtype)


ACTIVATIONS = {
    "linear": (lambda x: x, lambda y: np.ones_like(y)),
    "tanh": (np.tanh, tanh_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "relu": (relu, relu_grad),
}
"""name -> (activation, derivative expressed through the activation's output)."""
