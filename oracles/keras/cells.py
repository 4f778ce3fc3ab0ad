"""Keras 3 native builders, for every backend (``gradparity.tf``: TensorFlow; ``keras_jax``,
``keras_torch``: this folder): the canonical parameters loaded into Keras's own layers.

Each builder builds the layers once (per cell, shapes, dtype and options) and returns a ``Net``
(``core.net``): ``layout`` converts canonical parameters to the layers' trainable variables (named
``<unit>/<variable>``), ``forward`` runs the layers on them with ``Layer.stateless_call`` (so the
parameters are inputs of the traced step, not variables to assign), ``to_canonical`` converts
their gradients back. Nothing here depends on the backend: the backend's tensors flow through
``stateless_call``, and each adapter differentiates them its own way. This module is the only
place that knows Keras's layouts.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
from keras.src import backend as keras_backend

from gradparity.core.errors import OracleUnavailable
from gradparity.core.net import Net
from gradparity.reference_impl.gates import fuse, unfuse
from gradparity.reference_impl.gru import hidden_biases
from gradparity.reference_impl.stack import of_unit, qualify, unit_names

LSTM_GATES = ("i", "f", "g", "o")  # Keras's block order in kernel / recurrent_kernel / bias


def activation(name: str, dtype: str) -> Any:
    """The activation ``name`` of a ``dtype`` layer: Keras's own, by name, unless it computes
    ``dtype`` in a narrower type on this backend; then the backend's own function of that name
    (``keras.src.backend.nn``, e.g. ``jax.nn.tanh``). Keras on JAX computes ``keras.ops.tanh``
    of float64 in float32 (``keras.backend.result_type`` maps float64 to float32 on every
    backend but TensorFlow's), which would make a float64 layer float32-accurate (about 1e-7
    relative: docs/frameworks.md, ``keras_jax``). On TensorFlow and torch: the name itself."""
    own = keras.activations.get(name)(keras.ops.ones((1,), dtype=dtype))
    if keras.backend.standardize_dtype(own.dtype) == dtype:
        return name
    return getattr(keras_backend.nn, name)


INITIALIZERS = ("kernel_initializer", "recurrent_initializer", "bias_initializer")


def _made(layer: Any, stock: Any, *args: Any, **kwargs: Any) -> Any:
    """A user's ``layer`` in place of ``stock``, or the ``stock`` layer with zeros for initial
    values: every call supplies all its variables (``stateless_call``), and Keras on JAX compiles
    and runs its random initializers once per shape (about 1 s a network here)."""
    if layer is not None:
        return layer(*args, **kwargs)
    initializers = [n for n in INITIALIZERS if n in inspect.signature(stock).parameters]
    return stock(*args, **kwargs, **dict.fromkeys(initializers, "zeros"))


def _hidden(params: Mapping[str, np.ndarray], options: Mapping[str, Any], square: str) -> int:
    """H, read off the square recurrent matrix ``square`` of the first unit."""
    units = unit_names(options.get("layers", 1), options.get("bidirectional", False))
    return of_unit(params, units[0])[square].shape[0]


RECURRENT_VARIABLES = ("kernel", "recurrent_kernel", "bias")  # LSTM, GRU, SimpleRNN


def _keras_recurrent(
    make_layer, params, options, dtype: str, states: tuple[str, ...], to_weights, from_weights
) -> Net:
    """Keras recurrent layers for every layer of the stack, each wrapped in
    ``keras.layers.Bidirectional`` when bidirectional (its backward layer is unit
    ``l<k>_reverse``). ``make_layer()`` makes one layer (return_sequences and return_state on);
    ``to_weights(unit_params)`` gives the values of the stock layer's variables
    ``RECURRENT_VARIABLES``, in that order; ``from_weights`` the canonical gradients of one unit
    from theirs. Variables are matched by name, so a user's layer in place of the stock one
    (``core.layers``) is loaded, read and checked by the stock names."""
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
            # Bidirectional rebuilds both directions from the layer's config, where activations
            # are names: give them the layer's own functions back (``activation``)
            template = make_layer().cell
            for direction in (layer.forward_layer, layer.backward_layer):
                for name in ("activation", "recurrent_activation"):
                    if hasattr(template, name):
                        setattr(direction.cell, name, getattr(template, name))
        else:
            by_unit[units[k]] = layer
    names = {
        id(v): qualify(unit, v.name)
        for unit, layer in by_unit.items()
        for v in layer.trainable_variables
    }
    fixed = [[v.value for v in layer.non_trainable_variables] for layer in stack]

    def layout(values):
        named = {}
        for unit in units:
            weights = to_weights(of_unit(values, unit))
            named |= {
                qualify(unit, name): w for name, w in zip(RECURRENT_VARIABLES, weights, strict=True)
            }
        return named

    def forward(weights, x, state0, lengths=None):
        layer_input, final = x, {}
        masked = {} if lengths is None else {"mask": keras.ops.greater(lengths.mask[..., 0], 0)}
        for k, layer in enumerate(stack):
            layer_units = [u for u in units if u.split("_")[0] == (f"l{k}" if u else "")]
            initial = [state0[qualify(u, s)] for u in layer_units for s in states]
            trainable = [weights[names[id(v)]] for v in layer.trainable_variables]
            results, _ = layer.stateless_call(
                trainable, fixed[k], layer_input, initial_state=initial, **masked
            )
            layer_input, *finals = results
            labels = [qualify(u, s) for u in layer_units for s in states]
            final |= dict(zip(labels, finals, strict=True))
        if lengths is not None:  # Keras carries the last valid output over masked steps
            layer_input = keras.ops.multiply(layer_input, lengths.mask)
        return layer_input, final

    def to_canonical(grads):
        canonical = {}
        for unit in units:
            unit_grads = [grads[qualify(unit, name)] for name in RECURRENT_VARIABLES]
            canonical |= {qualify(unit, k): v for k, v in from_weights(unit_grads).items()}
        return canonical

    def parameters():
        return {names[id(v)]: tuple(v.shape) for layer in stack for v in layer.trainable_variables}

    return Net(layout, forward, to_canonical, parameters, ragged=True)


def lstm(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``keras.layers.LSTM``: kernel = [W_i|W_f|W_g|W_o], recurrent_kernel likewise with U,
    bias = [b_i|b_f|b_g|b_o] with forget_bias added to the f block. Keras has no projection
    (``gradparity.tf`` sends ``proj_size`` to TensorFlow's own TF 1.x ``num_proj``)."""
    if options["proj_size"]:
        raise OracleUnavailable("keras.layers.LSTM has no projection (proj_size)")
    hidden = _hidden(params, options, "U_i")

    def make_layer():
        return _made(
            layer,
            keras.layers.LSTM,
            hidden,
            activation=activation("tanh", dtype),
            recurrent_activation=activation("sigmoid", dtype),
            return_sequences=True,
            return_state=True,
            dtype=dtype,
        )

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


def dense(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``keras.layers.Dense``: kernel = W, bias = b, activation by name."""
    input_size, hidden = params["W"].shape
    module = _made(
        layer,
        keras.layers.Dense,
        hidden,
        activation=activation(options["activation"], dtype),
        dtype=dtype,
    )
    module.build((None, input_size))

    def layout(values):
        return {"kernel": values["W"], "bias": values["b"]}

    def forward(weights, x, state0):
        trainable = [weights[v.name] for v in module.trainable_variables]
        fixed = [v.value for v in module.non_trainable_variables]
        outputs, _ = module.stateless_call(trainable, fixed, x)
        return outputs, {}

    def to_canonical(grads):
        return {"W": grads["kernel"], "b": grads["bias"]}

    def parameters():
        return {v.name: tuple(v.shape) for v in module.trainable_variables}

    return Net(layout, forward, to_canonical, parameters)  # no time axis: no lengths


GRU_GATES = ("z", "r", "n")  # Keras's block order (it calls the candidate "h")


def gru(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``keras.layers.GRU(reset_after=True)``: kernel = [W_z|W_r|W_n], recurrent_kernel likewise
    with U, bias [2, 3H] with row 0 = [bx_z|bx_r|bx_n] (input) and row 1 the recurrent bh."""
    hidden = _hidden(params, options, "U_r")

    def make_layer():
        return _made(
            layer,
            keras.layers.GRU,
            hidden,
            activation=activation("tanh", dtype),
            recurrent_activation=activation("sigmoid", dtype),
            reset_after=True,
            return_sequences=True,
            return_state=True,
            dtype=dtype,
        )

    def to_weights(unit):
        recurrent = unfuse(hidden_biases(unit), "bh", ("r", "z", "n"))  # zero n without bh_n
        bias = np.stack([fuse(unit, "bx", GRU_GATES), fuse(recurrent, "bh", GRU_GATES)])
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
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``keras.layers.GRU(reset_after=False)``: kernel = [W_z|W_r|W_n], recurrent_kernel
    likewise with U, bias = [b_z|b_r|b_n] (one vector, [3H])."""
    hidden = _hidden(params, options, "U_r")

    def make_layer():
        return _made(
            layer,
            keras.layers.GRU,
            hidden,
            activation=activation("tanh", dtype),
            recurrent_activation=activation("sigmoid", dtype),
            reset_after=False,
            return_sequences=True,
            return_state=True,
            dtype=dtype,
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


def rnn(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``keras.layers.SimpleRNN``: kernel = W, recurrent_kernel = U, bias = b, activation by
    name."""
    hidden = _hidden(params, options, "U")

    def make_layer():
        return _made(
            layer,
            keras.layers.SimpleRNN,
            hidden,
            activation=activation(options["activation"], dtype),
            return_sequences=True,
            return_state=True,
            dtype=dtype,
        )

    def to_weights(unit):
        return [unit["W"], unit["U"], unit["b"]]

    def from_weights(grads):
        return dict(zip(("W", "U", "b"), grads, strict=True))

    return _keras_recurrent(make_layer, params, options, dtype, ("h",), to_weights, from_weights)
