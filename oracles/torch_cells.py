"""PyTorch builders, one per cell: canonical parameters in, a ``TorchNet`` out.

Native builders load the canonical parameters into the framework's own module and convert the
module's gradients back; this file and ``tf_cells.py`` are the only places that know the
frameworks' layouts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from oracles.torch_oracle import TorchNet
from reference_impl.gates import fuse, unfuse

LSTM_GATES = ("i", "f", "g", "o")  # torch's block order in weight_ih / weight_hh / biases


def _load(module: torch.nn.Module, values: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
    named = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in values.items():
            named[name].copy_(torch.as_tensor(value))
    return named


def lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype) -> TorchNet:
    """``nn.LSTM``: weight_ih_l0 = [W_i|W_f|W_g|W_o]ᵀ, weight_hh_l0 likewise with U.

    torch adds two bias vectors; ``bias_ih_l0`` carries b (plus forget_bias in the f block)
    and ``bias_hh_l0`` is zero. Both receive the same gradient, which is dL/db.
    """
    hidden = params["U_i"].shape[0]
    bias = fuse(params, "b", LSTM_GATES).copy()
    bias[hidden : 2 * hidden] += options["forget_bias"]
    module = torch.nn.LSTM(params["W_i"].shape[0], hidden, batch_first=True, dtype=dtype)
    leaves = _load(
        module,
        {
            "weight_ih_l0": fuse(params, "W", LSTM_GATES).T,
            "weight_hh_l0": fuse(params, "U", LSTM_GATES).T,
            "bias_ih_l0": bias,
            "bias_hh_l0": np.zeros_like(bias),
        },
    )

    def forward(x, state0):
        outputs, (h, c) = module(x, (state0["h"][None], state0["c"][None]))
        return outputs, {"h": h[0], "c": c[0]}

    def to_canonical(grads):
        return {
            **unfuse(grads["weight_ih_l0"].T, "W", LSTM_GATES),
            **unfuse(grads["weight_hh_l0"].T, "U", LSTM_GATES),
            **unfuse(grads["bias_ih_l0"], "b", LSTM_GATES),
        }

    return TorchNet(leaves, forward, to_canonical)


ACTIVATIONS = {
    "linear": lambda v: v,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
}


def dense(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype) -> TorchNet:
    """``nn.Linear`` (weight = Wᵀ) followed by the activation."""
    in_features, out_features = params["W"].shape
    module = torch.nn.Linear(in_features, out_features, dtype=dtype)
    leaves = _load(module, {"weight": params["W"].T, "bias": params["b"]})
    activation = ACTIVATIONS[options["activation"]]

    def forward(x, state0):
        return activation(module(x)), {}

    def to_canonical(grads):
        return {"W": grads["weight"].T, "b": grads["bias"]}

    return TorchNet(leaves, forward, to_canonical)


GRU_GATES = ("r", "z", "n")  # torch's block order in weight_ih / weight_hh / biases


def gru(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype) -> TorchNet:
    """``nn.GRU`` (reset after the product): weight_ih_l0 = [W_r|W_z|W_n]ᵀ, weight_hh_l0
    likewise with U, bias_ih_l0 = [bx_r|bx_z|bx_n], bias_hh_l0 = [bh_r|bh_z|bh_n]."""
    input_size, hidden = params["W_r"].shape
    module = torch.nn.GRU(input_size, hidden, batch_first=True, dtype=dtype)
    leaves = _load(
        module,
        {
            "weight_ih_l0": fuse(params, "W", GRU_GATES).T,
            "weight_hh_l0": fuse(params, "U", GRU_GATES).T,
            "bias_ih_l0": fuse(params, "bx", GRU_GATES),
            "bias_hh_l0": fuse(params, "bh", GRU_GATES),
        },
    )

    def forward(x, state0):
        outputs, h = module(x, state0["h"][None])
        return outputs, {"h": h[0]}

    def to_canonical(grads):
        return {
            **unfuse(grads["weight_ih_l0"].T, "W", GRU_GATES),
            **unfuse(grads["weight_hh_l0"].T, "U", GRU_GATES),
            **unfuse(grads["bias_ih_l0"], "bx", GRU_GATES),
            **unfuse(grads["bias_hh_l0"], "bh", GRU_GATES),
        }

    return TorchNet(leaves, forward, to_canonical)


def gru_reset_before(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype
) -> TorchNet:
    """Composed: torch has no module with the reset before the product (``nn.GRU`` resets
    after it), so the recurrence is written out with torch ops over the canonical tensors."""
    leaves = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in params.items()}
    p = leaves

    def forward(x, state0):
        h, outputs = state0["h"], []
        for t in range(x.shape[1]):
            x_t = x[:, t]
            r = torch.sigmoid(x_t @ p["W_r"] + h @ p["U_r"] + p["b_r"])
            z = torch.sigmoid(x_t @ p["W_z"] + h @ p["U_z"] + p["b_z"])
            n = torch.tanh(x_t @ p["W_n"] + (r * h) @ p["U_n"] + p["b_n"])
            h = (1 - z) * n + z * h
            outputs.append(h)
        return torch.stack(outputs, dim=1), {"h": h}

    def to_canonical(grads):
        return dict(grads)

    return TorchNet(leaves, forward, to_canonical)


def rnn(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype) -> TorchNet:
    """``nn.RNN(nonlinearity=activation)``: weight_ih_l0 = Wᵀ, weight_hh_l0 = Uᵀ.

    torch adds two bias vectors; ``bias_ih_l0`` carries b and ``bias_hh_l0`` is zero. Both
    receive the same gradient, which is dL/db.
    """
    input_size, hidden = params["W"].shape
    module = torch.nn.RNN(
        input_size, hidden, nonlinearity=options["activation"], batch_first=True, dtype=dtype
    )
    leaves = _load(
        module,
        {
            "weight_ih_l0": params["W"].T,
            "weight_hh_l0": params["U"].T,
            "bias_ih_l0": params["b"],
            "bias_hh_l0": np.zeros_like(params["b"]),
        },
    )

    def forward(x, state0):
        outputs, h = module(x, state0["h"][None])
        return outputs, {"h": h[0]}

    def to_canonical(grads):
        return {
            "W": grads["weight_ih_l0"].T,
            "U": grads["weight_hh_l0"].T,
            "b": grads["bias_ih_l0"],
        }

    return TorchNet(leaves, forward, to_canonical)
