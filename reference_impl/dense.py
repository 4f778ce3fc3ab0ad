"""Dense layer ``y = act(x @ W + b)``.

Canonical parameters (row-vector convention):
    W  [I, H]   kernel
    b  [H]      bias
Input ``x`` is [B, I]; option ``activation`` is one of linear, tanh, sigmoid, relu.
A dense layer has no recurrent state, so ``state0`` is an empty dict.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .activations import ACTIVATIONS


def param_shapes(i: int, h: int, options: Mapping[str, object]) -> dict[str, tuple[int, ...]]:
    return {"W": (i, h), "b": (h,)}


def forward(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    act, _ = ACTIVATIONS[options["activation"]]
    y = act(x @ params["W"] + params["b"])
    return y, {}, {"x": x, "y": y}


def backward(
    params: Mapping[str, np.ndarray],
    cache: Mapping[str, np.ndarray],
    d_outputs: np.ndarray,
    d_final: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    _, act_grad = ACTIVATIONS[options["activation"]]
    dz = d_outputs * act_grad(cache["y"])
    grads = {"W": cache["x"].T @ dz, "b": dz.sum(axis=0)}
    return grads, dz @ params["W"].T, {}
