"""LSTM with peephole connections (TF 1.x ``LSTMCell(use_peepholes=True)``), forward and BPTT.

Canonical parameters (row-vector convention, gates i, f, g, o as in ``lstm.py``):
    W_i, W_f, W_g, W_o   [I, H]   input weights
    U_i, U_f, U_g, U_o   [H, H]   recurrent weights
    b_i, b_f, b_g, b_o   [H]      biases
    peepholes="diagonal" (default, TF 1.x):  p_i, p_f, p_o   [H]      w_*_diag
    peepholes="matrix"   (the seed slides):  P_i, P_f, P_o   [H, H]
States ``h`` and ``c``, each [B, H]; input ``x`` is batch-first [B, T, I].

For each step t, with z_s = x_t W_s + h U_s + b_s:

    diagonal (TF 1.x rnn_cell_impl.LSTMCell.call, Sak et al. 2014):
        i = σ(z_i + p_i ∘ c)
        f = σ(z_f + forget_bias + p_f ∘ c)
        g = tanh(z_g)
        c' = clip(f ∘ c + i ∘ g)
        o = σ(z_o + p_o ∘ c')                        o reads the NEW (clipped) cell state
    matrix (seed 002, equations 1-31: f, i and o all read C_{t-1} through W_fC, W_iC, W_oC):
        i = σ(z_i + c P_i)
        f = σ(z_f + forget_bias + c P_f)
        g = tanh(z_g)                                (the slides' σ here is a slip)
        c' = clip(f ∘ c + i ∘ g)
        o = σ(z_o + c P_o)                           o reads the PREVIOUS cell state
    h' = o ∘ tanh(c')

Options: ``forget_bias`` (default 1.0, TF 1.x), ``cell_clip`` (default 0.0: no clipping; a value
> 0 clips c' element-wise to [-cell_clip, cell_clip] before the output, and the clipped c' is the
carried state, as TF does), ``peepholes`` ("diagonal" or "matrix"). The outputs are h'_1 … h'_T.

Clipping is not complex-analytic; it takes its mask from the real part, so the complex-step
oracle still differentiates it exactly away from the boundary (derivative 1 inside, 0 where
clipped). At the boundary the derivative is taken as 1, as TF's ``clip_by_value`` does.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .activations import sigmoid, sigmoid_grad, tanh_grad
from .gates import fuse, unfuse

GATES = ("i", "f", "g", "o")
PEEPHOLE_GATES = ("i", "f", "o")


def step_equations(options: Mapping[str, object]) -> str:
    """The step program (``reference_impl/step_program.py``) of the chosen peephole form."""
    matrix = options["peepholes"] == "matrix"
    peep = {
        g: (
            f"matmul(c_prev, P_{g})" if matrix else f"schur(p_{g}, {'c' if g == 'o' else 'c_prev'})"
        )
        for g in PEEPHOLE_GATES
    }
    lines = [
        "# params: " + " ".join(f"W_{g}[I,H] U_{g}[H,H] b_{g}[H]" for g in GATES),
        "# params: " + " ".join(f"P_{g}[H,H]" if matrix else f"p_{g}[H]" for g in PEEPHOLE_GATES),
        "# states: h[H] c[H]",
    ]
    for g in GATES:
        lines += [f"x{g} = matmul(x_t, W_{g})", f"h{g} = matmul(h_prev, U_{g})"]
        lines += [f"s{g} = add(x{g}, h{g})", f"z{g} = add(s{g}, b_{g})"]
    lines += [
        f"pi = {peep['i']}",
        "zpi = add(zi, pi)",
        "i = sigmoid(zpi)",
        "zf_bias = add_const(zf, forget_bias)",
        f"pf = {peep['f']}",
        "zpf = add(zf_bias, pf)",
        "f = sigmoid(zpf)",
        "g = tanh(zg)",
        "fc = schur(f, c_prev)",
        "ig = schur(i, g)",
        "c_unclipped = add(fc, ig)",
        "c = clip(c_unclipped, cell_clip)  # no clip when cell_clip <= 0",
        f"po = {peep['o']}  # diagonal: the new c; matrix: c_prev",
        "zpo = add(zo, po)",
        "o = sigmoid(zpo)",
        "tc = tanh(c)",
        "h = schur(o, tc)",
    ]
    return "\n".join(lines) + "\n"


def _clip(c: np.ndarray, clip: float) -> tuple[np.ndarray, np.ndarray]:
    """``c`` clipped to [-clip, clip] by its real part (clip <= 0: unchanged), and the mask of
    the elements that were not clipped (the derivative of the clip)."""
    if clip <= 0:
        return c, np.ones(c.shape, dtype=c.real.dtype)
    inside = (c.real >= -clip) & (c.real <= clip)
    clipped = np.where(c.real > clip, clip, np.where(c.real < -clip, -clip, c))
    return clipped, inside.astype(c.real.dtype)


def forward(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    batch, steps, _ = x.shape
    matrix = options["peepholes"] == "matrix"
    U = fuse(params, "U", GATES)
    hidden = U.shape[0]
    x_proj = x @ fuse(params, "W", GATES) + fuse(params, "b", GATES)  # [B, T, 4H]
    if matrix:
        P = fuse(params, "P", PEEPHOLE_GATES)  # [H, 3H]: c_prev @ P = [c P_i | c P_f | c P_o]
    else:
        p_i, p_f, p_o = (params[f"p_{g}"] for g in PEEPHOLE_GATES)

    h = np.empty((batch, steps + 1, hidden), dtype=x_proj.dtype)  # h[:, t] is h_{t-1}
    c = np.empty_like(h)
    gates = np.empty((batch, steps, 4 * hidden), dtype=x_proj.dtype)
    mask = np.empty((batch, steps, hidden), dtype=x_proj.real.dtype)  # d clip / d c (0 or 1)
    h[:, 0], c[:, 0] = state0["h"], state0["c"]
    for t in range(steps):
        c_prev = c[:, t]
        z_i, z_f, z_g, z_o = np.split(x_proj[:, t] + h[:, t] @ U, 4, axis=-1)
        if matrix:
            peep_i, peep_f, peep_o = np.split(c_prev @ P, 3, axis=-1)
        else:
            peep_i, peep_f = p_i * c_prev, p_f * c_prev
        i = sigmoid(z_i + peep_i)
        f = sigmoid(z_f + options["forget_bias"] + peep_f)
        g = np.tanh(z_g)
        c[:, t + 1], mask[:, t] = _clip(f * c_prev + i * g, options["cell_clip"])
        if not matrix:
            peep_o = p_o * c[:, t + 1]  # the output gate peeks at the new cell state
        o = sigmoid(z_o + peep_o)
        h[:, t + 1] = o * np.tanh(c[:, t + 1])
        gates[:, t] = np.concatenate([i, f, g, o], axis=-1)

    cache = {"x": x, "h": h, "c": c, "tanh_c": np.tanh(c[:, 1:]), "gates": gates, "mask": mask}
    return h[:, 1:], {"h": h[:, -1], "c": c[:, -1]}, cache


def backward(
    params: Mapping[str, np.ndarray],
    cache: Mapping[str, np.ndarray],
    d_outputs: np.ndarray,
    d_final: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    x, h, c, tanh_c, gates, mask = (cache[k] for k in ("x", "h", "c", "tanh_c", "gates", "mask"))
    steps, hidden = x.shape[1], h.shape[-1]
    matrix = options["peepholes"] == "matrix"
    U = fuse(params, "U", GATES)
    if matrix:
        P = fuse(params, "P", PEEPHOLE_GATES)
    else:
        p_i, p_f, p_o = (params[f"p_{g}"] for g in PEEPHOLE_GATES)
    dz = np.empty_like(gates)  # d loss / d gate pre-activations, all steps

    dh_next, dc_next = d_final["h"], d_final["c"]
    for t in reversed(range(steps)):
        i, f, g, o = np.split(gates[:, t], 4, axis=-1)
        dh = d_outputs[:, t] + dh_next  # h_t forks: the output and the next step
        dz_o = dh * tanh_c[:, t] * sigmoid_grad(o)
        # c_t forks: tanh (into h_t), the next step, and (diagonal) the output gate's peephole
        dc = dc_next + dh * o * tanh_grad(tanh_c[:, t])
        if not matrix:
            dc = dc + dz_o * p_o
        dc = dc * mask[:, t]  # through the clip
        dz_i = dc * g * sigmoid_grad(i)
        dz_f = dc * c[:, t] * sigmoid_grad(f)
        dz_g = dc * i * tanh_grad(g)
        dz[:, t] = np.concatenate([dz_i, dz_f, dz_g, dz_o], axis=-1)
        # c_{t-1} forks: the product with f, and the peepholes of i and f (and o for matrix)
        if matrix:
            dc_peep = np.concatenate([dz_i, dz_f, dz_o], axis=-1) @ P.T
        else:
            dc_peep = dz_i * p_i + dz_f * p_f
        dc_next = dc * f + dc_peep
        dh_next = dz[:, t] @ U.T

    dz_flat = dz.reshape(-1, dz.shape[-1])
    grads = {
        **unfuse(x.reshape(-1, x.shape[-1]).T @ dz_flat, "W", GATES),
        **unfuse(h[:, :-1].reshape(-1, hidden).T @ dz_flat, "U", GATES),
        **unfuse(dz_flat.sum(axis=0), "b", GATES),
    }
    dz_i, dz_f, _, dz_o = np.split(dz, 4, axis=-1)
    c_prev, c_new = c[:, :-1], c[:, 1:]
    if matrix:
        d_peep = np.concatenate([dz_i, dz_f, dz_o], axis=-1).reshape(-1, 3 * hidden)
        grads |= unfuse(c_prev.reshape(-1, hidden).T @ d_peep, "P", PEEPHOLE_GATES)
    else:
        grads["p_i"] = (dz_i * c_prev).sum(axis=(0, 1))
        grads["p_f"] = (dz_f * c_prev).sum(axis=(0, 1))
        grads["p_o"] = (dz_o * c_new).sum(axis=(0, 1))  # o peeked at the new cell state
    dx = dz @ fuse(params, "W", GATES).T
    return grads, dx, {"h": dh_next, "c": dc_next}
