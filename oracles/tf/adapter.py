"""The TensorFlow adapter (``core.framework``): TensorFlow's primitive ops and a
``tf.GradientTape``, run eagerly on a thunk's first call and, from its second call on (bench),
inside one ``tf.function`` per network, traced once with the batch and time axes left open, so
a new problem of a known network is not traced again.

Why eager first: the comparisons call each thunk once, and on their sizes (T ≤ 13) an eager
call costs 0.05-0.3 s where a trace costs 0.5-3 s; the tf oracle's agreement tests of lstm and
gru took 91 s traced and 11 s eager here. The numbers compared are always the eager call's."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from gradparity.core.framework import map_tree
from gradparity.core.process import thread_count

OPS: dict[str, Callable[..., Any]] = {
    "add": tf.add,
    "subtract": tf.subtract,
    "schur": tf.multiply,
    "matmul": lambda x, w: tf.matmul(x, w) if w.shape.rank == 3 else tf.tensordot(x, w, axes=1),
    "divide": tf.divide,
    "tanh": tf.tanh,
    "sigmoid": tf.sigmoid,
    "exp": tf.exp,
    "log": tf.math.log,
    "reciprocal": tf.math.reciprocal,
    "square": tf.square,
    "negate": tf.negative,
    "softmax": lambda x: tf.nn.softmax(x, axis=-1),
    "log_softmax": lambda x: tf.nn.log_softmax(x, axis=-1),
    "sum": tf.reduce_sum,
    "add_const": lambda x, c: x + c,
    "mul_const": lambda x, c: c * x,
    "one_minus": lambda x: 1 - x,
    "relu": tf.nn.relu,
    "mean": lambda x: tf.reduce_mean(x, axis=-1, keepdims=True),
    "rsqrt": tf.math.rsqrt,
    "clip": lambda x, c: tf.clip_by_value(x, -c, c) if c > 0 else x,
    "flip_time": lambda t: tf.reverse(t, axis=[1]),
    "concat": lambda ts: tf.concat(ts, axis=-1),
}


def scan(step: Callable, xs: dict, state0: dict, output: str) -> tuple:
    """``step`` over the time axis of batch-first ``xs`` with ``tf.scan`` (the traced sequence
    length may be unknown): (outputs [B, T, W], final states)."""
    time_major = {k: tf.transpose(v, [1, 0, 2]) for k, v in xs.items()}
    stacked = tf.scan(step, time_major, initializer=state0)
    return tf.transpose(stacked[output], [1, 0, 2]), {s: v[-1] for s, v in stacked.items()}


OPS["scan"] = scan


def _spec(value: np.ndarray, open_axes: int) -> tf.TensorSpec:
    shape = [None] * open_axes + list(value.shape[open_axes:])
    return tf.TensorSpec(shape, tf.as_dtype(value.dtype))


class TFAdapter:
    name = "tf"
    ops = OPS

    def __init__(self) -> None:
        self._compiled: dict[tuple, Callable] = {}

    def setup(self) -> None:
        """Thread pools, before TensorFlow's runtime starts.

        ``tf.config.experimental.enable_op_determinism()`` is not used: the CPU kernels these
        networks use are deterministic at a fixed thread count, and it made every call of a
        traced step 50-100x slower here (0.3-0.5 s instead of 5 ms)."""
        try:
            tf.config.threading.set_intra_op_parallelism_threads(thread_count())
            tf.config.threading.set_inter_op_parallelism_threads(thread_count())
        except RuntimeError:  # the runtime already started (someone used TF first): leave it
            pass
        tf.get_logger().setLevel(logging.ERROR)  # one trace per network is by design

    def threads(self) -> dict[str, int]:
        return {
            "tf_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "tf_inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        }

    def prepare(
        self,
        f: Callable,
        leaves: Mapping[str, np.ndarray],
        constants: Mapping[str, np.ndarray],
        key: Hashable | None,
        open_axes: Mapping[str, int],
    ) -> Callable[[], tuple[Any, dict[str, Any]]]:
        def step(L, C):
            with tf.GradientTape() as tape:
                tape.watch(list(L.values()))
                total, aux = f(L, C)
            grads = tape.gradient(total, L, unconnected_gradients=tf.UnconnectedGradients.ZERO)
            return aux, grads

        L = {k: tf.constant(v) for k, v in leaves.items()}
        C = {k: tf.constant(v) for k, v in constants.items()}
        if key is None:
            return lambda: step(L, C)
        signature = [
            {k: _spec(v, open_axes.get(k, 0)) for k, v in leaves.items()},
            {k: _spec(v, open_axes.get(k, 0)) for k, v in constants.items()},
        ]
        full_key = (key, tuple(map(repr, signature)))
        calls = 0

        def thunk():
            nonlocal calls
            calls += 1
            if calls == 1:  # eager: see the module docstring
                return step(L, C)
            if full_key not in self._compiled:
                self._compiled[full_key] = tf.function(step, input_signature=signature)
            return self._compiled[full_key](L, C)

        return thunk

    def to_numpy(self, tree: Any) -> Any:
        return map_tree(lambda tensor: tensor.numpy(), tree)
