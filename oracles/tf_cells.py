"""TensorFlow/Keras builders, one per cell: parameter shapes in, a ``KerasNet`` out.

Native builders build the Keras layer (``build`` then weights assigned by the oracle); this
file and ``torch_cells.py`` are the only places that know the frameworks' layouts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from oracles.tf_oracle import KerasNet, import_tensorflow
from reference_impl.gates import fuse, unfuse

tf = import_tensorflow()
import keras  # noqa: E402  (after TensorFlow is configured by import_tensorflow)

LSTM_GATES = ("i", "f", "g", "o")  # Keras's block order in kernel / recurrent_kernel / bias


def lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> KerasNet:
    """``keras.layers.LSTM``: kernel = [W_i|W_f|W_g|W_o], recurrent_kernel likewise with U,
    bias = [b_i|b_f|b_g|b_o] with forget_bias added to the f block."""
    input_size, hidden = params["W_i"].shape
    layer = keras.layers.LSTM(hidden, return_sequences=True, return_state=True, dtype=dtype)
    layer.build((None, None, input_size))

    def call(x, state0):
        outputs, h, c = layer(x, initial_state=[state0["h"], state0["c"]])
        return outputs, {"h": h, "c": c}

    def from_canonical(values):
        bias = fuse(values, "b", LSTM_GATES).copy()
        bias[hidden : 2 * hidden] += options["forget_bias"]
        return [fuse(values, "W", LSTM_GATES), fuse(values, "U", LSTM_GATES), bias]

    def to_canonical(grads):
        kernel, recurrent, bias = grads
        return {
            **unfuse(kernel, "W", LSTM_GATES),
            **unfuse(recurrent, "U", LSTM_GATES),
            **unfuse(bias, "b", LSTM_GATES),
        }

    return KerasNet(list(layer.trainable_weights), call, from_canonical, to_canonical)


def dense(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> KerasNet:
    """``keras.layers.Dense``: kernel = W, bias = b, activation by name."""
    input_size, hidden = params["W"].shape
    layer = keras.layers.Dense(hidden, activation=options["activation"], dtype=dtype)
    layer.build((None, input_size))

    def call(x, state0):
        return layer(x), {}

    def from_canonical(values):
        return [values["W"], values["b"]]

    def to_canonical(grads):
        return {"W": grads[0], "b": grads[1]}

    return KerasNet(list(layer.trainable_weights), call, from_canonical, to_canonical)


GRU_GATES = ("z", "r", "n")  # Keras's block order (it calls the candidate "h")


def gru(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> KerasNet:
    """``keras.layers.GRU(reset_after=True)``: kernel = [W_z|W_r|W_n], recurrent_kernel likewise
    with U, bias [2, 3H] with row 0 = [bx_z|bx_r|bx_n] (input) and row 1 the recurrent bh."""
    input_size, hidden = params["W_r"].shape
    layer = keras.layers.GRU(
        hidden, reset_after=True, return_sequences=True, return_state=True, dtype=dtype
    )
    layer.build((None, None, input_size))

    def call(x, state0):
        outputs, h = layer(x, initial_state=[state0["h"]])
        return outputs, {"h": h}

    def from_canonical(values):
        bias = np.stack([fuse(values, "bx", GRU_GATES), fuse(values, "bh", GRU_GATES)])
        return [fuse(values, "W", GRU_GATES), fuse(values, "U", GRU_GATES), bias]

    def to_canonical(grads):
        kernel, recurrent, bias = grads
        return {
            **unfuse(kernel, "W", GRU_GATES),
            **unfuse(recurrent, "U", GRU_GATES),
            **unfuse(bias[0], "bx", GRU_GATES),
            **unfuse(bias[1], "bh", GRU_GATES),
        }

    return KerasNet(list(layer.trainable_weights), call, from_canonical, to_canonical)


def gru_reset_before(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str
) -> KerasNet:
    """``keras.layers.GRU(reset_after=False)``: kernel = [W_z|W_r|W_n], recurrent_kernel
    likewise with U, bias = [b_z|b_r|b_n] (one vector, [3H])."""
    input_size, hidden = params["W_r"].shape
    layer = keras.layers.GRU(
        hidden, reset_after=False, return_sequences=True, return_state=True, dtype=dtype
    )
    layer.build((None, None, input_size))

    def call(x, state0):
        outputs, h = layer(x, initial_state=[state0["h"]])
        return outputs, {"h": h}

    def from_canonical(values):
        return [
            fuse(values, "W", GRU_GATES),
            fuse(values, "U", GRU_GATES),
            fuse(values, "b", GRU_GATES),
        ]

    def to_canonical(grads):
        kernel, recurrent, bias = grads
        return {
            **unfuse(kernel, "W", GRU_GATES),
            **unfuse(recurrent, "U", GRU_GATES),
            **unfuse(bias, "b", GRU_GATES),
        }

    return KerasNet(list(layer.trainable_weights), call, from_canonical, to_canonical)


def rnn(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> KerasNet:
    """``keras.layers.SimpleRNN``: kernel = W, recurrent_kernel = U, bias = b, activation by
    name."""
    input_size, hidden = params["W"].shape
    layer = keras.layers.SimpleRNN(
        hidden,
        activation=options["activation"],
        return_sequences=True,
        return_state=True,
        dtype=dtype,
    )
    layer.build((None, None, input_size))

    def call(x, state0):
        outputs, h = layer(x, initial_state=[state0["h"]])
        return outputs, {"h": h}

    def from_canonical(values):
        return [values["W"], values["U"], values["b"]]

    def to_canonical(grads):
        return {"W": grads[0], "U": grads[1], "b": grads[2]}

    return KerasNet(list(layer.trainable_weights), call, from_canonical, to_canonical)
