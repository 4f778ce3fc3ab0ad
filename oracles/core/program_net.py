"""The composed network of a step program in any framework: the program's equations with the
framework's ops (its adapter's ``ops``), stepped over time with its ``scan``, differentiated by
its autodiff. One builder for every framework and every cell that has a program; the
parameters are the canonical tensors themselves (the layout is the identity)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gradparity.core.net import Net, identity
from gradparity.core.registry import Builder
from gradparity.reference_impl.step_program import StepProgram

PROGRAM_BUILDER = Builder("the step program (gradparity.core.program_net)", kind="composed")
"""The builder a framework uses for a cell with a step program and no builder of its own."""


def program_net(
    program: StepProgram, options: Mapping[str, Any], ops: Mapping[str, Callable[..., Any]]
) -> Net:
    equations = program.bound(options)

    def forward(params, x, state0):
        def step(states, x_t):
            values = {**params, "x_t": x_t, **{f"{s}_prev": v for s, v in states.items()}}
            for eq in equations:
                args = [values[a] if isinstance(a, str) else a for a in eq.args]
                values[eq.out] = ops[eq.op](*args)
            return {s: values[s] for s in program.states}

        return ops["scan"](step, x, dict(state0), program.output)

    return Net(identity, forward, identity)
