"""Gated recurrent unit, reset applied before the recurrent product (Keras
``GRU(reset_after=False)``, TF 1.x ``GRUCell``), over a whole sequence, forward and
backpropagation through time.

Canonical parameters (row-vector convention, gates r, z, n):
    W_r, W_z, W_n   [I, H]   input weights
    U_r, U_z, U_n   [H, H]   recurrent weights
    b_r, b_z, b_n   [H]      biases
State ``h`` [B, H]; input ``x`` is batch-first [B, T, I].

For each step t:
    r = σ(x_t W_r + h U_r + b_r)                 the reset gate
    z = σ(x_t W_z + h U_z + b_z)                 the update gate
    n = tanh(x_t W_n + (r ∘ h) U_n + b_n)        the candidate: h is reset, then multiplied
    h' = (1 − z) ∘ n + z ∘ h
The outputs are h'_1 … h'_T.

The gate products are fused: the input weights are concatenated to [I, 3H] and the input
projection of every step is one product before the loop. The recurrent products cannot all be
fused, since U_n reads r ∘ h and r needs h U_r first: r and z share one [H, 2H] product, n has
its own. The weight gradients are one product each after the loop.

Two implementations of the same equations:

- ``forward`` / ``backward`` (the registered reference, fast): time-major buffers allocated once
  and worked on in place; inside they hold transposes, columns [features, B] per step, so that
  every gate is a contiguous block of rows, and the backward pass keeps the gradients of the
  pre-activations of every step side by side in columns for the weight products.
- ``forward_readable`` / ``backward_readable``: the same equations in the row-vector layout;
  ``tests/test_fast_reference.py`` checks that both agree to rounding.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .activations import sigmoid, sigmoid_grad, tanh_grad
from .gates import fuse, unfuse

GATES = ("r", "z", "n")


STEP = """
# params: W_r[I,H] W_z[I,H] W_n[I,H] U_r[H,H] U_z[H,H] U_n[H,H] b_r[H] b_z[H] b_n[H]
# states: h[H]
xr = matmul(x_t, W_r)
hr = matmul(h_prev, U_r)
sr = add(xr, hr)
zr = add(sr, b_r)
r = sigmoid(zr)
xz = matmul(x_t, W_z)
hz = matmul(h_prev, U_z)
sz = add(xz, hz)
zz = add(sz, b_z)
z = sigmoid(zz)
rh = schur(r, h_prev)      # the reset before the recurrent product
xn = matmul(x_t, W_n)
rhn = matmul(rh, U_n)
sn = add(xn, rhn)
zn = add(sn, b_n)
n = tanh(zn)
one_minus_z = one_minus(z)
new = schur(one_minus_z, n)
keep = schur(z, h_prev)
h = add(new, keep)
"""


def step_equations(options: Mapping[str, object]) -> str:
    """The step program (``reference_impl/step_program.py``)."""
    return STEP


def forward(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    batch, steps, _ = x.shape
    W, U, b = (fuse(params, p, GATES) for p in ("W", "U", "b"))
    hidden = U.shape[0]
    dtype = np.result_type(x, W, U, b, state0["h"])
    x = np.ascontiguousarray(x.transpose(1, 0, 2))  # time-major [T, B, I]

    # gates[t] is (x_t W + b)ᵀ, then in place the pre-activations, then the gates r z n
    gates = np.empty((steps, 3 * hidden, batch), dtype=dtype)
    np.matmul(W.T, x.transpose(0, 2, 1), out=gates)  # every step's input product, before the loop
    gates += b[:, None]
    r, z, n = np.split(gates, 3, axis=1)  # views [T, H, B]
    U_rz_T = np.ascontiguousarray(U[:, : 2 * hidden].T)  # [2H, H]
    U_n_T = np.ascontiguousarray(U[:, 2 * hidden :].T)  # [H, H]
    h = np.empty((steps + 1, hidden, batch), dtype=dtype)  # h[t] is h_{t-1}ᵀ
    rh = np.empty((steps, hidden, batch), dtype=dtype)  # (r ∘ h_{t-1})ᵀ, what U_n multiplies
    h[0] = state0["h"].T
    rec_rz = np.empty((2 * hidden, batch), dtype=dtype)  # (h_{t-1} [U_r | U_z])ᵀ
    rec_n = np.empty((hidden, batch), dtype=dtype)  # ((r ∘ h_{t-1}) U_n)ᵀ
    for t in range(steps):
        gates[t, : 2 * hidden] += np.matmul(U_rz_T, h[t], out=rec_rz)
        sigmoid(gates[t, : 2 * hidden], out=gates[t, : 2 * hidden])  # r, z
        np.multiply(r[t], h[t], out=rh[t])
        n[t] += np.matmul(U_n_T, rh[t], out=rec_n)
        np.tanh(n[t], out=n[t])
        np.multiply(z[t], h[t], out=h[t + 1])  # h_t = (1 − z) ∘ n + z ∘ h_{t-1}
        h[t + 1] += (1.0 - z[t]) * n[t]

    cache = {"x": x, "h": h, "gates": gates, "rh": rh}
    return h[1:].transpose(2, 0, 1), {"h": h[-1].T}, cache


def backward(
    params: Mapping[str, np.ndarray],
    cache: Mapping[str, np.ndarray],
    d_outputs: np.ndarray,
    d_final: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    x, h, gates, rh = (cache[k] for k in ("x", "h", "gates", "rh"))
    steps, _, batch = gates.shape
    W, U = fuse(params, "W", GATES), fuse(params, "U", GATES)
    hidden = U.shape[0]
    U_rz, U_n = U[:, : 2 * hidden], U[:, 2 * hidden :]
    dtype = gates.dtype
    r, z, n = np.split(gates, 3, axis=1)  # views [T, H, B]

    d_cols = np.empty((3 * hidden, steps, batch), dtype=dtype)  # d J / d pre-activations
    d_pre = np.empty((3 * hidden, batch), dtype=dtype)  # this step's
    dr, dz, dn = np.split(d_pre, 3)  # views [H, B]
    act_grad = np.empty_like(d_pre)  # this step's σ'(·) = s (1 − s) for r z, tanh' = 1 − n²
    d_rh = np.empty((hidden, batch), dtype=dtype)  # d J / d (r ∘ h_{t-1})ᵀ
    dh = np.empty((hidden, batch), dtype=dtype)  # d J / d h_tᵀ
    dh_next = np.array(d_final["h"].T, dtype=dtype)  # d J / d h_t through step t + 1
    for t in reversed(range(steps)):
        np.add(d_outputs[:, t].T, dh_next, out=dh)  # h_t forks: the output and the next step
        np.subtract(1.0, z[t], out=dn)  # d n = dh ∘ (1 − z)
        dn *= dh
        np.subtract(h[t], n[t], out=dz)  # d z = dh ∘ (h_{t-1} − n)
        dz *= dh
        dn *= tanh_grad(n[t], out=act_grad[2 * hidden :])  # through n's tanh
        np.matmul(U_n, dn, out=d_rh)  # U_n reads r ∘ h_{t-1}
        np.multiply(d_rh, h[t], out=dr)
        d_pre[: 2 * hidden] *= sigmoid_grad(gates[t, : 2 * hidden], out=act_grad[: 2 * hidden])
        d_cols[:, t] = d_pre
        # h_{t-1} forks three ways: the r and z products, the reset product r ∘ h, z ∘ h
        np.matmul(U_rz, d_pre[: 2 * hidden], out=dh_next)
        dh_next += d_rh * r[t]
        dh_next += dh * z[t]

    d_cols = d_cols.reshape(3 * hidden, steps * batch)
    h_cols = np.ascontiguousarray(h[:-1].transpose(1, 0, 2)).reshape(hidden, -1)
    rh_cols = np.ascontiguousarray(rh.transpose(1, 0, 2)).reshape(hidden, -1)
    dU_rz = h_cols @ d_cols[: 2 * hidden].T  # r and z read h_{t-1}
    dU_n = rh_cols @ d_cols[2 * hidden :].T  # n reads r ∘ h_{t-1}
    fused = {
        **unfuse(x.reshape(steps * batch, -1).T @ d_cols.T, "W", GATES),  # Σ_t x_tᵀ d_t
        **unfuse(np.concatenate([dU_rz, dU_n], axis=-1), "U", GATES),
        **unfuse(d_cols.sum(axis=1), "b", GATES),
    }
    grads = {name: fused[name] for name in params}
    dx = (W @ d_cols).reshape(-1, steps, batch).transpose(2, 1, 0)  # [B, T, I]
    return grads, dx, {"h": dh_next.T}


def forward_readable(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    batch, steps, _ = x.shape
    U = fuse(params, "U", GATES)
    hidden = U.shape[0]
    U_rz, U_n = U[:, : 2 * hidden], U[:, 2 * hidden :]
    x_proj = x @ fuse(params, "W", GATES) + fuse(params, "b", GATES)  # [B, T, 3H]
    dtype = np.result_type(x_proj, U, state0["h"])

    h = np.empty((batch, steps + 1, hidden), dtype=dtype)  # h[:, t] is h_{t-1}
    gates = np.empty((batch, steps, 3 * hidden), dtype=dtype)
    rh = np.empty((batch, steps, hidden), dtype=dtype)  # r ∘ h_{t-1}, what U_n multiplies
    h[:, 0] = state0["h"]
    for t in range(steps):
        x_rz, x_n = x_proj[:, t, : 2 * hidden], x_proj[:, t, 2 * hidden :]
        r, z = np.split(sigmoid(x_rz + h[:, t] @ U_rz), 2, axis=-1)
        rh[:, t] = r * h[:, t]
        n = np.tanh(x_n + rh[:, t] @ U_n)
        h[:, t + 1] = (1.0 - z) * n + z * h[:, t]
        gates[:, t] = np.concatenate([r, z, n], axis=-1)

    cache = {"x": x, "h": h, "gates": gates, "rh": rh}
    return h[:, 1:], {"h": h[:, -1]}, cache


def backward_readable(
    params: Mapping[str, np.ndarray],
    cache: Mapping[str, np.ndarray],
    d_outputs: np.ndarray,
    d_final: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    x, h, gates, rh = (cache[k] for k in ("x", "h", "gates", "rh"))
    steps = x.shape[1]
    U = fuse(params, "U", GATES)
    hidden = U.shape[0]
    U_rz, U_n = U[:, : 2 * hidden], U[:, 2 * hidden :]
    d_pre = np.empty_like(gates)  # d loss / d pre-activations, all steps

    dh_next = d_final["h"]
    for t in reversed(range(steps)):
        r, z, n = np.split(gates[:, t], 3, axis=-1)
        dh = d_outputs[:, t] + dh_next  # h_t forks: the output and the next step
        dn = dh * (1.0 - z)
        dz = dh * (h[:, t] - n)
        dn_pre = dn * tanh_grad(n)
        d_rh = dn_pre @ U_n.T
        dr = d_rh * h[:, t]
        d_pre[:, t] = np.concatenate([dr * sigmoid_grad(r), dz * sigmoid_grad(z), dn_pre], axis=-1)
        # h_{t-1} forks three ways: the z ∘ h term, the reset product r ∘ h, the r and z products
        dh_next = dh * z + d_rh * r + d_pre[:, t, : 2 * hidden] @ U_rz.T

    d_flat = d_pre.reshape(-1, d_pre.shape[-1])
    h_prev = h[:, :-1].reshape(-1, hidden)
    dU_rz = h_prev.T @ d_flat[:, : 2 * hidden]  # r and z read h_{t-1}
    dU_n = rh.reshape(-1, hidden).T @ d_flat[:, 2 * hidden :]  # n reads r ∘ h_{t-1}
    grads = {
        **unfuse(x.reshape(-1, x.shape[-1]).T @ d_flat, "W", GATES),
        **unfuse(np.concatenate([dU_rz, dU_n], axis=-1), "U", GATES),
        **unfuse(d_flat.sum(axis=0), "b", GATES),
    }
    dx = d_pre @ fuse(params, "W", GATES).T
    return grads, dx, {"h": dh_next}
