"""Gated recurrent unit, reset applied after the recurrent product (torch ``nn.GRU``, Keras
``GRU(reset_after=True)``), over a whole sequence, forward and backpropagation through time.

Canonical parameters (row-vector convention, gates r, z, n):
    W_r, W_z, W_n      [I, H]   input weights
    U_r, U_z, U_n      [H, H]   recurrent weights
    bx_r, bx_z, bx_n   [H]      input biases
    bh_r, bh_z, bh_n   [H]      recurrent biases (bh_n sits inside r ∘ (…), so it is not
                                interchangeable with bx_n; the r and z pairs only act as sums)
State ``h`` [B, H]; input ``x`` is batch-first [B, T, I].

Option ``hidden_n_bias`` (default True): False drops ``bh_n`` (the cell then has no bias inside
r ∘ (…): Flax NNX's ``GRUCell``, whose docstring says otherwise, google/flax#5594).

For each step t:
    r = σ(x_t W_r + bx_r + h U_r + bh_r)             the reset gate
    z = σ(x_t W_z + bx_z + h U_z + bh_z)             the update gate
    n = tanh(x_t W_n + bx_n + r ∘ (h U_n + bh_n))    the candidate
    h' = (1 − z) ∘ n + z ∘ h
The outputs are h'_1 … h'_T.

Two implementations of the same equations:

- ``forward`` / ``backward`` (the registered reference, fast): the gates' weights concatenated
  to [I, 3H] and [H, 3H], the input projection of every step one product before the loop, one
  recurrent product per step, time-major buffers allocated once and worked on in place. Inside
  they hold transposes, columns [features, B] per step (z_tᵀ = Wᵀ x_tᵀ + …), so that every
  gate is a contiguous block of rows. The backward pass keeps the gradients of the
  pre-activations of every step side by side in columns, so each weight gradient is one product
  after the loop.
- ``forward_readable`` / ``backward_readable``: the same equations, written step by step with
  the gates split apart; ``tests/test_fast_reference.py`` checks that both agree to rounding.

Both give the input side and the recurrent side separate gradients of the pre-activations,
since they differ in the n block (r multiplies only the recurrent one).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .activations import sigmoid, sigmoid_grad, tanh_grad
from .gates import fuse, unfuse

GATES = ("r", "z", "n")


STEP = """
# params: W_r[I,H] W_z[I,H] W_n[I,H] U_r[H,H] U_z[H,H] U_n[H,H]
# params: bx_r[H] bx_z[H] bx_n[H] bh_r[H] bh_z[H] {bh_n}
# states: h[H]
xr = matmul(x_t, W_r)
xr_b = add(xr, bx_r)
hr = matmul(h_prev, U_r)
hr_b = add(hr, bh_r)
zr = add(xr_b, hr_b)
r = sigmoid(zr)
xz = matmul(x_t, W_z)
xz_b = add(xz, bx_z)
hz = matmul(h_prev, U_z)
hz_b = add(hz, bh_z)
zz = add(xz_b, hz_b)
z = sigmoid(zz)
xn = matmul(x_t, W_n)
xn_b = add(xn, bx_n)
hn = matmul(h_prev, U_n)
{hidden_n}
zn = add(xn_b, r_hn)
n = tanh(zn)
one_minus_z = one_minus(z)
new = schur(one_minus_z, n)
keep = schur(z, h_prev)
h = add(new, keep)
"""


HIDDEN_N = """hn_b = add(hn, bh_n)
r_hn = schur(r, hn_b)      # the reset after the recurrent product, bh_n inside"""
NO_HIDDEN_N = "r_hn = schur(r, hn)      # the reset after the recurrent product, no bh_n"


def step_equations(options: Mapping[str, object]) -> str:
    """The step program (``reference_impl/step_program.py``)."""
    if options.get("hidden_n_bias", True):
        return STEP.format(bh_n="bh_n[H]", hidden_n=HIDDEN_N)
    return STEP.format(bh_n="", hidden_n=NO_HIDDEN_N)


def hidden_biases(params: Mapping[str, np.ndarray]) -> np.ndarray:
    """[bh_r | bh_z | bh_n], with zeros for an absent bh_n (``hidden_n_bias=False``)."""
    bh_n = params.get("bh_n")
    zeros = np.zeros_like(params["bh_r"])
    return fuse({**params, "bh_n": zeros if bh_n is None else bh_n}, "bh", GATES)


def forward(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    batch, steps, _ = x.shape
    W, U, bx = (fuse(params, p, GATES) for p in ("W", "U", "bx"))
    bh = hidden_biases(params)
    hidden = U.shape[0]
    dtype = np.result_type(x, W, U, bx, bh, state0["h"])
    x = np.ascontiguousarray(x.transpose(1, 0, 2))  # time-major [T, B, I]

    # gates[t] is (x_t W + bx)ᵀ, then in place the pre-activations, then the gates r z n
    gates = np.empty((steps, 3 * hidden, batch), dtype=dtype)
    np.matmul(W.T, x.transpose(0, 2, 1), out=gates)  # every step's input product, before the loop
    gates += bx[:, None]
    r, z, n = np.split(gates, 3, axis=1)  # views [T, H, B]
    U_T, bh = np.ascontiguousarray(U.T), bh[:, None]  # [3H, H], [3H, 1]
    h = np.empty((steps + 1, hidden, batch), dtype=dtype)  # h[t] is h_{t-1}ᵀ
    h_n = np.empty((steps, hidden, batch), dtype=dtype)  # (h_{t-1} U_n + bh_n)ᵀ: r multiplies it
    h[0] = state0["h"].T
    recurrent = np.empty((3 * hidden, batch), dtype=dtype)  # (h_{t-1} U + bh)ᵀ
    for t in range(steps):
        np.matmul(U_T, h[t], out=recurrent)
        recurrent += bh
        gates[t, : 2 * hidden] += recurrent[: 2 * hidden]
        sigmoid(gates[t, : 2 * hidden], out=gates[t, : 2 * hidden])  # r, z
        h_n[t] = recurrent[2 * hidden :]
        n[t] += r[t] * h_n[t]
        np.tanh(n[t], out=n[t])
        np.multiply(z[t], h[t], out=h[t + 1])  # h_t = (1 − z) ∘ n + z ∘ h_{t-1}
        h[t + 1] += (1.0 - z[t]) * n[t]

    cache = {"x": x, "h": h, "gates": gates, "h_n": h_n}
    return h[1:].transpose(2, 0, 1), {"h": h[-1].T}, cache


def backward(
    params: Mapping[str, np.ndarray],
    cache: Mapping[str, np.ndarray],
    d_outputs: np.ndarray,
    d_final: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    x, h, gates, h_n = (cache[k] for k in ("x", "h", "gates", "h_n"))
    steps, _, batch = gates.shape
    W, U = fuse(params, "W", GATES), fuse(params, "U", GATES)
    hidden = U.shape[0]
    dtype = gates.dtype
    r, z, n = np.split(gates, 3, axis=1)  # views [T, H, B]

    # d J / d pre-activations of every step, side by side in columns (t, b): the input side
    # (x_t W + bx) and the recurrent side (h_{t-1} U + bh), which differ in the n block
    dx_cols = np.empty((3 * hidden, steps, batch), dtype=dtype)
    dh_cols = np.empty((3 * hidden, steps, batch), dtype=dtype)
    dx_pre = np.empty((3 * hidden, batch), dtype=dtype)  # this step's, input side
    dr, dz, dn = np.split(dx_pre, 3)  # views [H, B]
    dh_pre = np.empty((3 * hidden, batch), dtype=dtype)  # this step's, recurrent side
    act_grad = np.empty_like(dx_pre)  # this step's σ'(·) = s (1 − s) for r z, tanh' = 1 − n²
    dh = np.empty((hidden, batch), dtype=dtype)  # d J / d h_tᵀ
    dh_next = np.array(d_final["h"].T, dtype=dtype)  # d J / d h_t through step t + 1
    for t in reversed(range(steps)):
        np.add(d_outputs[:, t].T, dh_next, out=dh)  # h_t forks: the output and the next step
        np.subtract(1.0, z[t], out=dn)  # d n = dh ∘ (1 − z)
        dn *= dh
        np.subtract(h[t], n[t], out=dz)  # d z = dh ∘ (h_{t-1} − n)
        dz *= dh
        dn *= tanh_grad(n[t], out=act_grad[2 * hidden :])  # through n's tanh
        np.multiply(dn, h_n[t], out=dr)  # d r: r multiplies h_{t-1} U_n + bh_n
        dx_pre[: 2 * hidden] *= sigmoid_grad(gates[t, : 2 * hidden], out=act_grad[: 2 * hidden])
        dh_pre[: 2 * hidden] = dx_pre[: 2 * hidden]  # r and z: one sum of both sides
        np.multiply(dn, r[t], out=dh_pre[2 * hidden :])  # n: r multiplies the recurrent side
        dx_cols[:, t], dh_cols[:, t] = dx_pre, dh_pre
        # h_{t-1} forks: the recurrent products and z ∘ h_{t-1}
        np.matmul(U, dh_pre, out=dh_next)
        dh_next += dh * z[t]

    dx_cols = dx_cols.reshape(3 * hidden, steps * batch)
    dh_cols = dh_cols.reshape(3 * hidden, steps * batch)
    h_cols = np.ascontiguousarray(h[:-1].transpose(1, 0, 2)).reshape(hidden, -1)
    fused = {
        **unfuse(x.reshape(steps * batch, -1).T @ dx_cols.T, "W", GATES),  # Σ_t x_tᵀ d(x W)
        **unfuse(h_cols @ dh_cols.T, "U", GATES),  # Σ_t h_{t-1}ᵀ d(h U)
        **unfuse(dx_cols.sum(axis=1), "bx", GATES),
        **unfuse(dh_cols.sum(axis=1), "bh", GATES),
    }
    grads = {name: fused[name] for name in params}
    dx = (W @ dx_cols).reshape(-1, steps, batch).transpose(2, 1, 0)  # [B, T, I]
    return grads, dx, {"h": dh_next.T}


def forward_readable(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    batch, steps, _ = x.shape
    U, bh = fuse(params, "U", GATES), hidden_biases(params)
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


def backward_readable(
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
    grads = {name: grads[name] for name in params}  # without bh_n when the cell has none
    dx = dx_pre @ fuse(params, "W", GATES).T
    return grads, dx, {"h": dh_next}
