"""LSTM with a coupled input-forget gate (CIFG; Greff et al., "LSTM: A Search Space Odyssey",
2017): the input gate is one minus the forget gate, so a cell forgets exactly as much as it
writes. Declared only as a step program: its reference (forward and BPTT) and its composed
network in every framework come from these equations.

Canonical parameters (row-vector convention, gates f, g, o):
    W_f, W_g, W_o   [I, H]   input weights
    U_f, U_g, U_o   [H, H]   recurrent weights
    b_f, b_g, b_o   [H]      biases
States ``h`` and ``c``, each [B, H]; input ``x`` is batch-first [B, T, I].

For each step t:
    f = σ(x_t W_f + h U_f + b_f + forget_bias)
    i = 1 − f                                        the coupling
    g = tanh(x_t W_g + h U_g + b_g)
    o = σ(x_t W_o + h U_o + b_o)
    c' = f ∘ c + i ∘ g
    h' = o ∘ tanh(c')
"""

from __future__ import annotations

from collections.abc import Mapping

STEP = """
# params: W_f[I,H] W_g[I,H] W_o[I,H] U_f[H,H] U_g[H,H] U_o[H,H] b_f[H] b_g[H] b_o[H]
# states: h[H] c[H]
xf = matmul(x_t, W_f)
hf = matmul(h_prev, U_f)
sf = add(xf, hf)
zf = add(sf, b_f)
zf_bias = add_const(zf, forget_bias)
f = sigmoid(zf_bias)
i = one_minus(f)               # the coupled input gate
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
h = schur(o, tc)
"""


def step_equations(options: Mapping[str, object]) -> str:
    return STEP
