"""Elman recurrent network over a whole sequence, forward and backpropagation through time.

Canonical parameters (row-vector convention):
    W  [I, H]   input weights
    U  [H, H]   recurrent weights
    b  [H]      bias
State ``h`` [B, H]; input ``x`` is batch-first [B, T, I]; option ``activation`` is tanh or relu.

For each step t:
    h' = act(x_t W + h U + b)
The outputs are h'_1 … h'_T.

Two implementations of the same equations:

- ``forward`` / ``backward`` (the registered reference, fast): the input projection of every
  step one product before the loop, time-major buffers allocated once and worked on in place.
  Inside they hold transposes, columns [H, B] per step; the backward pass keeps the gradients of
  the pre-activations of every step side by side in columns, so each weight gradient is one
  product after the loop.
- ``forward_readable`` / ``backward_readable``: the same equations in the row-vector layout;
  ``tests/test_fast_reference.py`` checks that both agree to rounding.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .activations import ACTIVATIONS

STEP = """
# params: W[I,H] U[H,H] b[H]
# states: h[H]
xw = matmul(x_t, W)
hu = matmul(h_prev, U)
s = add(xw, hu)
z = add(s, b)
h = {activation}(z)
"""


def step_equations(options: Mapping[str, object]) -> str:
    """The step program (``reference_impl/step_program.py``); ``activation`` is tanh or relu."""
    return STEP.format(activation=options["activation"])


def forward(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    act, _ = ACTIVATIONS[options["activation"]]
    batch, steps, _ = x.shape
    W, U, b = params["W"], params["U"], params["b"]
    hidden = U.shape[0]
    dtype = np.result_type(x, W, U, b, state0["h"])
    x = np.ascontiguousarray(x.transpose(1, 0, 2))  # time-major [T, B, I]

    h = np.empty((steps + 1, hidden, batch), dtype=dtype)  # h[t] is h_{t-1}ᵀ
    np.matmul(W.T, x.transpose(0, 2, 1), out=h[1:])  # (x_t W)ᵀ of every step, before the loop
    h[1:] += b[:, None]
    h[0] = state0["h"].T
    U_T = np.ascontiguousarray(U.T)
    recurrent = np.empty((hidden, batch), dtype=dtype)  # (h_{t-1} U)ᵀ
    for t in range(steps):
        h[t + 1] += np.matmul(U_T, h[t], out=recurrent)  # x_t W + b + h_{t-1} U
        h[t + 1] = act(h[t + 1])

    return h[1:].transpose(2, 0, 1), {"h": h[-1].T}, {"x": x, "h": h}


def backward(
    params: Mapping[str, np.ndarray],
    cache: Mapping[str, np.ndarray],
    d_outputs: np.ndarray,
    d_final: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    _, act_grad = ACTIVATIONS[options["activation"]]
    x, h = cache["x"], cache["h"]
    steps, hidden, batch = h.shape[0] - 1, h.shape[1], h.shape[2]
    U = params["U"]
    dtype = h.dtype
    d_cols = np.empty((hidden, steps, batch), dtype=dtype)  # d J / d pre-activations, all steps
    d_pre = np.empty((hidden, batch), dtype=dtype)  # this step's
    dh = np.empty((hidden, batch), dtype=dtype)  # d J / d h_tᵀ
    dh_next = np.array(d_final["h"].T, dtype=dtype)  # d J / d h_t through step t + 1
    for t in reversed(range(steps)):
        np.add(d_outputs[:, t].T, dh_next, out=dh)  # h_t forks: the output and the next step
        np.multiply(dh, act_grad(h[t + 1]), out=d_pre)
        d_cols[:, t] = d_pre
        np.matmul(U, d_pre, out=dh_next)  # d h_{t-1}

    d_cols = d_cols.reshape(hidden, steps * batch)
    h_cols = np.ascontiguousarray(h[:-1].transpose(1, 0, 2)).reshape(hidden, -1)
    grads = {
        "W": x.reshape(steps * batch, -1).T @ d_cols.T,  # Σ_t x_tᵀ d_t
        "U": h_cols @ d_cols.T,  # Σ_t h_{t-1}ᵀ d_t
        "b": d_cols.sum(axis=1),
    }
    dx = (params["W"] @ d_cols).reshape(-1, steps, batch).transpose(2, 1, 0)  # [B, T, I]
    return grads, dx, {"h": dh_next.T}


def forward_readable(
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


def backward_readable(
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
