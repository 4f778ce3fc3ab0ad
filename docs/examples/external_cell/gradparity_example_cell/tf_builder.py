"""The MGU composed as a custom Keras cell inside ``keras.layers.RNN``; GradientTape
differentiates it."""

from __future__ import annotations

import keras
from keras import ops

from oracles.tf_oracle import KerasNet

PARAMS = ("W_f", "W_n", "U_f", "U_n", "b_f", "b_n")


class MGUCell(keras.layers.Layer):
    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = self.state_size = self.output_size = units

    def build(self, input_shape):
        i, h = input_shape[-1], self.units
        shapes = {
            "W_f": (i, h),
            "W_n": (i, h),
            "U_f": (h, h),
            "U_n": (h, h),
            "b_f": (h,),
            "b_n": (h,),
        }
        self.p = {name: self.add_weight(shape=shapes[name], name=name) for name in PARAMS}

    def call(self, inputs, states):
        p, h = self.p, states[0]
        f = ops.sigmoid(inputs @ p["W_f"] + h @ p["U_f"] + p["b_f"])
        n = ops.tanh(inputs @ p["W_n"] + (f * h) @ p["U_n"] + p["b_n"])
        h = (1 - f) * h + f * n
        return h, [h]


def mgu(params, options, dtype) -> KerasNet:
    input_size, hidden = params["W_f"].shape
    cell = MGUCell(hidden, dtype=dtype)
    layer = keras.layers.RNN(cell, return_sequences=True, return_state=True, dtype=dtype)
    layer.build((None, None, input_size))

    def call(x, state0):
        outputs, h = layer(x, initial_state=[state0["h"]])
        return outputs, {"h": h}

    return KerasNet(
        weights=[cell.p[name] for name in PARAMS],
        call=call,
        from_canonical=lambda values: [values[name] for name in PARAMS],
        to_canonical=lambda grads: dict(zip(PARAMS, grads, strict=True)),
    )
