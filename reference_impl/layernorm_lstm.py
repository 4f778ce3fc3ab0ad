"""Layer-normalized LSTM (TF 1.x contrib ``LayerNormBasicLSTMCell``, layer_norm=True), forward
and backpropagation through time.

Canonical parameters (row-vector convention, gates i, f, g, o as in ``lstm.py``; g is TF's j):
    W_i, W_f, W_g, W_o   [I, H]   input weights  (TF: rows [:I] of ``kernel`` [I+H, 4H])
    U_i, U_f, U_g, U_o   [H, H]   recurrent weights  (TF: rows [I:] of ``kernel``)
    gamma_s, beta_s      [H]      gain and shift of the layer norm of s, for s in
                                  i, f, g, o (TF scopes input, forget, transform, output) and
                                  c (TF scope state, the cell state's normalization)
There is no bias: with layer_norm=True the TF cell has none (beta takes its place).
States ``h`` and ``c``, each [B, H]; input ``x`` is batch-first [B, T, I].

Layer norm over the H features of one gate and one example (biased variance):
    LN_s(v) = (v - mean(v)) / sqrt(var(v) + EPS) ∘ gamma_s + beta_s

For each step t, with z_s = x_t W_s + h U_s:
    i = σ(LN_i(z_i))
    f = σ(LN_f(z_f) + forget_bias)                   forget_bias: default 1.0, as TF
    g = tanh(LN_g(z_g))
    o = σ(LN_o(z_o))
    c' = LN_c(f ∘ c + i ∘ g)                         the normalized c' is the carried state
    h' = tanh(c') ∘ o
The outputs are h'_1 … h'_T.

EPS = 1e-12: the cell's ``_norm`` calls ``tf.contrib.layers.layer_norm(inp, reuse=True,
scope=scope)`` (tensorflow/contrib/rnn/python/ops/rnn_cell.py, class LayerNormBasicLSTMCell,
v1.15.0 L1342-L1463), whose epsilon is fixed, not an argument:
``variance_epsilon = 1e-12 if dtype != dtypes.float16 else 1e-3``
(tensorflow/contrib/layers/python/layers/layers.py, def layer_norm, v1.15.0 L2203-L2333 per
the r1.15 API page's source link, this line L2322, 11 lines before the end; plain
``variance_epsilon = 1e-12`` in earlier revisions), passed to ``nn.batch_normalization`` with
the biased variance of ``nn.moments``.

With H = 1 the layer norm is degenerate (var = 0, LN(v) = beta) and with H = 2 nearly so
(LN(v) = ±gamma + beta whatever v, its derivative O(EPS / var)); with H = 3 or 4 it is now and
then ill-conditioned (tiny variance). The sample cases (gradparity/cells.py) use H >= 6.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .activations import sigmoid, sigmoid_grad, tanh_grad

GATES = ("i", "f", "g", "o")
EPS = 1e-12


def _normalized(v: str, s: str, out: str) -> str:
    """The equations of ``out = LN_s(v)``: mean, variance (biased), rsqrt with EPS, gain, shift."""
    return f"""\
m_{s} = mean({v})
d_{s} = subtract({v}, m_{s})
dd_{s} = square(d_{s})
var_{s} = mean(dd_{s})
var_eps_{s} = add_const(var_{s}, {EPS!r})
r_{s} = rsqrt(var_eps_{s})
n_{s} = schur(d_{s}, r_{s})
scaled_{s} = schur(n_{s}, gamma_{s})
{out} = add(scaled_{s}, beta_{s})
"""


def _gate(s: str) -> str:
    return f"x{s} = matmul(x_t, W_{s})\nh{s} = matmul(h_prev, U_{s})\nz{s} = add(x{s}, h{s})\n"


def step_equations(options: Mapping[str, object]) -> str:
    """The step program (``reference_impl/step_program.py``): each gate's pre-activation and
    the new c through their layer norms, one primitive per equation."""
    header = (
        "# params: " + " ".join(f"W_{g}[I,H] U_{g}[H,H]" for g in GATES) + "\n"
        "# params: " + " ".join(f"gamma_{s}[H] beta_{s}[H]" for s in (*GATES, "c")) + "\n"
        "# states: h[H] c[H]\n"
    )
    gates = "".join(_gate(g) + _normalized(f"z{g}", g, f"y{g}") for g in GATES)
    return (
        header
        + gates
        + "i = sigmoid(yi)\nyf_bias = add_const(yf, forget_bias)\nf = sigmoid(yf_bias)\n"
        + "g = tanh(yg)\no = sigmoid(yo)\n"
        + "fc = schur(f, c_prev)\nig = schur(i, g)\ncs = add(fc, ig)\n"
        + _normalized("cs", "c", "c")
        + "tc = tanh(c)\nh = schur(tc, o)\n"
    )


def layer_norm(v: np.ndarray, gamma: np.ndarray, beta: np.ndarray):
    """LN over the last axis; returns the output and what the backward pass needs (the
    normalized ``n`` and ``r = 1 / sqrt(var + EPS)``). Complex-analytic: no abs, no max."""
    d = v - v.mean(axis=-1, keepdims=True)
    r = 1.0 / np.sqrt((d * d).mean(axis=-1, keepdims=True) + EPS)
    n = d * r
    return n * gamma + beta, n, r


def layer_norm_backward(dy: np.ndarray, gamma: np.ndarray, n: np.ndarray, r: np.ndarray):
    """d loss / d v of ``y = LN(v)`` over the last axis, from dy = d loss / d y.

    With d = v - mean(v), var = mean(d²), r = (var + EPS)^-1/2, n = d r, y = n gamma + beta:
    v reaches y through d directly, through var (the variance term) and through mean(v) (the
    mean term).
    """
    size = n.shape[-1]
    dn = dy * gamma
    dd = dn * r  # direct path, d -> n
    dvar = -0.5 * r**3 * (dn * n / r).sum(axis=-1, keepdims=True)  # n / r = d
    dd = dd + dvar * 2.0 * (n / r) / size  # the variance term: var = mean(d²)
    dmean = -dd.sum(axis=-1, keepdims=True)
    return dd + dmean / size  # the mean term: d = v - mean(v)


def _stacked(params: Mapping[str, np.ndarray], prefix: str) -> np.ndarray:
    return np.stack([params[f"{prefix}_{g}"] for g in GATES])  # [4, H]


def forward(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    state0: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
    batch, steps, _ = x.shape
    U = np.concatenate([params[f"U_{g}"] for g in GATES], axis=-1)  # [H, 4H]
    hidden = U.shape[0]
    x_proj = x @ np.concatenate([params[f"W_{g}"] for g in GATES], axis=-1)  # [B, T, 4H]
    gamma, beta = _stacked(params, "gamma"), _stacked(params, "beta")

    h = np.empty((batch, steps + 1, hidden), dtype=x_proj.dtype)  # h[:, t] is h_{t-1}
    c = np.empty_like(h)  # the carried (normalized) cell states
    gates = np.empty((batch, steps, 4, hidden), dtype=x_proj.dtype)  # i f g o, activated
    n_gates = np.empty_like(gates)
    r_gates = np.empty((batch, steps, 4, 1), dtype=x_proj.dtype)
    n_c = np.empty((batch, steps, hidden), dtype=x_proj.dtype)
    r_c = np.empty((batch, steps, 1), dtype=x_proj.dtype)
    h[:, 0], c[:, 0] = state0["h"], state0["c"]
    for t in range(steps):
        z = (x_proj[:, t] + h[:, t] @ U).reshape(batch, 4, hidden)  # each gate normalized alone
        y, n_gates[:, t], r_gates[:, t] = layer_norm(z, gamma, beta)
        i, f = sigmoid(y[:, 0]), sigmoid(y[:, 1] + options["forget_bias"])
        g, o = np.tanh(y[:, 2]), sigmoid(y[:, 3])
        c[:, t + 1], n_c[:, t], r_c[:, t] = layer_norm(
            f * c[:, t] + i * g, params["gamma_c"], params["beta_c"]
        )
        h[:, t + 1] = np.tanh(c[:, t + 1]) * o
        gates[:, t] = np.stack([i, f, g, o], axis=1)

    cache = {"x": x, "h": h, "c": c, "tanh_c": np.tanh(c[:, 1:]), "gates": gates}
    cache |= {"n_gates": n_gates, "r_gates": r_gates, "n_c": n_c, "r_c": r_c}
    return h[:, 1:], {"h": h[:, -1], "c": c[:, -1]}, cache


def backward(
    params: Mapping[str, np.ndarray],
    cache: Mapping[str, np.ndarray],
    d_outputs: np.ndarray,
    d_final: Mapping[str, np.ndarray],
    options: Mapping[str, object],
) -> tuple[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    x, h, c, tanh_c, gates = (cache[k] for k in ("x", "h", "c", "tanh_c", "gates"))
    n_gates, r_gates, n_c, r_c = (cache[k] for k in ("n_gates", "r_gates", "n_c", "r_c"))
    batch, steps, hidden = h.shape[0], x.shape[1], h.shape[-1]
    U = np.concatenate([params[f"U_{g}"] for g in GATES], axis=-1)
    gamma = _stacked(params, "gamma")
    dy_gates = np.empty_like(gates)  # d loss / d LN outputs of the gates, all steps
    dy_c = np.empty_like(n_c)  # d loss / d LN_c output (the carried c_t), all steps
    dz = np.empty((batch, steps, 4 * hidden), dtype=gates.dtype)  # d loss / d x W + h U

    dh_next, dc_next = d_final["h"], d_final["c"]
    for t in reversed(range(steps)):
        i, f, g, o = (gates[:, t, k] for k in range(4))
        dh = d_outputs[:, t] + dh_next  # h_t forks: the output and the next step
        do = dh * tanh_c[:, t]
        dy_c[:, t] = dc_next + dh * o * tanh_grad(tanh_c[:, t])  # c_t forks: tanh, next step
        dc = layer_norm_backward(dy_c[:, t], params["gamma_c"], n_c[:, t], r_c[:, t])
        di, dg, df = dc * g, dc * i, dc * c[:, t]
        dc_next = dc * f
        dy_gates[:, t] = np.stack(
            [di * sigmoid_grad(i), df * sigmoid_grad(f), dg * tanh_grad(g), do * sigmoid_grad(o)],
            axis=1,
        )
        dz[:, t] = layer_norm_backward(dy_gates[:, t], gamma, n_gates[:, t], r_gates[:, t]).reshape(
            batch, 4 * hidden
        )
        dh_next = dz[:, t] @ U.T

    dz_flat = dz.reshape(-1, 4 * hidden)
    dW = x.reshape(-1, x.shape[-1]).T @ dz_flat
    dU = h[:, :-1].reshape(-1, hidden).T @ dz_flat
    dgamma = (dy_gates * n_gates).sum(axis=(0, 1))  # [4, H]
    dbeta = dy_gates.sum(axis=(0, 1))
    grads = {}
    for k, gate in enumerate(GATES):
        grads[f"W_{gate}"] = dW[:, k * hidden : (k + 1) * hidden]
        grads[f"U_{gate}"] = dU[:, k * hidden : (k + 1) * hidden]
        grads[f"gamma_{gate}"], grads[f"beta_{gate}"] = dgamma[k], dbeta[k]
    grads["gamma_c"] = (dy_c * n_c).sum(axis=(0, 1))
    grads["beta_c"] = dy_c.sum(axis=(0, 1))
    dx = dz @ np.concatenate([params[f"W_{g}"] for g in GATES], axis=-1).T
    return grads, dx, {"h": dh_next, "c": dc_next}
