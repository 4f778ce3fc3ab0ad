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

Two implementations of the same equations:

- ``forward`` / ``backward``, the registered reference (fast). The gates' weights are
  concatenated in the block order i f o g (the three sigmoid gates side by side, so one sigmoid
  call covers them); the input product of every step is one product before the loop, the
  recurrent one is one product per step. Buffers are allocated once, time-major, and worked on
  in place. Inside, they hold transposes: column vectors [features, B] per step
  (z_tᵀ = Wᵀ x_tᵀ + Uᵀ h_{t-1}ᵀ + bᵀ), so that each gate is a contiguous block of rows (NumPy's
  element-wise loops are several times slower on strided blocks). The backward pass keeps
  d J / d z_t of every step side by side in columns, so each weight gradient is one product
  after the loop.
- ``forward_readable`` / ``backward_readable``: the same equations in the row-vector layout
  above, gate by gate; ``tests/test_fast_reference.py`` checks that both agree to rounding.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .activations import sigmoid, sigmoid_grad, tanh_grad
from .gates import fuse, unfuse

GATES = ("i", "f", "g", "o")  # the canonical order (torch's, Keras')
FUSED = ("i", "f", "o", "g")  # the fast path's block order: the sigmoid gates, then tanh


STEP = """
# params: W_i[I,H] W_f[I,H] W_g[I,H] W_o[I,H] U_i[{w},H] U_f[{w},H] U_g[{w},H] U_o[{w},H]
# params: b_i[H] b_f[H] b_g[H] b_o[H] {projection}
# states: h[{w}] c[H]
xi = matmul(x_t, W_i)
hi = matmul(h_prev, U_i)
si = add(xi, hi)
zi = add(si, b_i)
i = sigmoid(zi)
xf = matmul(x_t, W_f)
hf = matmul(h_prev, U_f)
sf = add(xf, hf)
zf = add(sf, b_f)
zf_bias = add_const(zf, forget_bias)
f = sigmoid(zf_bias)
xg = matmul(x_t, W_g)
hg = matmul(h_prev, U_g)
sg = add(xg, hg)
zg = add(sg, b_g)
g = tanh(zg)
xo = matmul(x_t, W_o)
ho = matmul(h_prev, U_o)
so = add(xo, ho)
zo = add(so, b_o)
o = sigmoid(zo)
fc = schur(f, c_prev)
ig = schur(i, g)
c = add(fc, ig)
tc = tanh(c)
"""
UNPROJECTED = "h = schur(o, tc)\n"
PROJECTED = "m = schur(o, tc)\nh = matmul(m, W_p)\n"


def step_equations(options: Mapping[str, object]) -> str:
    """The step program (``reference_impl/step_program.py``): the equations above, one
    primitive each; with a projection h is P wide."""
    if options.get("proj_size", 0):
        return STEP.format(w="proj_size", projection="W_p[H,proj_size]") + PROJECTED
    return STEP.format(w="H", projection="") + UNPROJECTED


def forward(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    batch, steps, _ = x.shape
    W, U, b = (fuse(params, p, FUSED) for p in ("W", "U", "b"))
    width, hidden = U.shape[0], U.shape[1] // 4  # width: P with a projection, else H
    projected = "W_p" in params
    extra = (params["W_p"],) if projected else ()
    dtype = np.result_type(x, W, U, b, state0["h"], state0["c"], *extra)
    b = b.astype(dtype)  # a copy: forget_bias is added to it, inside the f sigmoid
    b[hidden : 2 * hidden] += options["forget_bias"]
    x = np.ascontiguousarray(x.transpose(1, 0, 2))  # time-major [T, B, I]

    # gates[t] is (x_t W + b)ᵀ, then in place the pre-activations z_tᵀ, then the gates i f o g
    gates = np.empty((steps, 4 * hidden, batch), dtype=dtype)
    np.matmul(W.T, x.transpose(0, 2, 1), out=gates)  # every step's input product, before the loop
    gates += b[:, None]
    U_T = np.ascontiguousarray(U.T)  # [4H, W]: z_tᵀ = Wᵀ x_tᵀ + Uᵀ h_{t-1}ᵀ + bᵀ
    i, f, o, g = np.split(gates, 4, axis=1)  # views [T, H, B]
    h = np.empty((steps + 1, width, batch), dtype=dtype)  # h[t] is h_{t-1}ᵀ
    c = np.empty((steps + 1, hidden, batch), dtype=dtype)  # c[t] is c_{t-1}ᵀ
    tanh_c = np.empty((steps, hidden, batch), dtype=dtype)  # tanh(c_t)ᵀ
    m = np.empty((steps, hidden, batch), dtype=dtype) if projected else h[1:]  # o ∘ tanh(c_t)
    h[0], c[0] = state0["h"].T, state0["c"].T
    recurrent = np.empty((4 * hidden, batch), dtype=dtype)  # (h_{t-1} U)ᵀ
    ig = np.empty((hidden, batch), dtype=dtype)  # i ∘ g
    for t in range(steps):
        gates[t] += np.matmul(U_T, h[t], out=recurrent)  # z = x_t W + b + h_{t-1} U
        sigmoid(gates[t, : 3 * hidden], out=gates[t, : 3 * hidden])  # i, f, o
        np.tanh(g[t], out=g[t])
        np.multiply(f[t], c[t], out=c[t + 1])  # c_t = f ∘ c_{t-1} + i ∘ g
        c[t + 1] += np.multiply(i[t], g[t], out=ig)
        np.tanh(c[t + 1], out=tanh_c[t])
        np.multiply(o[t], tanh_c[t], out=m[t])  # h_t = o ∘ tanh(c_t)   (then W_p)
        if projected:
            np.matmul(params["W_p"].T, m[t], out=h[t + 1])

    cache = {"x": x, "h": h, "c": c, "tanh_c": tanh_c, "gates": gates}
    if projected:
        cache["m"] = m
    outputs = h[1:].transpose(2, 0, 1)  # [B, T, W]
    return outputs, {"h": h[-1].T, "c": c[-1].T}, cache


def backward(
    params: Mapping[str, np.ndarray],
    cache: Mapping[str, np.ndarray],
    d_outputs: np.ndarray,
    d_final: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    x, h, c, tanh_c, gates = (cache[k] for k in ("x", "h", "c", "tanh_c", "gates"))
    steps, _, batch = gates.shape
    W, U = fuse(params, "W", FUSED), fuse(params, "U", FUSED)
    width, hidden = U.shape[0], U.shape[1] // 4
    projected = "W_p" in params
    dtype = gates.dtype
    i, f, o, g = np.split(gates, 4, axis=1)  # views [T, H, B]

    # d J / d z_tᵀ of every step, side by side in columns (t, b) for the weight products
    dz_cols = np.empty((4 * hidden, steps, batch), dtype=dtype)
    dz = np.empty((4 * hidden, batch), dtype=dtype)  # this step's d J / d z_tᵀ
    dz_i, dz_f, dz_o, dz_g = np.split(dz, 4)  # views [H, B]
    act_grad = np.empty_like(dz)  # this step's σ'(z) = s (1 − s) for i f o, tanh'(z) = 1 − g²
    dh = np.empty((width, batch), dtype=dtype)  # d J / d h_tᵀ
    dh_all = np.empty((steps, width, batch), dtype=dtype) if projected else None
    dm = np.empty((hidden, batch), dtype=dtype) if projected else dh  # d J / d (o ∘ tanh c_t)ᵀ
    dh_next = np.array(d_final["h"].T, dtype=dtype)  # d J / d h_t through step t + 1
    dc = np.array(d_final["c"].T, dtype=dtype)  # d J / d c_t, accumulated in place
    for t in reversed(range(steps)):
        np.add(d_outputs[:, t].T, dh_next, out=dh)  # h_t forks: the output and the next step
        if projected:
            dh_all[t] = dh
            np.matmul(params["W_p"], dh, out=dm)  # h_t = m_t W_p
        np.multiply(dm, tanh_c[t], out=dz_o)  # d o
        dc += dm * o[t] * tanh_grad(tanh_c[t])  # c_t forks: tanh(c_t) and the next step
        np.multiply(dc, g[t], out=dz_i)  # d i
        np.multiply(dc, c[t], out=dz_f)  # d f
        np.multiply(dc, i[t], out=dz_g)  # d g
        dc *= f[t]  # d c_{t-1}: c_{t-1} reaches c_t through f
        sigmoid_grad(gates[t, : 3 * hidden], out=act_grad[: 3 * hidden])
        tanh_grad(g[t], out=act_grad[3 * hidden :])
        dz *= act_grad  # through the activations: d z_t
        dz_cols[:, t] = dz
        np.matmul(U, dz, out=dh_next)  # d h_{t-1}: h_{t-1} feeds every gate's product

    dz_cols = dz_cols.reshape(4 * hidden, steps * batch)
    h_cols = np.ascontiguousarray(h[:-1].transpose(1, 0, 2)).reshape(width, -1)
    fused = {
        **unfuse(x.reshape(steps * batch, -1).T @ dz_cols.T, "W", FUSED),  # Σ_t x_tᵀ dz_t
        **unfuse(h_cols @ dz_cols.T, "U", FUSED),  # Σ_t h_{t-1}ᵀ dz_t
        **unfuse(dz_cols.sum(axis=1), "b", FUSED),
    }
    grads = {name: fused[name] for name in params if name != "W_p"}
    if projected:
        m_cols = np.ascontiguousarray(cache["m"].transpose(1, 0, 2)).reshape(hidden, -1)
        dh_cols = np.ascontiguousarray(dh_all.transpose(1, 0, 2)).reshape(width, -1)
        grads["W_p"] = m_cols @ dh_cols.T  # Σ_t m_tᵀ dh_t
    dx = (W @ dz_cols).reshape(-1, steps, batch).transpose(2, 1, 0)  # [B, T, I]
    return grads, dx, {"h": dh_next.T, "c": dc.T}


def forward_readable(
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


def backward_readable(
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
