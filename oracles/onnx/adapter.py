"""The ONNX Runtime adapter (``core.framework``): NumPy's primitive table, so that the shared
objective computes the loss from ONNX Runtime's outputs, and no gradients (an inference
runtime). Everything runs in float32: ONNX Runtime's CPU LSTM, GRU and RNN have no float64
kernels, so the case's floating inputs are rounded to float32 once, here, and the results
are float32 (the harness then applies the float32 tolerances, ``core.loop.computed_dtype``)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import onnxruntime
import torch

from gradparity.core.framework import map_tree
from gradparity.core.process import thread_count
from gradparity.reference_impl.primitives import PRIMITIVES

OPS: dict[str, Callable[..., Any]] = {name: p.forward for name, p in PRIMITIVES.items()}
OPS["flip_time"] = lambda t: t[:, ::-1]
OPS["concat"] = lambda ts: np.concatenate(ts, axis=-1)


def as_float32(value: np.ndarray) -> np.ndarray:
    """Floating arrays in float32 (what ONNX Runtime computes in); others unchanged."""
    value = np.asarray(value)
    return value.astype(np.float32) if np.issubdtype(value.dtype, np.floating) else value


class OnnxAdapter:
    name = "onnx"
    ops = OPS

    def setup(self) -> None:
        # The export runs in torch; every session is made with thread_count() intra-op threads
        # and one inter-op thread (cells.session_options).
        if torch.get_num_threads() != thread_count():
            torch.set_num_threads(thread_count())
        onnxruntime.set_default_logger_severity(3)  # errors only

    def threads(self) -> dict[str, int]:
        return {
            "onnxruntime_intra_op": thread_count(),
            "onnxruntime_inter_op": 1,
            "torch": torch.get_num_threads(),
        }

    def prepare(
        self,
        f: Callable,
        leaves: Mapping[str, np.ndarray],
        constants: Mapping[str, np.ndarray],
        key: Hashable | None,
        open_axes: Mapping[str, int],
    ) -> Callable[[], tuple[Any, dict[str, Any]]]:
        L = {k: as_float32(v) for k, v in leaves.items()}
        C = {k: as_float32(v) for k, v in constants.items()}

        def thunk():
            _, aux = f(L, C)
            return aux, {}  # values only: the harness skips every gradient

        return thunk

    def to_numpy(self, tree: Any) -> Any:
        return map_tree(np.asarray, tree)
