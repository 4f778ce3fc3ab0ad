"""Minimal gated unit over a sequence, forward and backpropagation through time.

Canonical parameters (row-vector convention):
    W_f, W_n  [I, H]    input weights of the forget gate and the candidate
    U_f, U_n  [H, H]    recurrent weights
    b_f, b_n  [H]       biases
State ``h`` [B, H]; input ``x`` [B, T, I].

For each step:
    f  = σ(x_t W_f + h U_f + b_f)
    n  = tanh(x_t W_n + (f ∘ h) U_n + b_n)
    h' = (1 − f) ∘ h + f ∘ n
"""

from __future__ import annotations

import numpy as np
from gradparity.reference_impl.activations import sigmoid, sigmoid_grad, tanh_grad


def param_shapes(i, h, options):
    return {"W_f": (i, h), "W_n": (i, h), "U_f": (h, h), "U_n": (h, h), "b_f": (h,), "b_n": (h,)}


def forward(params, x, state0, options):
    batch, steps, _ = x.shape
    hidden = params["U_f"].shape[0]
    x_f = x @ params["W_f"] + params["b_f"]
    x_n = x @ params["W_n"] + params["b_n"]
    h = np.empty((batch, steps + 1, hidden), dtype=x_f.dtype)  # h[:, t] is h_{t-1}
    f = np.empty((batch, steps, hidden), dtype=x_f.dtype)
    n = np.empty_like(f)
    h[:, 0] = state0["h"]
    for t in range(steps):
        f[:, t] = sigmoid(x_f[:, t] + h[:, t] @ params["U_f"])
        n[:, t] = np.tanh(x_n[:, t] + (f[:, t] * h[:, t]) @ params["U_n"])
        h[:, t + 1] = (1 - f[:, t]) * h[:, t] + f[:, t] * n[:, t]
    return h[:, 1:], {"h": h[:, -1]}, {"x": x, "h": h, "f": f, "n": n}


def backward(params, cache, d_outputs, d_final, options):
    x, h, f, n = cache["x"], cache["h"], cache["f"], cache["n"]
    da_f, da_n = np.empty_like(f), np.empty_like(n)  # gradients of the pre-activations
    dh_next = d_final["h"]
    for t in reversed(range(x.shape[1])):
        h_prev, f_t, n_t = h[:, t], f[:, t], n[:, t]
        dh = d_outputs[:, t] + dh_next  # h_t forks: the output and the next step
        df = dh * (n_t - h_prev)
        da_n[:, t] = dh * f_t * tanh_grad(n_t)
        d_fh = da_n[:, t] @ params["U_n"].T
        df += d_fh * h_prev  # f forks: the mix and the product f ∘ h
        da_f[:, t] = df * sigmoid_grad(f_t)
        dh_next = dh * (1 - f_t)  # h_{t-1} forks: the mix, f ∘ h and the gate's product
        dh_next += d_fh * f_t
        dh_next += da_f[:, t] @ params["U_f"].T

    def flat(a):
        return a.reshape(-1, a.shape[-1])

    grads = {
        "W_f": flat(x).T @ flat(da_f),
        "W_n": flat(x).T @ flat(da_n),
        "U_f": flat(h[:, :-1]).T @ flat(da_f),
        "U_n": flat(f * h[:, :-1]).T @ flat(da_n),
        "b_f": flat(da_f).sum(axis=0),
        "b_n": flat(da_n).sum(axis=0),
    }
    dx = da_f @ params["W_f"].T + da_n @ params["W_n"].T
    return grads, dx, {"h": dh_next}
