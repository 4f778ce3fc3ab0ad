"""The light GRU's step: no reset gate, a ReLU candidate (Ravanelli et al., 2018; biases in
place of the paper's batch normalization).

Canonical parameters (row-vector convention):
    W_z, W_n   [I, H]   input weights of the update gate and the candidate
    U_z, U_n   [H, H]   recurrent weights
    b_z, b_n   [H]      biases
State ``h`` [B, H]; input ``x`` [B, T, I].

    z  = σ(x_t W_z + h U_z + b_z)
    n  = ReLU(x_t W_n + h U_n + b_n)
    h' = z ∘ h + (1 − z) ∘ n
"""

STEP = """
# params: W_z[I,H] W_n[I,H] U_z[H,H] U_n[H,H] b_z[H] b_n[H]
# states: h[H]
xz = matmul(x_t, W_z)
hz = matmul(h_prev, U_z)
sz = add(xz, hz)
zz = add(sz, b_z)
z = sigmoid(zz)
xn = matmul(x_t, W_n)
hn = matmul(h_prev, U_n)
sn = add(xn, hn)
zn = add(sn, b_n)
n = relu(zn)
keep = schur(z, h_prev)
one_minus_z = one_minus(z)
new = schur(one_minus_z, n)
h = add(keep, new)
"""


def step_equations(options):
    return STEP
