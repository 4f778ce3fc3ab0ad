"""The adapter of ``keras_torch`` (``core.framework``): torch's primitive ops (time stepped with a
Python loop, as Keras's own generic loop does on this backend), and torch autograd, eagerly.
The first run of each network is watched (``Narrowings``, a ``TorchFunctionMode``): a network
that Keras computes in part in a narrower float than its inputs is refused
(``backend.narrowed_reason``).
``setup()`` checks that Keras really runs on torch (Keras reads ``KERAS_BACKEND`` once per
process; this oracle's worker sets it, ``Framework.environment``)."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from gradparity.core.errors import OracleUnavailable
from gradparity.core.framework import map_tree
from gradparity.keras.backend import keras_on, narrowed_reason
from gradparity.torch.adapter import TorchAdapter

BACKEND = "torch"


def _tensors(tree: Any) -> list[torch.Tensor]:
    if isinstance(tree, torch.Tensor):
        return [tree]
    if isinstance(tree, dict):
        tree = list(tree.values())
    if isinstance(tree, tuple | list):
        return [t for item in tree for t in _tensors(item)]
    return []


def _caller() -> str:
    """The two innermost frames of Keras's own code on the stack (the cast, and the Keras op
    that casts), as ``function (keras/src/…:line)``."""
    frames = [f for f in reversed(traceback.extract_stack()) if "/keras/src/" in f.filename]
    where = [
        f"{f.name} (keras/src/{f.filename.rsplit('/keras/src/', 1)[1]}:{f.lineno})"
        for f in frames[:2]
    ]
    return " in ".join(where) or "outside Keras"


class Narrowings(TorchFunctionMode):
    """Records every torch function whose floating output is narrower than its widest floating
    input (``found``: ``"float64 -> float32 at <Keras frame>"``)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        inputs = [t for t in _tensors([args, kwargs or {}]) if t.is_floating_point()]
        if inputs:
            widest = max(inputs, key=lambda t: t.dtype.itemsize).dtype
            for out in _tensors(result):
                if out.is_floating_point() and out.dtype.itemsize < widest.itemsize:
                    name = str(widest).removeprefix("torch.")
                    narrow = str(out.dtype).removeprefix("torch.")
                    self.found.append(f"{name} -> {narrow} at {_caller()}")
                    break
        return result


class KerasTorchAdapter(TorchAdapter):
    """The torch oracle's ops, threads and autograd, with Keras's backend checked and the first
    run of each network watched for narrowed floats."""

    name = "keras_torch"

    def __init__(self) -> None:
        self._checked: set[Hashable] = set()  # networks whose forward pass was watched

    def setup(self) -> None:
        super().setup()
        keras_on(BACKEND)

    def prepare(
        self,
        f: Callable,
        leaves: Mapping[str, np.ndarray],
        constants: Mapping[str, np.ndarray],
        key: Hashable | None,
        open_axes: Mapping[str, int],
    ) -> Callable[[], tuple[Any, dict[str, Any]]]:
        def watched(L, C):
            if key is None or key in self._checked:
                return f(L, C)
            with Narrowings() as watch:  # the first run of a network: refused if it narrows
                result = f(L, C)
            if watch.found:
                raise OracleUnavailable(narrowed_reason(watch.found))
            self._checked.add(key)
            return result

        return super().prepare(watched, leaves, constants, key, open_axes)

    def to_numpy(self, tree: Any) -> Any:
        return map_tree(lambda tensor: tensor.detach().cpu().numpy(), tree)
