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

from oracles.errors import OracleUnavailable
from oracles.torch_oracle import TorchNet
from reference_impl.gates import fuse, unfuse
from reference_impl.stack import of_unit, qualify, unit_names

LSTM_GATES = ("i", "f", "g", "o")  # torch's block order in weight_ih / weight_hh / biases


def _load(module: torch.nn.Module, values: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
    named = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in values.items():
            named[name].copy_(torch.as_tensor(value))
    return named


def _native_recurrent(
    module_class,
    params: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    dtype,
    states: tuple[str, ...],
    to_module,
    from_module,
    **module_options,
) -> TorchNet:
    """A torch RNN module (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``) with all its layers and
    directions: unit ``l1_reverse`` is torch's suffix ``_l1_reverse``, the single unit ``_l0``.
    ``to_module(unit_params)`` gives ``{"weight_ih": …, "weight_hh": …, "bias_ih": …,
    "bias_hh": …}``; ``from_module`` converts their gradients back. Initial and final states
    are stacked in torch's order: l0, l0_reverse, l1, …"""
    layers, bidirectional = options.get("layers", 1), options.get("bidirectional", False)
    units = unit_names(layers, bidirectional)
    suffixes = {u: "_" + (u or "l0") for u in units}
    first = of_unit(params, units[0])
    input_size, hidden = first[next(iter(first))].shape
    module = module_class(
        input_size,
        hidden,
        num_layers=layers,
        bidirectional=bidirectional,
        batch_first=True,
        dtype=dtype,
        **module_options,
    )
    values = {}
    for unit, suffix in suffixes.items():
        values |= {k + suffix: v for k, v in to_module(of_unit(params, unit)).items()}
    leaves = _load(module, values)

    def forward(x, state0):
        initial = [torch.stack([state0[qualify(u, s)] for u in units]) for s in states]
        outputs, final = module(x, tuple(initial) if len(states) > 1 else initial[0])
        final = final if len(states) > 1 else (final,)
        named = {}
        for state, stacked in zip(states, final, strict=True):
            named |= {qualify(u, state): stacked[i] for i, u in enumerate(units)}
        return outputs, named

    def to_canonical(grads):
        canonical = {}
        for unit, suffix in suffixes.items():
            unit_grads = {k[: -len(suffix)]: g for k, g in grads.items() if k.endswith(suffix)}
            canonical |= {qualify(unit, k): v for k, v in from_module(unit_grads).items()}
        return canonical

    return TorchNet(leaves, forward, to_canonical)


def _hidden_size(params: Mapping[str, np.ndarray]) -> int:
    """H, read off the input weights [I, H] of the first unit (the first parameter)."""
    return next(iter(params.values())).shape[-1]


def lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype) -> TorchNet:
    """``nn.LSTM``: weight_ih = [W_i|W_f|W_g|W_o]ᵀ, weight_hh likewise with U, and with a
    projection weight_hr = W_pᵀ (``proj_size``).

    torch adds two bias vectors; ``bias_ih`` carries b (plus forget_bias in the f block) and
    ``bias_hh`` is zero. Both receive the same gradient, which is dL/db.
    """

    if options["proj_size"] >= _hidden_size(params):
        raise OracleUnavailable("torch nn.LSTM requires proj_size < hidden_size")

    def to_module(unit):
        bias = fuse(unit, "b", LSTM_GATES).copy()
        hidden = unit["W_i"].shape[1]
        bias[hidden : 2 * hidden] += options["forget_bias"]
        weights = {
            "weight_ih": fuse(unit, "W", LSTM_GATES).T,
            "weight_hh": fuse(unit, "U", LSTM_GATES).T,
            "bias_ih": bias,
            "bias_hh": np.zeros_like(bias),
        }
        if "W_p" in unit:
            weights["weight_hr"] = unit["W_p"].T  # torch: h = (o ∘ tanh c) @ weight_hrᵀ
        return weights

    def from_module(grads):
        canonical = {
            **unfuse(grads["weight_ih"].T, "W", LSTM_GATES),
            **unfuse(grads["weight_hh"].T, "U", LSTM_GATES),
            **unfuse(grads["bias_ih"], "b", LSTM_GATES),
        }
        if "weight_hr" in grads:
            canonical["W_p"] = grads["weight_hr"].T
        return canonical

    return _native_recurrent(
        torch.nn.LSTM,
        params,
        options,
        dtype,
        ("h", "c"),
        to_module,
        from_module,
        proj_size=options["proj_size"],
    )


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
    """``nn.GRU`` (reset after the product): weight_ih = [W_r|W_z|W_n]ᵀ, weight_hh likewise
    with U, bias_ih = [bx_r|bx_z|bx_n], bias_hh = [bh_r|bh_z|bh_n]."""

    def to_module(unit):
        return {
            "weight_ih": fuse(unit, "W", GRU_GATES).T,
            "weight_hh": fuse(unit, "U", GRU_GATES).T,
            "bias_ih": fuse(unit, "bx", GRU_GATES),
            "bias_hh": fuse(unit, "bh", GRU_GATES),
        }

    def from_module(grads):
        return {
            **unfuse(grads["weight_ih"].T, "W", GRU_GATES),
            **unfuse(grads["weight_hh"].T, "U", GRU_GATES),
            **unfuse(grads["bias_ih"], "bx", GRU_GATES),
            **unfuse(grads["bias_hh"], "bh", GRU_GATES),
        }

    return _native_recurrent(torch.nn.GRU, params, options, dtype, ("h",), to_module, from_module)


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
    """``nn.RNN(nonlinearity=activation)``: weight_ih = Wᵀ, weight_hh = Uᵀ.

    torch adds two bias vectors; ``bias_ih`` carries b and ``bias_hh`` is zero. Both receive the
    same gradient, which is dL/db.
    """

    def to_module(unit):
        return {
            "weight_ih": unit["W"].T,
            "weight_hh": unit["U"].T,
            "bias_ih": unit["b"],
            "bias_hh": np.zeros_like(unit["b"]),
        }

    def from_module(grads):
        return {"W": grads["weight_ih"].T, "U": grads["weight_hh"].T, "b": grads["bias_ih"]}

    return _native_recurrent(
        torch.nn.RNN,
        params,
        options,
        dtype,
        ("h",),
        to_module,
        from_module,
        nonlinearity=options["activation"],
    )


def layernorm_lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype) -> TorchNet:
    """Composed: no framework ships TF 1.x contrib's ``LayerNormBasicLSTMCell``; the recurrence
    is written with torch ops over the canonical tensors, each gate and the cell state through
    ``torch.nn.functional.layer_norm`` with the contrib epsilon (written here again, not
    imported from the reference, so that a wrong epsilon there shows)."""
    eps = 1e-12  # tf.contrib.layers.layer_norm: variance_epsilon = 1e-12 (not float16)
    leaves = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in params.items()}
    p = leaves
    hidden = p["U_i"].shape[0]

    def norm(v, s):
        return torch.nn.functional.layer_norm(v, (hidden,), p[f"gamma_{s}"], p[f"beta_{s}"], eps)

    def forward(x, state0):
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

    def to_canonical(grads):
        return dict(grads)

    return TorchNet(leaves, forward, to_canonical)


def peephole_lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype) -> TorchNet:
    """Composed: torch has no peephole LSTM. Diagonal peepholes (``p_*``, TF 1.x: o reads the
    new c) or full matrices (``P_*``, the seed slides: i, f and o read c_prev), and the cell
    clip with ``torch.clamp``."""
    leaves = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in params.items()}
    p = leaves
    matrix = options["peepholes"] == "matrix"
    clip = options["cell_clip"]

    def forward(x, state0):
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

    def to_canonical(grads):
        return dict(grads)

    return TorchNet(leaves, forward, to_canonical)
