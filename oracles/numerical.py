"""Numerical oracles: derivatives of the reference forward pass, without its backward pass.

``numerical`` (complex step): ``dJ/dθ_k = Im J(θ + i·h·e_k) / h`` with h = 1e-30. There is no
subtraction, so no cancellation: the derivative is exact to rounding (~1e-15 relative).
``fd`` (central differences): ``(J(θ + h·e_k) − J(θ − h·e_k)) / 2h`` in float64, with
truncation and cancellation error (~1e-9 relative); its own tolerance kind ``gradient_fd``.

Small cases are differentiated element by element (one forward pass per element). Large ones
are checked along one seeded random direction u per tensor (``<∇J, u>``: one or two forward
passes per tensor), returned as ``Projected`` values.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from types import ModuleType

import numpy as np

from oracles.base import Tensors
from oracles.compare import Projected
from oracles.registry import CellSpec
from reference_impl.network import Problem, objective

MAX_ELEMENTS = 2_000
MAX_ELEMENT_STEPS = 20_000
"""Per-element differentiation while the elements to perturb stay under ``MAX_ELEMENTS`` and
(elements × time steps) under ``MAX_ELEMENT_STEPS``; one direction per tensor beyond."""


def directions(problem: Problem, seed: int = 0) -> dict[str, np.ndarray]:
    """One seeded direction per differentiable input, of its shape, entries in [-1, 1]."""
    return {
        name: np.random.default_rng([seed, zlib.adler32(name.encode())]).uniform(-1, 1, v.shape)
        for name, v in problem.inputs().items()
    }


def elementwise(problem: Problem) -> bool:
    elements = sum(v.size for v in problem.inputs().values())
    steps = problem.x.shape[1] if problem.x.ndim == 3 else 1
    return elements <= MAX_ELEMENTS and elements * steps <= MAX_ELEMENT_STEPS


class _NumericalOracle:
    name: str
    gradient_kind: str
    dtype: type
    computes_values = False

    def unsupported(self, spec: CellSpec) -> str | None:
        return None

    def derivative(self, J: Callable[[Problem], complex], problem: Problem, name: str, u) -> float:
        """``<dJ/d(input name), u>``."""
        raise NotImplementedError

    def element_derivative(self, J: Callable[[], complex], work: np.ndarray, k: tuple) -> float:
        """``dJ/d work[k]``, perturbing ``work`` in place and restoring it."""
        raise NotImplementedError

    def run(self, spec: CellSpec, problem: Problem, reference: ModuleType | None = None) -> Tensors:
        cell = spec.reference_for(problem.options, reference)
        base = problem.astype(self.dtype)

        def J(p: Problem) -> complex:
            return complex(objective(cell, p))

        result: Tensors = {}
        if elementwise(problem):
            for name, value in base.inputs().items():
                work = value.copy()
                perturbed = base.with_inputs({name: work})
                grad = np.empty(value.shape)
                for k in np.ndindex(value.shape):
                    grad[k] = self.element_derivative(lambda p=perturbed: J(p), work, k)
                result[name] = grad
        else:
            for name, u in directions(problem).items():
                result[name] = Projected(self.derivative(J, base, name, u), u)
        return result


class ComplexStepOracle(_NumericalOracle):
    name = "numerical"
    gradient_kind = "gradient"
    dtype = np.complex128
    step = 1e-30

    def derivative(self, J, problem: Problem, name: str, u: np.ndarray) -> float:
        value = problem.inputs()[name]
        return J(problem.with_inputs({name: value + 1j * self.step * u})).imag / self.step

    def element_derivative(self, J, work: np.ndarray, k: tuple) -> float:
        original = work[k]
        work[k] = original + 1j * self.step
        derivative = J().imag / self.step
        work[k] = original
        return derivative


class FiniteDifferenceOracle(_NumericalOracle):
    name = "fd"
    gradient_kind = "gradient_fd"
    dtype = np.float64
    step = 1e-5

    def derivative(self, J, problem: Problem, name: str, u: np.ndarray) -> float:
        value = problem.inputs()[name]
        plus = J(problem.with_inputs({name: value + self.step * u})).real
        minus = J(problem.with_inputs({name: value - self.step * u})).real
        return (plus - minus) / (2 * self.step)

    def element_derivative(self, J, work: np.ndarray, k: tuple) -> float:
        original = work[k]
        work[k] = original + self.step
        plus = J().real
        work[k] = original - self.step
        minus = J().real
        work[k] = original
        return (plus - minus) / (2 * self.step)
