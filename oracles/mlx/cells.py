"""MLX's native builders: the canonical parameters loaded into MLX's own layers.

Each builder makes the layer once (per cell, shapes, dtype and options) and returns a ``Net``
(``core.net``) of one layer and one direction: MLX's ``nn.LSTM``, ``nn.GRU`` and ``nn.RNN`` have
neither, so gradparity's stacking (``core.stacking``) builds layers and directions from these.
``layout`` converts canonical parameters to the layer's (checked against the layer's own
shapes), ``forward`` puts them in the layer (``Module.update``, inside the differentiated
function, as ``mlx.nn.value_and_grad`` does) and calls it with the initial states,
``to_canonical`` converts their gradients back. This folder is the only place that knows MLX's
layouts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from gradparity.core.errors import OracleUnavailable
from gradparity.core.net import Net
from gradparity.mlx.adapter import relu
from gradparity.reference_impl.gates import fuse, unfuse

Arrays = dict[str, np.ndarray]

LSTM_GATES = ("i", "f", "g", "o")  # MLX's block order in Wx / Wh / bias
GRU_GATES = ("r", "z", "n")  # MLX's block order in Wx / Wh / b

# Plain MLX functions: nn.relu and nn.sigmoid are mx.compile'd (a C++ compile on first call).
ACTIVATIONS = {"linear": lambda v: v, "tanh": mx.tanh, "sigmoid": mx.sigmoid, "relu": relu}


def _checked(module: nn.Module, named: Arrays) -> Arrays:
    """``named`` if it has exactly the module's parameters, with the module's shapes."""
    shapes = {k: tuple(v.shape) for k, v in module.parameters().items()}
    given = {k: tuple(np.shape(v)) for k, v in named.items()}
    if given != shapes:
        raise ValueError(f"mlx {type(module).__name__}: parameters {given}, expected {shapes}")
    return named


def _native(module: nn.Module, to_module, call, from_module) -> Net:
    """A net of ``module``: ``to_module(canonical)`` its parameters, ``call(module, x,
    state0) -> (outputs, final states)``, ``from_module(grads)`` the canonical gradients;
    with per-example lengths it steps ``call`` over time itself, masked."""

    def layout(values):
        return _checked(module, to_module(values))

    def forward(weights, x, state0, lengths=None):
        module.update(dict(weights))
        if lengths is None:
            return call(module, x, state0)
        return _masked(module, call, x, state0, lengths)

    return Net(layout, forward, from_module, ragged=True)


def _masked(module: nn.Module, call, x: mx.array, state0: dict, lengths) -> tuple:
    """The layer one step at a time with its state update masked (MLX's layers take no
    lengths): at a padded step the states stay and the output is 0 (``core.program_net``'s
    formula)."""
    states, outputs = dict(state0), []
    for t in range(x.shape[1]):
        m_t = lengths.mask[:, t]
        out, new = call(module, x[:, t : t + 1], states)
        states = {k: m_t * new[k] + (1 - m_t) * states[k] for k in states}
        outputs.append(m_t * out[:, 0])
    return mx.stack(outputs, axis=1), states


def lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``nn.LSTM``: Wx = [W_i|W_f|W_g|W_o]ᵀ, Wh likewise with U, one bias = [b_i|b_f|b_g|b_o]
    with forget_bias added to the f block; returns every step's h and c."""
    if options["proj_size"]:
        raise OracleUnavailable("mlx nn.LSTM has no projection (proj_size)")
    input_size, hidden = params["W_i"].shape

    def to_module(values):
        bias = fuse(values, "b", LSTM_GATES).copy()
        bias[hidden : 2 * hidden] += options["forget_bias"]
        return {
            "Wx": fuse(values, "W", LSTM_GATES).T,
            "Wh": fuse(values, "U", LSTM_GATES).T,
            "bias": bias,
        }

    def call(module, x, state0):
        all_h, all_c = module(x, hidden=state0["h"], cell=state0["c"])
        return all_h, {"h": all_h[:, -1], "c": all_c[:, -1]}

    def from_module(grads):
        return {
            **unfuse(grads["Wx"].T, "W", LSTM_GATES),
            **unfuse(grads["Wh"].T, "U", LSTM_GATES),
            **unfuse(grads["bias"], "b", LSTM_GATES),
        }

    return _native(nn.LSTM(input_size, hidden), to_module, call, from_module)


def gru(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``nn.GRU`` (reset after the product, torch's formula): Wx = [W_r|W_z|W_n]ᵀ, Wh likewise
    with U; its one input-side bias b = [bx_r + bh_r | bx_z + bh_z | bx_n] (the r and z pairs
    act only as sums: both get the block's gradient) and bhn = bh_n inside r ∘ (…) (zero, its
    gradient dropped, when the cell has no bh_n)."""
    input_size, hidden = params["W_r"].shape
    has_bh_n = "bh_n" in params

    def to_module(values):
        sums = {g: values[f"bx_{g}"] + values[f"bh_{g}"] for g in ("r", "z")}
        return {
            "Wx": fuse(values, "W", GRU_GATES).T,
            "Wh": fuse(values, "U", GRU_GATES).T,
            "b": np.concatenate([sums["r"], sums["z"], values["bx_n"]]),
            "bhn": values["bh_n"] if has_bh_n else np.zeros_like(values["bx_n"]),
        }

    def call(module, x, state0):
        all_h = module(x, hidden=state0["h"])
        return all_h, {"h": all_h[:, -1]}

    def from_module(grads):
        b = unfuse(grads["b"], "b", GRU_GATES)
        canonical = {
            **unfuse(grads["Wx"].T, "W", GRU_GATES),
            **unfuse(grads["Wh"].T, "U", GRU_GATES),
            **{f"bx_{g}": b[f"b_{g}"] for g in GRU_GATES},
            **{f"bh_{g}": b[f"b_{g}"] for g in ("r", "z")},
        }
        if has_bh_n:
            canonical["bh_n"] = grads["bhn"]
        return canonical

    return _native(nn.GRU(input_size, hidden), to_module, call, from_module)


def rnn(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``nn.RNN(nonlinearity=activation)``: Wxh = Wᵀ, Whh = Uᵀ, bias = b."""
    input_size, hidden = params["W"].shape
    module = nn.RNN(input_size, hidden, nonlinearity=ACTIVATIONS[options["activation"]])

    def to_module(values):
        return {"Wxh": values["W"].T, "Whh": values["U"].T, "bias": values["b"]}

    def call(module, x, state0):
        all_h = module(x, hidden=state0["h"])
        return all_h, {"h": all_h[:, -1]}

    def from_module(grads):
        return {"W": grads["Wxh"].T, "U": grads["Whh"].T, "b": grads["bias"]}

    return _native(module, to_module, call, from_module)


def dense(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``nn.Linear`` (weight = Wᵀ, bias = b) followed by the activation."""
    input_size, hidden = params["W"].shape
    activation = ACTIVATIONS[options["activation"]]

    def to_module(values):
        return {"weight": values["W"].T, "bias": values["b"]}

    def call(module, x, state0):
        return activation(module(x)), {}

    def from_module(grads):
        return {"W": grads["weight"].T, "b": grads["bias"]}

    return _native(nn.Linear(input_size, hidden), to_module, call, from_module)
