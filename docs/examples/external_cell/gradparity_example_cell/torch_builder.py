"""The MGU composed from PyTorch primitives; autograd differentiates it."""

from __future__ import annotations

import torch

from oracles.torch_oracle import TorchNet


def mgu(params, options, dtype) -> TorchNet:
    leaves = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in params.items()}
    p = leaves

    def forward(x, state0):
        h, outputs = state0["h"], []
        for t in range(x.shape[1]):
            f = torch.sigmoid(x[:, t] @ p["W_f"] + h @ p["U_f"] + p["b_f"])
            n = torch.tanh(x[:, t] @ p["W_n"] + (f * h) @ p["U_n"] + p["b_n"])
            h = (1 - f) * h + f * n
            outputs.append(h)
        return torch.stack(outputs, dim=1), {"h": h}

    return TorchNet(leaves, forward, to_canonical=dict)
