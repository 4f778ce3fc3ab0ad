"""The MGU composed from TensorFlow primitives, stepped with ``tf.scan`` (the traced sequence
length may be unknown); GradientTape differentiates it. The parameters are the canonical tensors
themselves (the layout is the identity)."""

from __future__ import annotations

import tensorflow as tf
from gradparity import Net


def mgu(params, options, dtype) -> Net:
    def forward(p, x, state0):
        def step(h, x_t):
            f = tf.sigmoid(x_t @ p["W_f"] + h @ p["U_f"] + p["b_f"])
            n = tf.tanh(x_t @ p["W_n"] + (f * h) @ p["U_n"] + p["b_n"])
            return (1 - f) * h + f * n

        hs = tf.scan(step, tf.transpose(x, [1, 0, 2]), initializer=state0["h"])
        return tf.transpose(hs, [1, 0, 2]), {"h": hs[-1]}

    return Net(layout=dict, forward=forward, to_canonical=dict)
