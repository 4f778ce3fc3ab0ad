"""The JAX adapter (``core.framework``): ``jax.numpy``'s primitive ops, ``lax.scan`` for step
programs, and ``jax.value_and_grad`` compiled with ``jax.jit`` once per network (JAX compiles
again for each new input shape; eagerly, a Flax cell over 50 steps took seconds per call here,
and the suite's 64 cases took 3 times as long as compiled). float64 is enabled for the whole
worker process, and XLA's CPU threads are pinned before JAX loads."""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from gradparity.core.framework import map_tree
from gradparity.core.process import thread_count

_THREADS = thread_count()
os.environ.setdefault(
    "XLA_FLAGS",
    f"--xla_cpu_multi_thread_eigen={'true' if _THREADS > 1 else 'false'}"
    f" intra_op_parallelism_threads={_THREADS}",
)

import jax  # noqa: E402  (after XLA_FLAGS)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

# Each network runs a few times and compiling is most of its time. LLVM's optimization level 0
# took 20% off the suite's 64 cases here, and XLA's older elemental emitters instead of its
# MLIR fusion emitters another 26% (42 -> 31 s; keras_jax 45 -> 34 s). XLA's HLO passes still
# run; the numbers agree as closely as with the defaults (the float64 tolerances).
COMPILER_OPTIONS = {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False}


def scan(step: Callable, xs: dict, state0: dict, output: str) -> tuple:
    """``step`` over the time axis of batch-first ``xs`` with ``lax.scan``."""

    def body(states, inputs_t):
        states = step(states, inputs_t)
        return states, states[output]

    time_major = {k: jnp.swapaxes(v, 0, 1) for k, v in xs.items()}
    final, outputs = jax.lax.scan(body, state0, time_major)
    return jnp.swapaxes(outputs, 0, 1), final


OPS: dict[str, Callable[..., Any]] = {
    "add": jnp.add,
    "subtract": jnp.subtract,
    "schur": jnp.multiply,
    "matmul": jnp.matmul,
    "divide": jnp.divide,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "exp": jnp.exp,
    "log": jnp.log,
    "reciprocal": jnp.reciprocal,
    "square": jnp.square,
    "negate": jnp.negative,
    "softmax": lambda x: jax.nn.softmax(x, axis=-1),
    "log_softmax": lambda x: jax.nn.log_softmax(x, axis=-1),
    "sum": jnp.sum,
    "add_const": lambda x, c: x + c,
    "mul_const": lambda x, c: c * x,
    "one_minus": lambda x: 1 - x,
    "relu": jax.nn.relu,
    "mean": lambda x: jnp.mean(x, axis=-1, keepdims=True),
    "rsqrt": jax.lax.rsqrt,
    "clip": lambda x, c: jnp.clip(x, -c, c) if c > 0 else x,
    "flip_time": lambda t: jnp.flip(t, axis=1),
    "concat": lambda ts: jnp.concatenate(ts, axis=-1),
    "scan": scan,
}


class JaxAdapter:
    name = "jax"
    ops = OPS

    def __init__(self) -> None:
        self._compiled: dict[Hashable, Callable] = {}

    def setup(self) -> None:
        if not jax.config.jax_enable_x64:
            raise RuntimeError("JAX's float64 is off in this process")

    def threads(self) -> dict[str, Any]:
        return {"xla_flags": os.environ.get("XLA_FLAGS", "")}

    def prepare(
        self,
        f: Callable,
        leaves: Mapping[str, np.ndarray],
        constants: Mapping[str, np.ndarray],
        key: Hashable | None,
        open_axes: Mapping[str, int],
    ) -> Callable[[], tuple[Any, dict[str, Any]]]:
        differentiated = jax.value_and_grad(f, has_aux=True)
        if key is not None:
            if key not in self._compiled:
                self._compiled[key] = jax.jit(differentiated, compiler_options=COMPILER_OPTIONS)
            differentiated = self._compiled[key]
        L = {k: jnp.asarray(v) for k, v in leaves.items()}
        C = {k: jnp.asarray(v) for k, v in constants.items()}

        def thunk():
            (_, aux), grads = differentiated(L, C)
            return jax.block_until_ready((aux, grads))

        return thunk

    def to_numpy(self, tree: Any) -> Any:
        return map_tree(np.asarray, tree)
