"""The PyTorch adapter (``core.framework``): torch's primitive ops, and autograd."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import torch

from gradparity.core.framework import map_tree
from gradparity.core.process import thread_count

OPS: dict[str, Callable[..., Any]] = {
    "add": torch.add,
    "subtract": torch.sub,
    "schur": torch.mul,
    "matmul": torch.matmul,
    "divide": torch.div,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "exp": torch.exp,
    "log": torch.log,
    "reciprocal": torch.reciprocal,
    "square": torch.square,
    "negate": torch.neg,
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "log_softmax": lambda x: torch.log_softmax(x, dim=-1),
    "sum": torch.sum,
    "add_const": lambda x, c: x + c,
    "mul_const": lambda x, c: c * x,
    "one_minus": lambda x: 1 - x,
    "relu": torch.relu,
    "mean": lambda x: torch.mean(x, dim=-1, keepdim=True),
    "rsqrt": torch.rsqrt,
    "clip": lambda x, c: torch.clamp(x, -c, c) if c > 0 else x,
    "flip_time": lambda t: torch.flip(t, dims=[1]),
    "concat": lambda ts: torch.cat(ts, dim=-1),
}


def scan(step: Callable, xs: dict, state0: dict, output: str) -> tuple:
    """``step`` over the time axis of batch-first ``xs``: (outputs [B, T, W], final states)."""
    states, outputs = state0, []
    for t in range(next(iter(xs.values())).shape[1]):
        states = step(states, {k: v[:, t] for k, v in xs.items()})
        outputs.append(states[output])
    return torch.stack(outputs, dim=1), states


OPS["scan"] = scan


class TorchAdapter:
    name = "torch"
    ops = OPS

    def setup(self) -> None:
        if torch.get_num_threads() != thread_count():
            torch.set_num_threads(thread_count())

    def threads(self) -> dict[str, int]:
        return {"torch": torch.get_num_threads(), "torch_interop": torch.get_num_interop_threads()}

    def prepare(
        self,
        f: Callable,
        leaves: Mapping[str, np.ndarray],
        constants: Mapping[str, np.ndarray],
        key: Hashable | None,
        open_axes: Mapping[str, int],
    ) -> Callable[[], tuple[Any, dict[str, Any]]]:
        L = {k: torch.tensor(v, requires_grad=True) for k, v in leaves.items()}
        C = {k: torch.as_tensor(v) for k, v in constants.items()}
        names = list(L)

        def thunk():
            total, aux = f(L, C)
            grads = torch.autograd.grad(
                total, [L[n] for n in names], materialize_grads=True, allow_unused=True
            )
            return aux, dict(zip(names, grads, strict=True))

        return thunk

    def to_numpy(self, tree: Any) -> Any:
        return map_tree(lambda tensor: tensor.detach().numpy(), tree)
