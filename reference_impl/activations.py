"""Element-wise activations shared by the cells, with derivatives from cached outputs.

Every function is complex-analytic (no abs, max or conj), so the complex-step oracle can
differentiate the forward passes that use them.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def sigmoid_grad(s: np.ndarray) -> np.ndarray:
    """d sigmoid / dx, from the output ``s = sigmoid(x)``."""
    return s * (1.0 - s)


def tanh_grad(t: np.ndarray) -> np.ndarray:
    """d tanh / dx, from the output ``t = tanh(x)``."""
    return 1.0 - t * t


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
