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

from oracles.layout import split_gates, stack_gates
from oracles.torch_oracle import TorchNet

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
    bias = stack_gates(params, "b", LSTM_GATES).copy()
    bias[hidden : 2 * hidden] += options["forget_bias"]
    module = torch.nn.LSTM(params["W_i"].shape[0], hidden, batch_first=True, dtype=dtype)
    leaves = _load(
        module,
        {
            "weight_ih_l0": stack_gates(params, "W", LSTM_GATES).T,
            "weight_hh_l0": stack_gates(params, "U", LSTM_GATES).T,
            "bias_ih_l0": bias,
            "bias_hh_l0": np.zeros_like(bias),
        },
    )

    def forward(x, state0):
        outputs, (h, c) = module(x, (state0["h"][None], state0["c"][None]))
        return outputs, {"h": h[0], "c": c[0]}

    def to_canonical(grads):
        return {
            **split_gates(grads["weight_ih_l0"].T, "W", LSTM_GATES),
            **split_gates(grads["weight_hh_l0"].T, "U", LSTM_GATES),
            **split_gates(grads["bias_ih_l0"], "b", LSTM_GATES),
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
