"""A cell, an optional dense head and softmax cross-entropy: the network every oracle builds.

The scalar that gets differentiated is the objective

    J = loss + Σ probes["outputs"] ∘ outputs + Σ_s Σ probes[s] ∘ s_T

where ``loss`` is the softmax cross-entropy of ``logits = last @ W_y + b_y`` (or ``last``
itself without a head) and ``last`` is the output of the last step (the output itself for a
layer with no time axis; each example's last valid step when the problem has ``lengths``:
``reference_impl.ragged``). The probes are fixed random cotangents: they make every output and
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
from .ragged import Ragged, last_valid_index


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
    lengths: np.ndarray | None = None  # [B] integers: example b is valid for its first steps

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


def last_rows(problem: Problem, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The indices ``(rows, steps)`` of the outputs the loss reads (time-major cells only)."""
    batch, steps = outputs.shape[:2]
    return np.arange(batch), last_valid_index(problem.lengths, steps, batch)


def last_output(problem: Problem, outputs: np.ndarray) -> np.ndarray:
    return outputs[last_rows(problem, outputs)] if outputs.ndim == 3 else outputs


def sequenced(cell: Any, problem: Problem) -> Any:
    """``cell`` over the problem's per-example lengths, if it has them."""
    return cell if problem.lengths is None else Ragged(cell, problem.lengths)


def logits_of(problem: Problem, last: np.ndarray) -> np.ndarray:
    if "W_y" in problem.head:
        return last @ problem.head["W_y"] + problem.head["b_y"]
    return last


def run(cell: ModuleType, problem: Problem) -> dict[str, np.ndarray]:
    """Forward and backward through ``cell``; returns every value and gradient tensor by name."""
    params, options = problem.params, problem.options
    cell = sequenced(cell, problem)
    outputs, final, cache = cell.forward(params, problem.x, problem.state0, options)
    last = last_output(problem, outputs)
    loss, dlogits = softmax_cross_entropy(logits_of(problem, last), problem.targets)

    result = {"outputs": outputs, **{f"{s}_T": v for s, v in final.items()}, "loss": loss}
    d_outputs = np.array(problem.probes.get("outputs", np.zeros_like(outputs)), dtype=outputs.dtype)
    if "W_y" in problem.head:
        result["grad/W_y"] = last.T @ dlogits
        result["grad/b_y"] = dlogits.sum(axis=0)
        d_last = dlogits @ problem.head["W_y"].T
    else:
        d_last = dlogits
    if outputs.ndim == 3:
        d_outputs[last_rows(problem, outputs)] += d_last
    else:
        d_outputs += d_last
    d_final = {s: problem.probes.get(s, np.zeros_like(v)) for s, v in final.items()}

    grads, dx, dstate0 = cell.backward(params, cache, d_outputs, d_final, options)
    result.update({f"grad/{k}": v for k, v in grads.items()})
    result["grad/x"] = dx
    result.update({f"grad/{s}0": v for s, v in dstate0.items()})
    return result
