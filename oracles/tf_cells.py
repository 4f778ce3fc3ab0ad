"""TensorFlow/Keras builders, one per cell: parameter shapes in, a ``KerasNet`` out.

Native builders build the Keras layer (``build`` then weights assigned by the oracle); this
file and ``torch_cells.py`` are the only places that know the frameworks' layouts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from oracles.errors import OracleUnavailable
from oracles.tf_oracle import KerasNet, import_tensorflow
from reference_impl.gates import fuse, unfuse
from reference_impl.stack import is_stacked, of_unit, qualify, unit_names

tf = import_tensorflow()
import keras  # noqa: E402  (after TensorFlow is configured by import_tensorflow)

LSTM_GATES = ("i", "f", "g", "o")  # Keras's block order in kernel / recurrent_kernel / bias


def _hidden(params: Mapping[str, np.ndarray], options: Mapping[str, Any], square: str) -> int:
    """H, read off the square recurrent matrix ``square`` of the first unit."""
    units = unit_names(options.get("layers", 1), options.get("bidirectional", False))
    return of_unit(params, units[0])[square].shape[0]


def _keras_recurrent(
    make_layer, params, options, dtype: str, states: tuple[str, ...], to_weights, from_weights
) -> KerasNet:
    """Keras recurrent layers for every layer of the stack, each wrapped in
    ``keras.layers.Bidirectional`` when bidirectional (its backward layer is unit
    ``l<k>_reverse``). ``make_layer()`` makes one layer (return_sequences and return_state on);
    ``to_weights(unit_params)`` gives its ``trainable_weights`` values, ``from_weights`` the
    canonical gradients of one unit."""
    layers, bidirectional = options.get("layers", 1), options.get("bidirectional", False)
    units = unit_names(layers, bidirectional)
    stack, by_unit = [], {}
    for k in range(layers):
        first = of_unit(params, units[k * (2 if bidirectional else 1)])
        input_size = first[next(iter(first))].shape[0]  # the unit's input weights come first
        layer = make_layer()
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, dtype=dtype)
        layer.build((None, None, input_size))
        stack.append(layer)
        if bidirectional:
            by_unit[f"l{k}"], by_unit[f"l{k}_reverse"] = layer.forward_layer, layer.backward_layer
        else:
            by_unit[units[k]] = layer

    def call(x, state0):
        layer_input, final = x, {}
        for k, layer in enumerate(stack):
            layer_units = [u for u in units if u.split("_")[0] == (f"l{k}" if u else "")]
            initial = [state0[qualify(u, s)] for u in layer_units for s in states]
            layer_input, *finals = layer(layer_input, initial_state=initial)
            names = [qualify(u, s) for u in layer_units for s in states]
            final |= dict(zip(names, finals, strict=True))
        return layer_input, final

    def from_canonical(values):
        return [w for u in units for w in to_weights(of_unit(values, u))]

    def to_canonical(grads):
        canonical, start = {}, 0
        for unit in units:
            count = len(by_unit[unit].trainable_weights)
            unit_grads = from_weights(grads[start : start + count])
            canonical |= {qualify(unit, k): v for k, v in unit_grads.items()}
            start += count
        return canonical

    weights = [w for u in units for w in by_unit[u].trainable_weights]
    return KerasNet(weights, call, from_canonical, to_canonical)


def lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> KerasNet:
    """``keras.layers.LSTM``: kernel = [W_i|W_f|W_g|W_o], recurrent_kernel likewise with U,
    bias = [b_i|b_f|b_g|b_o] with forget_bias added to the f block."""
    if options["proj_size"]:  # Keras has no projection: TensorFlow's own TF 1.x num_proj
        if is_stacked(options):
            raise OracleUnavailable("TF 1.x num_proj is wired for a single layer only")
        return _tf1_projected_lstm(params, options, dtype)
    hidden = _hidden(params, options, "U_i")

    def make_layer():
        return keras.layers.LSTM(hidden, return_sequences=True, return_state=True, dtype=dtype)

    def to_weights(unit):
        bias = fuse(unit, "b", LSTM_GATES).copy()
        bias[hidden : 2 * hidden] += options["forget_bias"]
        return [fuse(unit, "W", LSTM_GATES), fuse(unit, "U", LSTM_GATES), bias]

    def from_weights(grads):
        kernel, recurrent, bias = grads
        return {
            **unfuse(kernel, "W", LSTM_GATES),
            **unfuse(recurrent, "U", LSTM_GATES),
            **unfuse(bias, "b", LSTM_GATES),
        }

    return _keras_recurrent(
        make_layer, params, options, dtype, ("h", "c"), to_weights, from_weights
    )


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
    hidden = _hidden(params, options, "U_r")

    def make_layer():
        return keras.layers.GRU(
            hidden, reset_after=True, return_sequences=True, return_state=True, dtype=dtype
        )

    def to_weights(unit):
        bias = np.stack([fuse(unit, "bx", GRU_GATES), fuse(unit, "bh", GRU_GATES)])
        return [fuse(unit, "W", GRU_GATES), fuse(unit, "U", GRU_GATES), bias]

    def from_weights(grads):
        kernel, recurrent, bias = grads
        return {
            **unfuse(kernel, "W", GRU_GATES),
            **unfuse(recurrent, "U", GRU_GATES),
            **unfuse(bias[0], "bx", GRU_GATES),
            **unfuse(bias[1], "bh", GRU_GATES),
        }

    return _keras_recurrent(make_layer, params, options, dtype, ("h",), to_weights, from_weights)


def gru_reset_before(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str
) -> KerasNet:
    """``keras.layers.GRU(reset_after=False)``: kernel = [W_z|W_r|W_n], recurrent_kernel
    likewise with U, bias = [b_z|b_r|b_n] (one vector, [3H])."""
    hidden = _hidden(params, options, "U_r")

    def make_layer():
        return keras.layers.GRU(
            hidden, reset_after=False, return_sequences=True, return_state=True, dtype=dtype
        )

    def to_weights(unit):
        return [fuse(unit, p, GRU_GATES) for p in ("W", "U", "b")]

    def from_weights(grads):
        kernel, recurrent, bias = grads
        return {
            **unfuse(kernel, "W", GRU_GATES),
            **unfuse(recurrent, "U", GRU_GATES),
            **unfuse(bias, "b", GRU_GATES),
        }

    return _keras_recurrent(make_layer, params, options, dtype, ("h",), to_weights, from_weights)


def rnn(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> KerasNet:
    """``keras.layers.SimpleRNN``: kernel = W, recurrent_kernel = U, bias = b, activation by
    name."""
    hidden = _hidden(params, options, "U")

    def make_layer():
        return keras.layers.SimpleRNN(
            hidden,
            activation=options["activation"],
            return_sequences=True,
            return_state=True,
            dtype=dtype,
        )

    def to_weights(unit):
        return [unit["W"], unit["U"], unit["b"]]

    def from_weights(grads):
        return dict(zip(("W", "U", "b"), grads, strict=True))

    return _keras_recurrent(make_layer, params, options, dtype, ("h",), to_weights, from_weights)


class LayerNormLSTMCell(keras.layers.Layer):
    """TF 1.x contrib ``LayerNormBasicLSTMCell`` (layer_norm=True), composed as a Keras cell:
    ``tf.nn.moments`` and ``tf.nn.batch_normalization``, as contrib's ``layer_norm`` does, with
    its fixed epsilon. Weights by canonical name, with the shapes of the canonical parameters
    it is built for (the registry entry declares them); states [h, c]."""

    EPS = 1e-12  # tf.contrib.layers.layer_norm: variance_epsilon = 1e-12 (not float16)

    def __init__(self, shapes: Mapping[str, tuple[int, ...]], forget_bias: float, **kwargs):
        super().__init__(**kwargs)
        self.shapes = dict(shapes)
        self.units = self.output_size = self.shapes["U_i"][0]
        self.state_size = [self.units, self.units]
        self.forget_bias = forget_bias

    def build(self, input_shape):
        self.p = {name: self.add_weight(shape=s, name=name) for name, s in self.shapes.items()}

    def _norm(self, v, s):
        mean, variance = tf.nn.moments(v, axes=[-1], keepdims=True)
        return tf.nn.batch_normalization(
            v, mean, variance, self.p[f"beta_{s}"], self.p[f"gamma_{s}"], self.EPS
        )

    def call(self, inputs, states):
        p, (h, c) = self.p, states
        ops = keras.ops
        z = {s: self._norm(inputs @ p[f"W_{s}"] + h @ p[f"U_{s}"], s) for s in "ifgo"}
        c = c * ops.sigmoid(z["f"] + self.forget_bias) + ops.sigmoid(z["i"]) * ops.tanh(z["g"])
        c = self._norm(c, "c")
        h = ops.tanh(c) * ops.sigmoid(z["o"])
        return h, [h, c]


def layernorm_lstm(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str
) -> KerasNet:
    """Composed: a custom Keras cell in ``keras.layers.RNN`` (no framework ships the cell)."""
    input_size = params["W_i"].shape[0]
    shapes = {name: value.shape for name, value in params.items()}
    cell = LayerNormLSTMCell(shapes, options["forget_bias"], dtype=dtype)
    layer = keras.layers.RNN(cell, return_sequences=True, return_state=True, dtype=dtype)
    layer.build((None, None, input_size))
    names = list(cell.p)

    def call(x, state0):
        outputs, h, c = layer(x, initial_state=[state0["h"], state0["c"]])
        return outputs, {"h": h, "c": c}

    return KerasNet(
        weights=[cell.p[name] for name in names],
        call=call,
        from_canonical=lambda values: [values[name] for name in names],
        to_canonical=lambda grads: dict(zip(names, grads, strict=True)),
    )


TF1_LSTM_GATES = ("i", "g", "f", "o")  # TF 1.x LSTMCell's block order i, j, f, o


def _scan_tf1_cell(cell, x, state0):
    """A TF 1.x LSTM cell (state ``LSTMStateTuple(c, h)``) over batch-first ``x``, stepped with
    ``tf.scan`` so that an unknown sequence length in the trace is fine."""
    import warnings

    from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl

    def step(carry, x_t):
        _, state = cell(x_t, rnn_cell_impl.LSTMStateTuple(*carry))
        return (state.c, state.h)

    with warnings.catch_warnings():  # the legacy module warns that it is deprecated
        warnings.simplefilter("ignore")
        cs, hs = tf.scan(step, tf.transpose(x, [1, 0, 2]), initializer=(state0["c"], state0["h"]))
    return tf.transpose(hs, [1, 0, 2]), {"h": hs[-1], "c": cs[-1]}


def _tf1_projected_lstm(params, options, dtype: str) -> KerasNet:
    """TensorFlow's own TF 1.x ``LSTMCell(num_proj=P)``: kernel [I+P, 4H] = vstack(W; U) and
    bias [4H] in the order i, j (= g), f, o, forget_bias added at run time, projection kernel
    [H, P] = W_p; h (the cell's m) is [B, P]."""
    import warnings

    from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl

    input_size, hidden = params["W_i"].shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cell = rnn_cell_impl.LSTMCell(
            hidden,
            num_proj=options["proj_size"],
            forget_bias=options["forget_bias"],
            dtype=dtype,
        )
        cell.build((None, input_size))
    weights = [cell._kernel, cell._bias, cell._proj_kernel]

    def call(x, state0):
        return _scan_tf1_cell(cell, x, state0)

    def from_canonical(values):
        kernel = np.vstack([fuse(values, p, TF1_LSTM_GATES) for p in ("W", "U")])
        return [kernel, fuse(values, "b", TF1_LSTM_GATES), values["W_p"]]

    def to_canonical(grads):
        kernel, bias, projection = grads
        return {
            **unfuse(kernel[:input_size], "W", TF1_LSTM_GATES),
            **unfuse(kernel[input_size:], "U", TF1_LSTM_GATES),
            **unfuse(bias, "b", TF1_LSTM_GATES),
            "W_p": projection,
        }

    return KerasNet(weights, call, from_canonical, to_canonical)


def peephole_lstm(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str
) -> KerasNet:
    """TensorFlow's own TF 1.x ``LSTMCell(use_peepholes=True)`` (the legacy module still
    shipped in TF 2.x), stepped with ``tf.scan`` over time-major input.

    kernel [I+H, 4H] = vstack(W; U) and bias [4H] in the order i, j (= g), f, o; forget_bias is
    added by the cell at run time; w_i_diag, w_f_diag, w_o_diag = p_i, p_f, p_o; the state is
    ``LSTMStateTuple(c, h)``, c first. Only diagonal peepholes exist there.
    """
    import warnings

    from oracles.errors import OracleUnavailable

    if options["peepholes"] != "diagonal":
        raise OracleUnavailable("TF 1.x LSTMCell has only diagonal peepholes")
    from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl

    input_size, hidden = params["W_i"].shape
    clip = options["cell_clip"]
    with warnings.catch_warnings():  # the legacy module warns that it is deprecated
        warnings.simplefilter("ignore")
        cell = rnn_cell_impl.LSTMCell(
            hidden,
            use_peepholes=True,
            cell_clip=clip if clip > 0 else None,
            forget_bias=options["forget_bias"],
            dtype=dtype,
        )
        cell.build((None, input_size))
    weights = [cell._kernel, cell._bias, cell._w_i_diag, cell._w_f_diag, cell._w_o_diag]

    def call(x, state0):
        return _scan_tf1_cell(cell, x, state0)

    def from_canonical(values):
        kernel = np.vstack([fuse(values, "W", TF1_LSTM_GATES), fuse(values, "U", TF1_LSTM_GATES)])
        bias = fuse(values, "b", TF1_LSTM_GATES)
        return [kernel, bias, values["p_i"], values["p_f"], values["p_o"]]

    def to_canonical(grads):
        kernel, bias, p_i, p_f, p_o = grads
        return {
            **unfuse(kernel[:input_size], "W", TF1_LSTM_GATES),
            **unfuse(kernel[input_size:], "U", TF1_LSTM_GATES),
            **unfuse(bias, "b", TF1_LSTM_GATES),
            "p_i": p_i,
            "p_f": p_f,
            "p_o": p_o,
        }

    return KerasNet(weights, call, from_canonical, to_canonical)
