"""Gated recurrent unit, reset applied after the recurrent product (torch ``nn.GRU``, Keras
``GRU(reset_after=True)``), over a whole sequence, forward and backpropagation through time.

Canonical parameters (row-vector convention, gates r, z, n):
    W_r, W_z, W_n      [I, H]   input weights
    U_r, U_z, U_n      [H, H]   recurrent weights
    bx_r, bx_z, bx_n   [H]      input biases
    bh_r, bh_z, bh_n   [H]      recurrent biases (bh_n sits inside r ∘ (…), so it is not
                                interchangeable with bx_n; the r and z pairs only act as sums)
State ``h`` [B, H]; input ``x`` is batch-first [B, T, I].

For each step t:
    r = σ(x_t W_r + bx_r + h U_r + bh_r)             the reset gate
    z = σ(x_t W_z + bx_z + h U_z + bh_z)             the update gate
    n = tanh(x_t W_n + bx_n + r ∘ (h U_n + bh_n))    the candidate
    h' = (1 − z) ∘ n + z ∘ h
The outputs are h'_1 … h'_T.

The three gate products are fused: the gates' weights are concatenated to [I, 3H] and [H, 3H],
the input projection of every step is one product before the loop, and the weight gradients
are one product each after it. The input side and the recurrent side get separate gradients
of the pre-activations, since they differ in the n block (r multiplies only the recurrent one).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from reference_impl.activations import sigmoid, sigmoid_grad, tanh_grad
from reference_impl.gates import fuse, unfuse

GATES = ("r", "z", "n")


def forward(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    batch, steps, _ = x.shape
    U, bh = fuse(params, "U", GATES), fuse(params, "bh", GATES)
    hidden = U.shape[0]
    x_proj = x @ fuse(params, "W", GATES) + fuse(params, "bx", GATES)  # [B, T, 3H]
    dtype = np.result_type(x_proj, U, bh, state0["h"])

    h = np.empty((batch, steps + 1, hidden), dtype=dtype)  # h[:, t] is h_{t-1}
    gates = np.empty((batch, steps, 3 * hidden), dtype=dtype)
    h_n = np.empty((batch, steps, hidden), dtype=dtype)  # h U_n + bh_n, what r multiplies
    h[:, 0] = state0["h"]
    for t in range(steps):
        x_r, x_z, x_n = np.split(x_proj[:, t], 3, axis=-1)
        rec_r, rec_z, h_n[:, t] = np.split(h[:, t] @ U + bh, 3, axis=-1)
        r, z = sigmoid(x_r + rec_r), sigmoid(x_z + rec_z)
        n = np.tanh(x_n + r * h_n[:, t])
        h[:, t + 1] = (1.0 - z) * n + z * h[:, t]
        gates[:, t] = np.concatenate([r, z, n], axis=-1)

    cache = {"x": x, "h": h, "gates": gates, "h_n": h_n}
    return h[:, 1:], {"h": h[:, -1]}, cache


def backward(
    params: Mapping[str, np.ndarray],
    cache: Mapping[str, np.ndarray],
    d_outputs: np.ndarray,
    d_final: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    x, h, gates, h_n = (cache[k] for k in ("x", "h", "gates", "h_n"))
    steps = x.shape[1]
    U = fuse(params, "U", GATES)
    dx_pre = np.empty_like(gates)  # d loss / d (x W + bx), all steps
    dh_pre = np.empty_like(gates)  # d loss / d (h U + bh), all steps

    dh_next = d_final["h"]
    for t in reversed(range(steps)):
        r, z, n = np.split(gates[:, t], 3, axis=-1)
        dh = d_outputs[:, t] + dh_next  # h_t forks: the output and the next step
        dn = dh * (1.0 - z)
        dz = dh * (h[:, t] - n)
        dn_pre = dn * tanh_grad(n)
        dr = dn_pre * h_n[:, t]  # r multiplies the recurrent product h U_n + bh_n
        dr_pre, dz_pre = dr * sigmoid_grad(r), dz * sigmoid_grad(z)
        dx_pre[:, t] = np.concatenate([dr_pre, dz_pre, dn_pre], axis=-1)
        dh_pre[:, t] = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=-1)
        dh_next = dh * z + dh_pre[:, t] @ U.T  # h_{t-1} forks: the z ∘ h term and the products

    dx_flat = dx_pre.reshape(-1, dx_pre.shape[-1])
    dh_flat = dh_pre.reshape(-1, dh_pre.shape[-1])
    grads = {
        **unfuse(x.reshape(-1, x.shape[-1]).T @ dx_flat, "W", GATES),
        **unfuse(h[:, :-1].reshape(-1, h.shape[-1]).T @ dh_flat, "U", GATES),
        **unfuse(dx_flat.sum(axis=0), "bx", GATES),
        **unfuse(dh_flat.sum(axis=0), "bh", GATES),
    }
    dx = dx_pre @ fuse(params, "W", GATES).T
    return grads, dx, {"h": dh_next}
