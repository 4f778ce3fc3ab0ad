"""A cell, an optional dense head and softmax cross-entropy: the network every oracle builds.

The scalar that gets differentiated is the objective

    J = loss + Σ probes["outputs"] ∘ outputs + Σ_s Σ probes[s] ∘ s_T

where ``loss`` is the softmax cross-entropy of ``logits = last @ W_y + b_y`` (or ``last``
itself without a head) and ``last`` is the output of the last step (the output itself for a
layer with no time axis). The probes are fixed random cotangents: they make every output and
every final state carry gradient, so a bug on any path shows. Reproducing a reported example
uses no probes, and then J is the loss alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

import numpy as np

from .loss import softmax_cross_entropy


@dataclass(frozen=True)
class Problem:
    """Every tensor of one concrete network evaluation, in the canonical layout."""

    params: dict[str, np.ndarray]
    x: np.ndarray
    state0: dict[str, np.ndarray]
    targets: np.ndarray
    options: dict[str, Any]
    head: dict[str, np.ndarray] = field(default_factory=dict)  # {"W_y", "b_y"} or empty
    probes: dict[str, np.ndarray] = field(default_factory=dict)  # "outputs" and state names

    def inputs(self) -> dict[str, np.ndarray]:
        """Every differentiable input, keyed by the name of its gradient tensor."""
        named = {f"grad/{k}": v for k, v in self.params.items()}
        named["grad/x"] = self.x
        named.update({f"grad/{s}0": v for s, v in self.state0.items()})
        named.update({f"grad/{k}": v for k, v in self.head.items()})
        return named

    def with_inputs(self, named: Mapping[str, np.ndarray]) -> Problem:
        """The same problem with some differentiable inputs replaced (names as in ``inputs``)."""

        def pick(prefix: str, suffix: str, current: dict[str, np.ndarray]) -> dict:
            return {k: named.get(f"grad/{prefix}{k}{suffix}", v) for k, v in current.items()}

        return replace(
            self,
            params=pick("", "", self.params),
            x=named.get("grad/x", self.x),
            state0=pick("", "0", self.state0),
            head=pick("", "", self.head),
        )

    def astype(self, dtype: np.dtype | str) -> Problem:
        cast = {k: np.asarray(v, dtype=dtype) for k, v in self.inputs().items()}
        probes = {k: np.asarray(v, dtype=dtype) for k, v in self.probes.items()}
        return replace(self.with_inputs(cast), probes=probes)


def last_output(outputs: np.ndarray) -> np.ndarray:
    return outputs[:, -1] if outputs.ndim == 3 else outputs


def logits_of(problem: Problem, last: np.ndarray) -> np.ndarray:
    if "W_y" in problem.head:
        return last @ problem.head["W_y"] + problem.head["b_y"]
    return last


def probe_sum(problem: Problem, outputs: np.ndarray, final: Mapping[str, np.ndarray]):
    total = (problem.probes["outputs"] * outputs).sum() if "outputs" in problem.probes else 0.0
    for name, value in final.items():
        if name in problem.probes:
            total = total + (problem.probes[name] * value).sum()
    return total


def objective(cell: ModuleType, problem: Problem) -> np.ndarray:
    """J for the numerical oracles: forward only, complex-analytic."""
    outputs, final, _ = cell.forward(problem.params, problem.x, problem.state0, problem.options)
    loss, _ = softmax_cross_entropy(logits_of(problem, last_output(outputs)), problem.targets)
    return loss + probe_sum(problem, outputs, final)


def run(cell: ModuleType, problem: Problem) -> dict[str, np.ndarray]:
    """Forward and backward through ``cell``; returns every value and gradient tensor by name."""
    params, options = problem.params, problem.options
    outputs, final, cache = cell.forward(params, problem.x, problem.state0, options)
    last = last_output(outputs)
    loss, dlogits = softmax_cross_entropy(logits_of(problem, last), problem.targets)

    result = {"outputs": outputs, **{f"{s}_T": v for s, v in final.items()}, "loss": loss}
    d_outputs = np.array(problem.probes.get("outputs", np.zeros_like(outputs)), dtype=outputs.dtype)
    d_last = last_output(d_outputs)  # a view: the head's gradient lands in d_outputs
    if "W_y" in problem.head:
        result["grad/W_y"] = last.T @ dlogits
        result["grad/b_y"] = dlogits.sum(axis=0)
        d_last += dlogits @ problem.head["W_y"].T
    else:
        d_last += dlogits
    d_final = {s: problem.probes.get(s, np.zeros_like(v)) for s, v in final.items()}

    grads, dx, dstate0 = cell.backward(params, cache, d_outputs, d_final, options)
    result.update({f"grad/{k}": v for k, v in grads.items()})
    result["grad/x"] = dx
    result.update({f"grad/{s}0": v for s, v in dstate0.items()})
    return result
