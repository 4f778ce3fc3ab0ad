"""Minimal gated unit (Zhou, Wu, Zhang and Zhou, "Minimal Gated Unit for Recurrent Neural
Networks", 2016): one gate, which both resets the candidate's recurrent input and updates the
state. Declared only as a step program: its reference (forward and BPTT) and its composed
network in every framework come from these equations.

Canonical parameters (row-vector convention):
    W_f, W_n   [I, H]   input weights of the gate and the candidate
    U_f, U_n   [H, H]   recurrent weights
    b_f, b_n   [H]      biases
State ``h`` [B, H]; input ``x`` is batch-first [B, T, I].

For each step t:
    f  = σ(x_t W_f + h U_f + b_f)
    n  = tanh(x_t W_n + (f ∘ h) U_n + b_n)
    h' = (1 − f) ∘ h + f ∘ n
"""

from __future__ import annotations

from collections.abc import Mapping

STEP = """
# params: W_f[I,H] W_n[I,H] U_f[H,H] U_n[H,H] b_f[H] b_n[H]
# states: h[H]
xf = matmul(x_t, W_f)
hf = matmul(h_prev, U_f)
sf = add(xf, hf)
zf = add(sf, b_f)
f = sigmoid(zf)
fh = schur(f, h_prev)
xn = matmul(x_t, W_n)
fhn = matmul(fh, U_n)
sn = add(xn, fhn)
zn = add(sn, b_n)
n = tanh(zn)
one_minus_f = one_minus(f)
keep = schur(one_minus_f, h_prev)
new = schur(f, n)
h = add(keep, new)
"""


def step_equations(options: Mapping[str, object]) -> str:
    return STEP
