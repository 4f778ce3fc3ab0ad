"""The MGU composed from PyTorch primitives; autograd differentiates it. The parameters are the
canonical tensors themselves (the layout is the identity)."""

from __future__ import annotations

import torch
from gradparity import Net


def mgu(params, options, dtype) -> Net:
    def forward(p, x, state0):
        h, outputs = state0["h"], []
        for t in range(x.shape[1]):
            f = torch.sigmoid(x[:, t] @ p["W_f"] + h @ p["U_f"] + p["b_f"])
            n = torch.tanh(x[:, t] @ p["W_n"] + (f * h) @ p["U_n"] + p["b_n"])
            h = (1 - f) * h + f * n
            outputs.append(h)
        return torch.stack(outputs, dim=1), {"h": h}

    return Net(layout=dict, forward=forward, to_canonical=dict)
