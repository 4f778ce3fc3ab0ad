"""Composed TensorFlow builders: cells no framework ships, written with TensorFlow ops over the
canonical tensors themselves (the layout is the identity), stepped with ``tf.scan`` (the traced
sequence length may be unknown) and differentiated by ``GradientTape``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf
from gradparity.core.net import Net, identity

EPS = 1e-12  # tf.contrib.layers.layer_norm: variance_epsilon = 1e-12 (not float16)


def layernorm_lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """TF 1.x contrib ``LayerNormBasicLSTMCell`` (layer_norm=True): ``tf.nn.moments`` and
    ``tf.nn.batch_normalization``, as contrib's ``layer_norm`` does, with its fixed epsilon."""
    forget_bias = options["forget_bias"]

    def forward(p, x, state0):
        def norm(v, s):
            mean, variance = tf.nn.moments(v, axes=[-1], keepdims=True)
            return tf.nn.batch_normalization(
                v, mean, variance, p[f"beta_{s}"], p[f"gamma_{s}"], EPS
            )

        def step(carry, x_t):
            h, c = carry
            z = {s: norm(x_t @ p[f"W_{s}"] + h @ p[f"U_{s}"], s) for s in "ifgo"}
            c = c * tf.sigmoid(z["f"] + forget_bias) + tf.sigmoid(z["i"]) * tf.tanh(z["g"])
            c = norm(c, "c")
            return tf.tanh(c) * tf.sigmoid(z["o"]), c

        hs, cs = tf.scan(step, tf.transpose(x, [1, 0, 2]), initializer=(state0["h"], state0["c"]))
        return tf.transpose(hs, [1, 0, 2]), {"h": hs[-1], "c": cs[-1]}

    return Net(identity, forward, identity)
