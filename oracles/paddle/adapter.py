"""The PaddlePaddle adapter (``core.framework``): Paddle's primitive ops, run eagerly (dynamic
graph), and ``paddle.grad`` for every leaf. Nothing is compiled, so no shape is traced twice."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import paddle
import paddle.nn.functional as F

from gradparity.core.framework import map_tree
from gradparity.core.process import thread_count

OPS: dict[str, Callable[..., Any]] = {
    "add": paddle.add,
    "subtract": paddle.subtract,
    "schur": paddle.multiply,
    "matmul": paddle.matmul,
    "divide": paddle.divide,
    "tanh": paddle.tanh,
    "sigmoid": F.sigmoid,
    "exp": paddle.exp,
    "log": paddle.log,
    "reciprocal": paddle.reciprocal,
    "square": paddle.square,
    "negate": paddle.neg,
    "softmax": lambda x: F.softmax(x, axis=-1),
    "log_softmax": lambda x: F.log_softmax(x, axis=-1),
    "sum": paddle.sum,
    "add_const": lambda x, c: x + c,
    "mul_const": lambda x, c: c * x,
    "one_minus": lambda x: 1 - x,
    "relu": F.relu,
    "mean": lambda x: paddle.mean(x, axis=-1, keepdim=True),
    "rsqrt": paddle.rsqrt,
    # paddle.clip's gradient is 1 on the boundary too, as the primitive's (checked: x = ±c)
    "clip": lambda x, c: paddle.clip(x, -c, c) if c > 0 else x,
    "flip_time": lambda t: paddle.flip(t, axis=[1]),
    "concat": lambda ts: paddle.concat(ts, axis=-1),
}


def scan(step: Callable, xs: dict, state0: dict, output: str) -> tuple:
    """``step`` over the time axis of batch-first ``xs``: (outputs [B, T, W], final states)."""
    states, outputs = state0, []
    steps = {k: paddle.unbind(v, axis=1) for k, v in xs.items()}
    for t in range(len(next(iter(steps.values())))):
        states = step(states, {k: v[t] for k, v in steps.items()})
        outputs.append(states[output])
    return paddle.stack(outputs, axis=1), states


OPS["scan"] = scan


class PaddleAdapter:
    name = "paddle"
    ops = OPS

    def setup(self) -> None:
        """Paddle's CPU math library threads (its only intra-op pool on CPU; the count has no
        getter, so ``threads()`` reports the one set here)."""
        self._threads = thread_count()
        paddle.set_device("cpu")
        paddle.base.core.set_num_threads(self._threads)

    def threads(self) -> dict[str, int]:
        return {"paddle_cpu_math": self._threads}

    def prepare(
        self,
        f: Callable,
        leaves: Mapping[str, np.ndarray],
        constants: Mapping[str, np.ndarray],
        key: Hashable | None,
        open_axes: Mapping[str, int],
    ) -> Callable[[], tuple[Any, dict[str, Any]]]:
        L = {k: paddle.to_tensor(v, stop_gradient=False) for k, v in leaves.items()}
        C = {k: paddle.to_tensor(v) for k, v in constants.items()}
        names = list(L)

        def thunk():
            total, aux = f(L, C)
            grads = paddle.grad(total, [L[n] for n in names], allow_unused=True)
            return aux, {
                n: paddle.zeros_like(L[n]) if g is None else g
                for n, g in zip(names, grads, strict=True)
            }

        return thunk

    def to_numpy(self, tree: Any) -> Any:
        return map_tree(lambda tensor: tensor.numpy(), tree)
