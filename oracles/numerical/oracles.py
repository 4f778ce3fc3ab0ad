"""Numerical oracles: derivatives of the reference forward pass, without its backward pass.

``numerical`` (complex step, exact to rounding, ~1e-15 relative) and ``fd`` (central
differences in float64, ~1e-9 relative, its own tolerance kind ``gradient_fd``); the methods
are ``reference_impl.numerical``'s. The differentiated scalar is ``core.objective`` over NumPy's
primitives, on the reference's forward pass.

Small cases are differentiated element by element (one forward pass per element for complex
step, two for central differences). Large ones are checked along one seeded random direction u
per tensor (``<∇J, u>``: one or two forward passes per tensor), returned as ``Projected``
values. Program fixtures: every input and intermediate element by element.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from gradparity.core.compare import Projected
from gradparity.core.errors import OracleUnavailable
from gradparity.core.objective import objective, target_weights
from gradparity.core.registry import CellSpec
from gradparity.core.sequences import PREFIX, sequence_constants
from gradparity.core.validate import logit_width
from gradparity.reference_impl.equations import Eq, differentiated, evaluate
from gradparity.reference_impl.network import Problem, sequenced
from gradparity.reference_impl.numerical import CENTRAL, COMPLEX_STEP, Method, directional, gradient
from gradparity.reference_impl.primitives import PRIMITIVES, get_primitive

NUMPY_OPS = {name: primitive.forward for name, primitive in PRIMITIVES.items()}
MAX_PASSES = 2_000
MAX_PASS_STEPS = 20_000
"""Per-element differentiation while its forward passes (elements × passes per element) stay
under ``MAX_PASSES`` and (passes × time steps) under ``MAX_PASS_STEPS``; one direction per
tensor beyond. So central differences, two passes an element, project from half the elements
complex step does: a layernorm_lstm stack of 1 900 elements took 18 s element by element."""


def directions(problem: Problem, seed: int = 0) -> dict[str, np.ndarray]:
    """One seeded direction per differentiable input, of its shape, entries in [-1, 1], each
    from the bytes of its name (as ``core.cases`` seeds tensors: no checksum to collide)."""
    return {
        name: np.random.default_rng([seed, *name.encode()]).uniform(-1, 1, v.shape)
        for name, v in problem.inputs().items()
    }


def elementwise(problem: Problem, passes_per_element: int) -> bool:
    passes = passes_per_element * sum(v.size for v in problem.inputs().values())
    steps = problem.x.shape[1] if problem.x.ndim == 3 else 1
    return passes <= MAX_PASSES and passes * steps <= MAX_PASS_STEPS


class NumericalOracle:
    name: str
    gradient_kind: str
    method: Method
    passes_per_element: int  # forward passes per differentiated element
    computes_values = False
    computes_gradients = True
    suite = "grid"  # the agreement suite's cases it runs (``Framework.suite``)

    def ready(self) -> None:
        """Nothing to load: the reference is NumPy."""

    def unsupported(self, spec: CellSpec) -> str | None:
        return None

    def refuses(self, problem: Problem) -> str | None:
        """Why this method cannot differentiate ``problem``, or None."""
        return None

    def run(
        self, spec: CellSpec, problem: Problem, reference: ModuleType | None = None, patch=None
    ):
        reason = self.refuses(problem)
        if reason:
            raise OracleUnavailable(reason)
        cell = sequenced(spec.reference_for(problem.options, reference), problem)
        base = problem.astype(self.method.dtype)
        ragged = problem.lengths is not None
        classes = logit_width(spec, problem)
        weights = target_weights(problem.targets, classes, np.float64, ragged)
        select = None
        if ragged:
            steps = problem.x.shape[1]
            select = sequence_constants(problem.lengths, steps, np.float64)[PREFIX + "select"]

        def J(p: Problem) -> Any:
            outputs, final, _ = cell.forward(p.params, p.x, p.state0, p.options)
            return objective(NUMPY_OPS, outputs, final, p.head, weights, p.probes, select)[0]

        inputs = base.inputs()
        result: dict[str, Any] = {}
        if elementwise(problem, self.passes_per_element):
            for name, value in inputs.items():
                result[name] = gradient(
                    lambda v, n=name: J(base.with_inputs({n: v})), value, self.method
                )
        else:
            for name, u in directions(problem).items():
                value = directional(
                    lambda v, n=name: J(base.with_inputs({n: v})), inputs[name], u, self.method
                )
                result[name] = Projected(value, u)
        return result

    def run_program(self, program: Sequence[Eq], inputs: Mapping[str, np.ndarray], output: str):
        values = evaluate(program, inputs)
        result = {}
        for name in differentiated(program, inputs, output):

            def total(delta, name=name):
                return _with_delta(program, inputs, name, delta)[output].sum()

            zero = np.zeros(np.shape(values[name]))
            result[f"grad/{name}"] = gradient(total, zero, self.method)
        return result


def _with_delta(program: Sequence[Eq], inputs: Mapping[str, Any], name: str, delta) -> dict:
    """The program's values with ``delta`` added to value ``name`` right where it is defined."""
    values = {n: np.asarray(v) + (delta if n == name else 0) for n, v in inputs.items()}
    for eq in program:
        args = [values[a] if isinstance(a, str) else a for a in eq.args]
        values[eq.out] = np.asarray(get_primitive(eq.op).forward(*args))
        if eq.out == name:
            values[eq.out] = values[eq.out] + delta
    return values


class ComplexStepOracle(NumericalOracle):
    name = "numerical"
    gradient_kind = "gradient"
    method = COMPLEX_STEP
    passes_per_element = 1


class FiniteDifferenceOracle(NumericalOracle):
    name = "fd"
    gradient_kind = "gradient_fd"
    method = CENTRAL
    passes_per_element = 2
    suite = "pairwise"  # a cross-check of complex step, which runs the grid

    def refuses(self, problem: Problem) -> str | None:
        """ReLU's kink: a step of h that carries a pre-activation across 0 makes the
        difference quotient mix the two slopes there, an O(1) error in that term whatever h
        (measured: rnn relu, H 64, T 50, B 4, seed 1, grad/W along one direction off by
        3.3e-5 relative, 330× the fd tolerance). Complex step differentiates ReLU exactly."""
        if "relu" in problem.options.values():
            return (
                "central differences are not valid across ReLU's kink (a pre-activation within"
                " the step of 0 breaks the quotient); the complex-step oracle 'numerical' checks"
                " relu cases"
            )
        return None
