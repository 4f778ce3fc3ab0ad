"""Elman recurrent network over a whole sequence, forward and backpropagation through time.

Canonical parameters (row-vector convention):
    W  [I, H]   input weights
    U  [H, H]   recurrent weights
    b  [H]      bias
State ``h`` [B, H]; input ``x`` is batch-first [B, T, I]; option ``activation`` is tanh or relu.

For each step t:
    h' = act(x_t W + h U + b)
The outputs are h'_1 … h'_T.

The input projection of every step is one product before the loop, and the weight gradients
are one product each after it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from reference_impl.activations import ACTIVATIONS


def forward(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    act, _ = ACTIVATIONS[options["activation"]]
    batch, steps, _ = x.shape
    U = params["U"]
    hidden = U.shape[0]
    x_proj = x @ params["W"] + params["b"]  # [B, T, H]

    h = np.empty((batch, steps + 1, hidden), dtype=np.result_type(x_proj, U, state0["h"]))
    h[:, 0] = state0["h"]  # h[:, t] is h_{t-1}
    for t in range(steps):
        h[:, t + 1] = act(x_proj[:, t] + h[:, t] @ U)

    return h[:, 1:], {"h": h[:, -1]}, {"x": x, "h": h}


def backward(
    params: Mapping[str, np.ndarray],
    cache: Mapping[str, np.ndarray],
    d_outputs: np.ndarray,
    d_final: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    _, act_grad = ACTIVATIONS[options["activation"]]
    x, h = cache["x"], cache["h"]
    steps = x.shape[1]
    U = params["U"]
    d_pre = np.empty_like(h[:, 1:])  # d loss / d pre-activations, all steps

    dh_next = d_final["h"]
    for t in reversed(range(steps)):
        dh = d_outputs[:, t] + dh_next  # h_t forks: the output and the next step
        d_pre[:, t] = dh * act_grad(h[:, t + 1])
        dh_next = d_pre[:, t] @ U.T

    d_flat = d_pre.reshape(-1, d_pre.shape[-1])
    grads = {
        "W": x.reshape(-1, x.shape[-1]).T @ d_flat,
        "U": h[:, :-1].reshape(-1, h.shape[-1]).T @ d_flat,
        "b": d_flat.sum(axis=0),
    }
    dx = d_pre @ params["W"].T
    return grads, dx, {"h": dh_next}
