"""The PyTorch oracle: the cell's builder makes the network, autograd gives every gradient.

A builder has the signature ``build(params, options, dtype) -> TorchNet`` and lives in
``oracles/torch_cells.py``; the cell's registry entry names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from oracles.base import Tensors, framework_missing, require_builder
from oracles.determinism import pin_torch
from oracles.registry import CellSpec
from oracles.stacking import run_stack
from reference_impl.network import Problem
from reference_impl.stack import is_stacked, of_unit, qualify


@dataclass
class TorchNet:
    """What a torch builder returns.

    ``leaves``: the framework's parameter tensors (requires_grad) by the framework's names;
    ``forward(x, state0) -> (outputs, final_states)`` with states keyed by canonical name;
    ``to_canonical(grads)``: the leaves' gradients (same keys) as canonical numpy gradients.
    """

    leaves: dict[str, Any]
    forward: Callable[[Any, dict[str, Any]], tuple[Any, dict[str, Any]]]
    to_canonical: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def stack_units(build, spec: CellSpec, problem: Problem, dtype) -> TorchNet:
    """Layers and directions composed from single-layer nets, for non-stacking builders."""
    import torch

    units = spec.units(problem.options)
    nets = {u: build(of_unit(problem.params, u), problem.options, dtype) for u in units}

    def call_unit(unit, unit_input, unit_state0):
        return nets[unit].forward(unit_input, unit_state0)

    def flip(t):
        return torch.flip(t, dims=[1])

    def concat(ts):
        return torch.cat(ts, dim=-1)

    def forward(x, state0):
        return run_stack(units, call_unit, x, state0, flip, concat)

    def to_canonical(grads):
        canonical = {}
        for unit, net in nets.items():
            unit_grads = net.to_canonical(of_unit(grads, unit))
            canonical |= {qualify(unit, k): v for k, v in unit_grads.items()}
        return canonical

    leaves = {qualify(u, k): v for u, net in nets.items() for k, v in net.leaves.items()}
    return TorchNet(leaves, forward, to_canonical)


class TorchOracle:
    name = "torch"
    gradient_kind = "gradient"
    computes_values = True

    def unsupported(self, spec: CellSpec) -> str | None:
        if "torch" not in spec.builders:
            return f"torch has no builder for cell {spec.name}"
        return framework_missing("torch", "torch")

    def run(self, spec: CellSpec, problem: Problem, reference: ModuleType | None = None) -> Tensors:
        net, inputs = self.prepare(spec, problem)
        outputs, final, loss, grads = differentiate(net, problem, *inputs)
        grads = {name: g.detach().numpy() for name, g in grads.items()}

        result: Tensors = {"outputs": outputs.detach().numpy()}
        result |= {f"{s}_T": v.detach().numpy() for s, v in final.items()}
        result["loss"] = loss.detach().numpy()
        canonical = net.to_canonical({k: grads.pop(k) for k in net.leaves})
        result |= {f"grad/{k}": v for k, v in canonical.items()}
        result |= {f"grad/{k}": v for k, v in grads.items()}
        return result

    def prepare(self, spec: CellSpec, problem: Problem) -> tuple[TorchNet, tuple[Any, ...]]:
        """The cell's net from its builder, and the leaves ``(x, state0, head)`` of ``problem``."""
        import torch

        pin_torch(torch)

        require_builder(spec, self.name)
        dtype = getattr(torch, str(problem.x.dtype))
        builder = spec.builders[self.name]
        if is_stacked(problem.options) and not builder.stacks:
            net = stack_units(builder.load(), spec, problem, dtype)
        else:
            net = builder.load()(problem.params, problem.options, dtype)

        def leaf(array: np.ndarray) -> torch.Tensor:
            return torch.tensor(array, dtype=dtype, requires_grad=True)

        x = leaf(problem.x)
        state0 = {s: leaf(v) for s, v in problem.state0.items()}
        head = {k: leaf(v) for k, v in problem.head.items()}
        return net, (x, state0, head)


def differentiate(net: TorchNet, problem: Problem, x, state0: dict, head: dict) -> tuple:
    """Forward, the objective J (loss + probes) and autograd: ``(outputs, final, loss,
    grads)``, the gradients as tensors keyed by leaf name, then x, ``<state>0`` and the head."""
    import torch
    import torch.nn.functional as F

    outputs, final = net.forward(x, state0)
    last = outputs[:, -1] if outputs.ndim == 3 else outputs
    logits = last @ head["W_y"] + head["b_y"] if head else last
    loss = F.cross_entropy(logits, torch.as_tensor(problem.targets, dtype=torch.long))
    objective = loss
    for name, value in [("outputs", outputs), *final.items()]:
        if name in problem.probes:
            objective = objective + (torch.as_tensor(problem.probes[name]) * value).sum()

    inputs = {**net.leaves, "x": x, **{f"{s}0": v for s, v in state0.items()}, **head}
    grads = torch.autograd.grad(objective, list(inputs.values()), materialize_grads=True)
    return outputs, final, loss, dict(zip(inputs, grads, strict=True))
