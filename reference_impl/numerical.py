"""Numerical derivatives from forward passes alone: complex step and central differences.

Both differentiate ``g(t) = f(x + t·u)`` at t = 0:

- ``complex_step``: ``Im g(i·h) / h`` with h = 1e-30. No subtraction, so no cancellation: exact
  to rounding (~1e-15 relative), for any ``f`` that is complex-analytic.
- ``central``: ``(g(h) − g(−h)) / 2h`` with h = 1e-5, in float64: truncation and cancellation
  error, ~1e-9 relative.

This is the one implementation of both; the numerical oracles, the program runners and the
derivation checker call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Method:
    name: str
    dtype: type  # the dtype its perturbed arguments need
    step: float

    def derivative(self, g: Callable[[Any], Any]) -> float:
        """``g'(0)`` of a scalar function of the step ``t``."""
        if self.name == "complex_step":
            return float(np.imag(g(1j * self.step))) / self.step
        return (float(np.real(g(self.step))) - float(np.real(g(-self.step)))) / (2 * self.step)


COMPLEX_STEP = Method("complex_step", np.complex128, 1e-30)
CENTRAL = Method("central", np.float64, 1e-5)


def directional(f: Callable[[np.ndarray], Any], x: np.ndarray, u: np.ndarray, method: Method):
    """``<∇f(x), u>``: one (complex step) or two (central) evaluations of ``f``."""
    base = np.asarray(x, dtype=method.dtype)
    return method.derivative(lambda t: f(base + t * u))


def gradient(f: Callable[[np.ndarray], Any], x: np.ndarray, method: Method) -> np.ndarray:
    """``∇f(x)`` element by element. ``f`` receives the same work array every time, with one
    element perturbed (it may keep a reference to it, but not change it)."""
    work = np.array(x, dtype=method.dtype)
    grad = np.empty(work.shape)
    for k in np.ndindex(work.shape):
        original = work[k]

        def g(t, k=k, original=original):
            work[k] = original + t
            return f(work)

        grad[k] = method.derivative(g)
        work[k] = original
    return grad
