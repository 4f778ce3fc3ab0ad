"""The MLX adapter (``core.framework``): MLX's primitive ops on its CPU device, and
``mx.value_and_grad``, run eagerly.

MLX is lazy: every call builds a graph that ``mx.eval`` computes, so the thunk evaluates its
values and gradients before it returns (a timed call times the computation, not the graph).
Nothing is compiled: ``mx.value_and_grad`` traces the function anew on each call, which costs
no compilation, so a new batch or sequence length costs nothing extra either. MLX's own
``mx.compile``d helpers (``nn.relu``, ``nn.log_softmax``, …) are avoided on purpose: on the CPU
device the first call of each compiles C++ with the system compiler (0.9 s measured).

MLX's CPU ``exp`` (and ``sigmoid``, ``softmax``, ``logsumexp``, which use it) computes float64
with its float32 approximation (ml-explore/mlx#3047): the framework refuses float64 cases
(``Framework.refuses``) and runs float32 with MLX's own functions.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import mlx.core as mx
import numpy as np

from gradparity.core.framework import map_tree


def log_softmax(x: mx.array) -> mx.array:
    """``x − log Σ eˣ`` over the last axis, shifted by its (constant) maximum first."""
    shifted = x - mx.stop_gradient(mx.max(x, axis=-1, keepdims=True))
    return shifted - mx.logsumexp(shifted, axis=-1, keepdims=True)


def relu(x: mx.array) -> mx.array:
    """``x`` where it is positive, else 0: derivative 0 at 0, as the reference's mask."""
    return mx.where(x > 0, x, 0.0)


def clip(x: mx.array, c: float) -> mx.array:
    """``x`` clipped to [-c, c] (``c <= 0``: unchanged), derivative 1 on the boundary, as the
    reference's (TensorFlow's ``clip_by_value``); ``mx.clip``'s derivative is 0 there."""
    if c <= 0:
        return x
    return mx.where(x > c, c, mx.where(x < -c, -c, x))


OPS: dict[str, Callable[..., Any]] = {
    "add": mx.add,
    "subtract": mx.subtract,
    "schur": mx.multiply,
    "matmul": mx.matmul,
    "divide": mx.divide,
    "tanh": mx.tanh,
    "sigmoid": mx.sigmoid,
    "exp": mx.exp,
    "log": mx.log,
    "reciprocal": mx.reciprocal,
    "square": mx.square,
    "negate": mx.negative,
    "softmax": lambda x: mx.softmax(x, axis=-1),
    "log_softmax": log_softmax,
    "sum": mx.sum,
    "add_const": lambda x, c: x + c,
    "mul_const": lambda x, c: c * x,
    "one_minus": lambda x: 1 - x,
    "relu": relu,
    "mean": lambda x: mx.mean(x, axis=-1, keepdims=True),
    "rsqrt": mx.rsqrt,
    "clip": clip,
    "flip_time": lambda t: t[:, ::-1],
    "concat": lambda ts: mx.concatenate(ts, axis=-1),
}


def scan(step: Callable, xs: dict, state0: dict, output: str) -> tuple:
    """``step`` over the time axis of batch-first ``xs``: (outputs [B, T, W], final states)."""
    states, outputs = state0, []
    for t in range(next(iter(xs.values())).shape[1]):
        states = step(states, {k: v[:, t] for k, v in xs.items()})
        outputs.append(states[output])
    return mx.stack(outputs, axis=1), states


OPS["scan"] = scan


def as_array(value: np.ndarray) -> mx.array:
    """A NumPy array as an MLX array of the same dtype (``mx.array`` of a float64 array alone
    makes float32)."""
    value = np.asarray(value)
    return mx.array(value, dtype=getattr(mx, value.dtype.name))


class MLXAdapter:
    name = "mlx"
    ops = OPS

    def setup(self) -> None:
        """The CPU device (float64 exists only there). MLX has no thread setting: the CPU
        device runs a stream's operations one after another on that stream's one thread, and
        its BLAS (the reference BLAS the wheel ships) is single-threaded, so one thread is in
        effect whatever ``thread_count()`` says."""
        mx.set_default_device(mx.cpu)

    def threads(self) -> dict[str, int]:
        return {"mlx_cpu_stream": 1}

    def prepare(
        self,
        f: Callable,
        leaves: Mapping[str, np.ndarray],
        constants: Mapping[str, np.ndarray],
        key: Hashable | None,
        open_axes: Mapping[str, int],
    ) -> Callable[[], tuple[Any, dict[str, Any]]]:
        L = {k: as_array(v) for k, v in leaves.items()}
        C = {k: as_array(v) for k, v in constants.items()}
        value_and_grad = mx.value_and_grad(lambda leaves: f(leaves, C))

        def thunk():
            (_, aux), grads = value_and_grad(L)
            mx.eval(aux, grads)
            return aux, grads

        return thunk

    def to_numpy(self, tree: Any) -> Any:
        return map_tree(lambda array: np.array(array, copy=True), tree)
