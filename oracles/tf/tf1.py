"""TensorFlow's own TF 1.x ``LSTMCell`` (the legacy module TF 2.x still ships,
``tensorflow.python.keras.layers.legacy_rnn.rnn_cell_impl``): with a projection (``num_proj``)
for ``lstm --option proj_size=P`` (``cells.lstm``), and with diagonal peepholes and a cell clip for
``peephole_lstm``.

kernel [I+W, 4H] = vstack(W; U) and bias [4H] in the order i, j (= g), f, o; forget_bias is
added by the cell at run time; w_i_diag, w_f_diag, w_o_diag = p_i, p_f, p_o; projection
kernel [H, P] = W_p; the state is ``LSTMStateTuple(c, h)``, c first. The cell is stepped with
``tf.scan`` over time-major input (the traced sequence length may be unknown). Its weights are
the step's inputs: the cell's weight attributes point at them while it runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from gradparity.core.errors import OracleUnavailable
from gradparity.core.net import Net
from gradparity.reference_impl.gates import fuse, unfuse

TF1_LSTM_GATES = ("i", "g", "f", "o")  # TF 1.x LSTMCell's block order i, j, f, o
PEEPHOLES = {"w_i_diag": "p_i", "w_f_diag": "p_f", "w_o_diag": "p_o"}


def _legacy():
    with warnings.catch_warnings():  # the legacy module warns that it is deprecated
        warnings.simplefilter("ignore")
        from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl
    return rnn_cell_impl


def lstm_cell(params: Mapping[str, np.ndarray], dtype: str, **cell_options: Any) -> Net:
    rnn_cell_impl = _legacy()
    input_size, hidden = params["W_i"].shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cell = rnn_cell_impl.LSTMCell(hidden, dtype=dtype, **cell_options)
        cell.build((None, input_size))
    peepholes = cell_options.get("use_peepholes", False)
    projected = cell_options.get("num_proj") is not None

    def layout(values):
        named = {
            "kernel": np.vstack([fuse(values, p, TF1_LSTM_GATES) for p in ("W", "U")]),
            "bias": fuse(values, "b", TF1_LSTM_GATES),
        }
        if peepholes:
            named |= {tf_name: values[name] for tf_name, name in PEEPHOLES.items()}
        if projected:
            named["projection"] = values["W_p"]
        return named

    def forward(weights, x, state0):
        cell._kernel, cell._bias = weights["kernel"], weights["bias"]
        if peepholes:
            cell._w_i_diag, cell._w_f_diag = weights["w_i_diag"], weights["w_f_diag"]
            cell._w_o_diag = weights["w_o_diag"]
        if projected:
            cell._proj_kernel = weights["projection"]

        def step(carry, x_t):
            _, state = cell(x_t, rnn_cell_impl.LSTMStateTuple(*carry))
            return (state.c, state.h)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            time_major = tf.transpose(x, [1, 0, 2])
            cs, hs = tf.scan(step, time_major, initializer=(state0["c"], state0["h"]))
        return tf.transpose(hs, [1, 0, 2]), {"h": hs[-1], "c": cs[-1]}

    def to_canonical(grads):
        kernel = grads["kernel"]
        canonical = {
            **unfuse(kernel[:input_size], "W", TF1_LSTM_GATES),
            **unfuse(kernel[input_size:], "U", TF1_LSTM_GATES),
            **unfuse(grads["bias"], "b", TF1_LSTM_GATES),
        }
        if peepholes:
            canonical |= {name: grads[tf_name] for tf_name, name in PEEPHOLES.items()}
        if projected:
            canonical["W_p"] = grads["projection"]
        return canonical

    return Net(layout, forward, to_canonical)


def peephole_lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``LSTMCell(use_peepholes=True, cell_clip=…, forget_bias=…)``: diagonal peepholes only."""
    if options["peepholes"] != "diagonal":
        raise OracleUnavailable("TF 1.x LSTMCell has only diagonal peepholes")
    clip = options["cell_clip"]
    return lstm_cell(
        params,
        dtype,
        use_peepholes=True,
        cell_clip=clip if clip > 0 else None,
        forget_bias=options["forget_bias"],
    )
