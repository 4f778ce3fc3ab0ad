"""The MLX adapter (``core.framework``): MLX's primitive ops on its CPU device, and
``mx.value_and_grad``, run eagerly.

MLX is lazy: every call builds a graph that ``mx.eval`` computes, so the thunk evaluates its
values and gradients before it returns (a timed call times the computation, not the graph).
Nothing is compiled: ``mx.value_and_grad`` traces the function anew on each call, which costs
no compilation, so a new batch or sequence length costs nothing extra either. MLX's own
``mx.compile``d helpers (``nn.relu``, ``nn.log_softmax``, …) are avoided on purpose: on the CPU
device the first call of each compiles C++ with the system compiler (0.9 s measured).

MLX's CPU ``exp`` (and ``sigmoid``, ``softmax``, ``logsumexp``, which use it) computes float64
with its float32 approximation: relative errors up to 1e-6 (ml-explore/mlx#3047, open;
docs/frameworks.md). In float64 this table's ``exp`` is ``mx.power(e, x)`` (``pow`` is
accurate to rounding: what remains is ``e`` rounded, 5.3e-17·|x|) and ``sigmoid``, ``softmax``,
``log_softmax`` are written with it; ``FLOAT64_MX`` is ``mlx.core`` with the same two
substitutions, for MLX's own layers (``cells.py``). float32 uses MLX's own functions.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import mlx.core as mx
import numpy as np

from gradparity.core.framework import map_tree


def exp(x: mx.array) -> mx.array:
    """``eˣ``, accurate to rounding in float64 too (``mx.exp`` is not: ml-explore/mlx#3047)."""
    return mx.power(math.e, x) if x.dtype == mx.float64 else mx.exp(x)


def sigmoid(x: mx.array) -> mx.array:
    return 1 / (1 + exp(-x)) if x.dtype == mx.float64 else mx.sigmoid(x)


def _shifted(x: mx.array) -> mx.array:
    return x - mx.stop_gradient(mx.max(x, axis=-1, keepdims=True))


def softmax(x: mx.array) -> mx.array:
    if x.dtype != mx.float64:
        return mx.softmax(x, axis=-1)
    e = exp(_shifted(x))
    return e / mx.sum(e, axis=-1, keepdims=True)


def log_softmax(x: mx.array) -> mx.array:
    """``x − log Σ eˣ`` over the last axis, shifted by its (constant) maximum first."""
    shifted = _shifted(x)
    if x.dtype != mx.float64:
        return shifted - mx.logsumexp(shifted, axis=-1, keepdims=True)
    return shifted - mx.log(mx.sum(exp(shifted), axis=-1, keepdims=True))


FLOAT64_MX = types.SimpleNamespace(
    **{k: getattr(mx, k) for k in dir(mx) if not k.startswith("__")}
    | {"exp": exp, "sigmoid": sigmoid}
)
"""``mlx.core`` with ``exp`` and ``sigmoid`` accurate in float64, for MLX's own layers."""


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
    "sigmoid": sigmoid,
    "exp": exp,
    "log": mx.log,
    "reciprocal": mx.reciprocal,
    "square": mx.square,
    "negate": mx.negative,
    "softmax": softmax,
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


def scan(step: Callable, x: mx.array, state0: dict, output: str) -> tuple:
    """``step`` over the time axis of batch-first ``x``: (outputs [B, T, W], final states)."""
    states, outputs = state0, []
    for t in range(x.shape[1]):
        states = step(states, x[:, t])
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
