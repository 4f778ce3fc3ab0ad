"""Composed PyTorch builders: cells torch does not ship, written with torch ops over the
canonical tensors themselves (the layout is the identity) and differentiated by autograd. They
share nothing with the reference but the equations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from gradparity.core.net import Net, identity


def gru_reset_before(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str
) -> Net:
    """torch has no module with the reset before the product (``nn.GRU`` resets after it)."""

    def forward(p, x, state0):
        h, outputs = state0["h"], []
        for t in range(x.shape[1]):
            x_t = x[:, t]
            r = torch.sigmoid(x_t @ p["W_r"] + h @ p["U_r"] + p["b_r"])
            z = torch.sigmoid(x_t @ p["W_z"] + h @ p["U_z"] + p["b_z"])
            n = torch.tanh(x_t @ p["W_n"] + (r * h) @ p["U_n"] + p["b_n"])
            h = (1 - z) * n + z * h
            outputs.append(h)
        return torch.stack(outputs, dim=1), {"h": h}

    return Net(identity, forward, identity)


def layernorm_lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """TF 1.x contrib's ``LayerNormBasicLSTMCell``: each gate and the cell state through
    ``torch.nn.functional.layer_norm`` with the contrib epsilon (written here again, not
    imported from the reference, so that a wrong epsilon there shows)."""
    eps = 1e-12  # tf.contrib.layers.layer_norm: variance_epsilon = 1e-12 (not float16)
    hidden = params["U_i"].shape[0]

    def forward(p, x, state0):
        def norm(v, s):
            return torch.nn.functional.layer_norm(
                v, (hidden,), p[f"gamma_{s}"], p[f"beta_{s}"], eps
            )

        h, c, outputs = state0["h"], state0["c"], []
        for t in range(x.shape[1]):
            x_t = x[:, t]
            i = torch.sigmoid(norm(x_t @ p["W_i"] + h @ p["U_i"], "i"))
            f = torch.sigmoid(norm(x_t @ p["W_f"] + h @ p["U_f"], "f") + options["forget_bias"])
            g = torch.tanh(norm(x_t @ p["W_g"] + h @ p["U_g"], "g"))
            o = torch.sigmoid(norm(x_t @ p["W_o"] + h @ p["U_o"], "o"))
            c = norm(c * f + i * g, "c")
            h = torch.tanh(c) * o
            outputs.append(h)
        return torch.stack(outputs, dim=1), {"h": h, "c": c}

    return Net(identity, forward, identity)


def peephole_lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """Diagonal peepholes (``p_*``, TF 1.x: o reads the new c) or full matrices (``P_*``, the
    seed slides: i, f and o read c_prev), and the cell clip with ``torch.clamp``."""
    matrix = options["peepholes"] == "matrix"
    clip = options["cell_clip"]

    def forward(p, x, state0):
        h, c, outputs = state0["h"], state0["c"], []
        for t in range(x.shape[1]):
            x_t = x[:, t]
            if matrix:
                peep_i, peep_f, peep_o = c @ p["P_i"], c @ p["P_f"], c @ p["P_o"]
            else:
                peep_i, peep_f = p["p_i"] * c, p["p_f"] * c
            i = torch.sigmoid(x_t @ p["W_i"] + h @ p["U_i"] + p["b_i"] + peep_i)
            f = torch.sigmoid(
                x_t @ p["W_f"] + h @ p["U_f"] + p["b_f"] + options["forget_bias"] + peep_f
            )
            g = torch.tanh(x_t @ p["W_g"] + h @ p["U_g"] + p["b_g"])
            c = f * c + i * g
            if clip > 0:
                c = torch.clamp(c, -clip, clip)
            if not matrix:
                peep_o = p["p_o"] * c
            o = torch.sigmoid(x_t @ p["W_o"] + h @ p["U_o"] + p["b_o"] + peep_o)
            h = o * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1), {"h": h, "c": c}

    return Net(identity, forward, identity)
