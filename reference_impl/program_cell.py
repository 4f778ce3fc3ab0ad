"""The readable reference of a cell, generated from its step program (``step_program.py``):
forward over the sequence by running the equations at every step, and backpropagation through
time by running the slides' ``deriv`` backwards over every step, last step first, always with
``+=`` at forks (``equations.backprop_seeds``): within a step where a value feeds several
equations, and across steps where a parameter is read at every step and each state feeds the
next step and the outputs.

It has the interface of a hand-written cell module (``forward``, ``backward``,
``param_shapes``, ``widths``), so it serves as the registered reference of a cell declared only
as a program, and as a second reference for the hand-written ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .equations import backprop_seeds, vjp_of
from .primitives import PRIMITIVES
from .step_program import StepProgram


class ProgramCell:
    def __init__(self, program: Callable[[Mapping[str, Any]], StepProgram], vjp: Callable = vjp_of):
        self.program = program  # options -> the cell's step program
        self.vjp = vjp  # each equation's cotangents (a planted bug may replace the rule)

    def param_shapes(self, input_size: int, hidden: int, options: Mapping[str, Any]) -> dict:
        return self.program(options).param_shapes(input_size, hidden, options)

    def widths(self, hidden: int, options: Mapping[str, Any]) -> dict[str, int]:
        return self.program(options).widths(hidden, options)

    def forward(
        self,
        params: Mapping[str, np.ndarray],
        x: np.ndarray,
        state0: Mapping[str, np.ndarray],
        options: Mapping[str, Any],
    ) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
        program = self.program(options)
        equations = program.bound(options)
        states = dict(state0)
        steps = []  # every value of every step, for the backward pass
        for t in range(x.shape[1]):
            values: dict[str, Any] = {**params, "x_t": x[:, t]}
            values |= {f"{s}_prev": states[s] for s in program.states}
            for eq in equations:
                args = [values[a] if isinstance(a, str) else a for a in eq.args]
                values[eq.out] = PRIMITIVES[eq.op].forward(*args)
            states = {s: values[s] for s in program.states}
            steps.append(values)
        outputs = np.stack([values[program.output] for values in steps], axis=1)
        return outputs, states, {"steps": steps, "x": x}

    def backward(
        self,
        params: Mapping[str, np.ndarray],
        cache: Mapping[str, Any],
        d_outputs: np.ndarray,
        d_final: Mapping[str, np.ndarray],
        options: Mapping[str, Any],
    ) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
        program = self.program(options)
        equations = program.bound(options)
        steps, x = cache["steps"], cache["x"]
        grads = {name: np.zeros_like(value) for name, value in params.items()}
        dx = np.zeros_like(x, dtype=np.result_type(x, d_outputs))
        d_next = {s: np.array(d_final[s]) for s in program.states}  # d J / d state_t
        for t in reversed(range(len(steps))):
            seeds = dict(d_next)
            seeds[program.output] = seeds[program.output] + d_outputs[:, t]  # the output forks
            step = backprop_seeds(equations, steps[t], seeds, self.vjp)
            for name in grads:  # a parameter forks across steps
                if name in step:
                    grads[name] += step[name]
            if "x_t" in step:
                dx[:, t] = step["x_t"]
            d_next = {s: step.get(f"{s}_prev", np.zeros_like(d_next[s])) for s in program.states}
        return grads, dx, d_next
