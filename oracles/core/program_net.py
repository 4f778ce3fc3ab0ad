"""The composed network of a step program in any framework: the program's equations with the
framework's ops (its adapter's ``ops``), stepped over time with its ``scan``, differentiated by
its autodiff. One builder for every framework and every cell that has a program; the
parameters are the canonical tensors themselves (the layout is the identity).

With per-example lengths (``core.sequences``) the state update is masked: at a step where
``m_t`` is 0 the states stay what they were and the output is 0,

    s_t = m_t ∘ step(s_{t−1}, x_t) + (1 − m_t) ∘ s_{t−1},    out_t = m_t ∘ h_t
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gradparity.core.net import Net, identity
from gradparity.core.registry import Builder
from gradparity.core.sequences import Lengths
from gradparity.reference_impl.step_program import StepProgram

PROGRAM_BUILDER = Builder("the step program (gradparity.core.program_net)", kind="composed")
"""The builder a framework uses for a cell with a step program and no builder of its own."""

MASKED_OUTPUT = "out_t"  # the carried, masked output: not a state of the cell


def program_net(
    program: StepProgram, options: Mapping[str, Any], ops: Mapping[str, Callable[..., Any]]
) -> Net:
    equations = program.bound(options)

    def step(states, inputs):
        values = {**inputs["params"], "x_t": inputs["x_t"]}
        values |= {f"{s}_prev": states[s] for s in program.states}
        for eq in equations:
            args = [values[a] if isinstance(a, str) else a for a in eq.args]
            values[eq.out] = ops[eq.op](*args)
        return {s: values[s] for s in program.states}

    def forward(params, x, state0, lengths: Lengths | None = None):
        if lengths is None:
            return ops["scan"](
                lambda states, xs: step(states, {"params": params, **xs}),
                {"x_t": x},
                dict(state0),
                program.output,
            )

        def masked_step(carried, xs):
            m_t, keep = xs["m_t"], ops["one_minus"](xs["m_t"])
            new = step(carried, {"params": params, **xs})
            states = {
                s: ops["add"](ops["schur"](m_t, new[s]), ops["schur"](keep, carried[s]))
                for s in program.states
            }
            return states | {MASKED_OUTPUT: ops["schur"](m_t, new[program.output])}

        start = dict(state0) | {MASKED_OUTPUT: ops["mul_const"](state0[program.output], 0.0)}
        outputs, final = ops["scan"](
            masked_step, {"x_t": x, "m_t": lengths.mask}, start, MASKED_OUTPUT
        )
        return outputs, {s: final[s] for s in program.states}

    return Net(identity, forward, identity, ragged=True)
