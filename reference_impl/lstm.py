"""Long short-term memory over a whole sequence, forward and backpropagation through time.

Canonical parameters (row-vector convention, gates i, f, g, o):
    W_i, W_f, W_g, W_o   [I, H]   input weights
    U_i, U_f, U_g, U_o   [H, H]   recurrent weights
    b_i, b_f, b_g, b_o   [H]      biases
States ``h`` and ``c``, each [B, H]; input ``x`` is batch-first [B, T, I].

For each step t:
    i = σ(x_t W_i + h U_i + b_i)
    f = σ(x_t W_f + h U_f + b_f + forget_bias)       forget_bias: TF 1.x semantics, default 0
    g = tanh(x_t W_g + h U_g + b_g)                  the candidate
    o = σ(x_t W_o + h U_o + b_o)
    c' = f ∘ c + i ∘ g
    h' = o ∘ tanh(c')
The outputs are h'_1 … h'_T.

With a projection (option ``proj_size`` P > 0; torch ``proj_size``, TF 1.x ``num_proj``) the
cell has one more parameter and a narrower h:
    W_p                  [H, P]   projection
    U_i, U_f, U_g, U_o   [P, H]   (they read the projected h)
    h' = (o ∘ tanh(c')) W_p       h is [B, P]; c stays [B, H]

The four gate products are fused: the gates' weights are concatenated to [I, 4H] and [H, 4H],
the input projection of every step is one product before the loop, and the weight gradients
are one product each after it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from reference_impl.activations import sigmoid, sigmoid_grad, tanh_grad
from reference_impl.gates import fuse, unfuse

GATES = ("i", "f", "g", "o")


def forward(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    batch, steps, _ = x.shape
    U = fuse(params, "U", GATES)
    width, hidden = U.shape[0], U.shape[1] // 4  # width: P with a projection, else H
    x_proj = x @ fuse(params, "W", GATES) + fuse(params, "b", GATES)  # [B, T, 4H]

    h = np.empty((batch, steps + 1, width), dtype=x_proj.dtype)  # h[:, t] is h_{t-1}
    c = np.empty((batch, steps + 1, hidden), dtype=x_proj.dtype)
    m = np.empty((batch, steps, hidden), dtype=x_proj.dtype)  # o ∘ tanh(c), before projecting
    gates = np.empty((batch, steps, 4 * hidden), dtype=x_proj.dtype)
    h[:, 0], c[:, 0] = state0["h"], state0["c"]
    for t in range(steps):
        z = x_proj[:, t] + h[:, t] @ U
        z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)
        i, f = sigmoid(z_i), sigmoid(z_f + options["forget_bias"])
        g, o = np.tanh(z_g), sigmoid(z_o)
        c[:, t + 1] = f * c[:, t] + i * g
        m[:, t] = o * np.tanh(c[:, t + 1])
        h[:, t + 1] = m[:, t] @ params["W_p"] if "W_p" in params else m[:, t]
        gates[:, t] = np.concatenate([i, f, g, o], axis=-1)

    cache = {"x": x, "h": h, "c": c, "m": m, "tanh_c": np.tanh(c[:, 1:]), "gates": gates}
    return h[:, 1:], {"h": h[:, -1], "c": c[:, -1]}, cache


def backward(
    params: Mapping[str, np.ndarray],
    cache: Mapping[str, np.ndarray],
    d_outputs: np.ndarray,
    d_final: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    x, h, c, m, tanh_c, gates = (cache[k] for k in ("x", "h", "c", "m", "tanh_c", "gates"))
    steps = x.shape[1]
    U = fuse(params, "U", GATES)
    projected = "W_p" in params
    dz = np.empty_like(gates)  # d loss / d pre-activations, all steps
    dh_all = np.empty_like(h[:, 1:])  # d loss / d h_t, all steps (for the projection)

    dh_next, dc_next = d_final["h"], d_final["c"]
    for t in reversed(range(steps)):
        i, f, g, o = np.split(gates[:, t], 4, axis=-1)
        dh = d_outputs[:, t] + dh_next  # h_t forks: the output and the next step
        dh_all[:, t] = dh
        dm = dh @ params["W_p"].T if projected else dh
        do = dm * tanh_c[:, t]
        dc = dc_next + dm * o * tanh_grad(tanh_c[:, t])  # c_t forks: tanh and the next step
        di, dg, df = dc * g, dc * i, dc * c[:, t]
        dc_next = dc * f
        dz[:, t] = np.concatenate(
            [di * sigmoid_grad(i), df * sigmoid_grad(f), dg * tanh_grad(g), do * sigmoid_grad(o)],
            axis=-1,
        )
        dh_next = dz[:, t] @ U.T

    dz_flat = dz.reshape(-1, dz.shape[-1])
    grads = {
        **unfuse(x.reshape(-1, x.shape[-1]).T @ dz_flat, "W", GATES),
        **unfuse(h[:, :-1].reshape(-1, h.shape[-1]).T @ dz_flat, "U", GATES),
        **unfuse(dz_flat.sum(axis=0), "b", GATES),
    }
    if projected:
        grads["W_p"] = m.reshape(-1, m.shape[-1]).T @ dh_all.reshape(-1, dh_all.shape[-1])
    dx = dz @ fuse(params, "W", GATES).T
    return grads, dx, {"h": dh_next, "c": dc_next}
