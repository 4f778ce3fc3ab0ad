"""The adapter of ``keras_jax`` (``core.framework``): JAX's primitive ops (``jax.numpy``, time
stepped with ``lax.scan``), and ``jax.value_and_grad`` of the objective, compiled with
``jax.jit`` once per network and input shape.

Why compiled: Keras's recurrent layers step time with ``lax.scan`` on this backend, and an
eager ``lax.scan`` is traced and compiled again on every call (1.5-3 s here for a float64 LSTM,
H=7, T=13, B=2), so eager costs a compile per call, ``jax.jit`` one per (network, batch, time);
XLA has no open axes, so every new batch or time length is a new compile. ``unroll=True``
(a Python loop of eager ops) is slower still: every time index is a new static slice, compiled
once each. ``run_program`` (no network, ``key`` None) runs eagerly: op by op, no scan.

Float64 needs ``jax_enable_x64`` before any array is made (without it ``dtype="float64"``
silently computes in float32), so ``setup()`` turns it on before it imports Keras, and checks
that Keras really runs on JAX (Keras reads ``KERAS_BACKEND`` once per process; this oracle's
worker sets it, ``Framework.environment``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax._src import source_info_util
from jax.extend.core import ClosedJaxpr, Jaxpr

from gradparity.core.errors import OracleUnavailable
from gradparity.core.framework import map_tree
from gradparity.core.process import thread_count
from gradparity.jax.adapter import COMPILER_OPTIONS
from gradparity.jax.adapter import OPS as JAX_OPS
from gradparity.keras.backend import keras_on, narrowed_reason

BACKEND = "jax"

OPS = JAX_OPS  # the same primitive table as the ``jax`` oracle's


def xla_flags(flags: str, threads: int) -> str:
    """``XLA_FLAGS`` with XLA's CPU thread settings added (unless already there): one Eigen
    thread, or ``threads`` of them."""
    if "xla_cpu_multi_thread_eigen" in flags or "intra_op_parallelism_threads" in flags:
        return flags
    eigen = "false" if threads == 1 else "true"
    return f"{flags} --xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={threads}"


def narrowings(jaxpr: Any) -> list[str]:
    """Where ``jaxpr`` (and every jaxpr inside it: scan bodies, …) converts a float to a
    narrower float, as ``file:line (function)``."""
    found = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "convert_element_type":
            source, target = np.dtype(eqn.invars[0].aval.dtype), np.dtype(eqn.params["new_dtype"])
            if source.kind == target.kind == "f" and target.itemsize < source.itemsize:
                where = source_info_util.summarize(eqn.source_info)
                found.append(f"{source.name} -> {target.name} at {where}")
        for value in eqn.params.values():
            for inner in value if isinstance(value, tuple | list) else (value,):
                if isinstance(inner, ClosedJaxpr):
                    found += narrowings(inner.jaxpr)
                elif isinstance(inner, Jaxpr):
                    found += narrowings(inner)
    return found


class KerasJaxAdapter:
    name = "keras_jax"
    ops = OPS

    def __init__(self) -> None:
        self._jitted: dict[Hashable, Callable] = {}  # one jax.jit per network
        self._compiled: dict[tuple, Callable] = {}  # one executable per network and shape

    def setup(self) -> None:
        """XLA's CPU threads (read when JAX starts its CPU client, on first use), float64, then
        Keras, which must be on JAX."""
        os.environ["XLA_FLAGS"] = xla_flags(os.environ.get("XLA_FLAGS", ""), thread_count())
        jax.config.update("jax_enable_x64", True)
        keras_on(BACKEND)
        if jnp.zeros((), dtype="float64").dtype != np.float64:
            raise RuntimeError("jax_enable_x64 did not take: float64 would compute in float32")

    def threads(self) -> dict[str, int]:
        flags = os.environ.get("XLA_FLAGS", "").split()
        counts = [f.split("=")[1] for f in flags if f.startswith("intra_op_parallelism_threads=")]
        return {"xla_cpu_intra_op": int(counts[-1]) if counts else 0}

    def prepare(
        self,
        f: Callable,
        leaves: Mapping[str, np.ndarray],
        constants: Mapping[str, np.ndarray],
        key: Hashable | None,
        open_axes: Mapping[str, int],
    ) -> Callable[[], tuple[Any, dict[str, Any]]]:
        L = {k: jnp.asarray(v) for k, v in leaves.items()}
        C = {k: jnp.asarray(v) for k, v in constants.items()}
        if key is None:
            differentiated = jax.value_and_grad(f, has_aux=True)
        else:  # compiled once per network and shape, refused if it narrows a float
            signature = tuple((k, v.shape, v.dtype.name) for k, v in (leaves | constants).items())
            if (key, signature) not in self._compiled:
                if key not in self._jitted:
                    self._jitted[key] = jax.jit(
                        jax.value_and_grad(f, has_aux=True), compiler_options=COMPILER_OPTIONS
                    )
                traced = self._jitted[key].trace(L, C)
                narrowed = narrowings(traced.jaxpr.jaxpr)
                if narrowed:
                    raise OracleUnavailable(narrowed_reason(narrowed))
                self._compiled[(key, signature)] = traced.lower().compile()
            differentiated = self._compiled[(key, signature)]

        def thunk():
            (_, aux), grads = differentiated(L, C)
            return aux, grads

        return thunk

    def to_numpy(self, tree: Any) -> Any:
        return map_tree(np.asarray, tree)
