"""PaddlePaddle's native builders: the canonical parameters loaded into Paddle's own layers.

Each builder makes the layer once (per cell, shapes, dtype and options) and returns a ``Net``
(``core.net``). Paddle has no functional call, so ``forward`` lends the layer the tensors being
differentiated for the length of one call (``_lent``) and runs the layer's own ``forward``.
The framework's parameter names are the cells' own (``0.cell_bw.weight_ih``, the keys of
``state_dict()``), never the torch-style aliases (``weight_ih_l0_reverse``), which with
``proj_size`` name the wrong tensors (``facts.py``). This folder is the only place that knows
Paddle's layouts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import paddle

from gradparity.core.errors import OracleUnavailable
from gradparity.core.net import Net
from gradparity.reference_impl.gates import fuse, unfuse
from gradparity.reference_impl.gru import hidden_biases
from gradparity.reference_impl.stack import of_unit, qualify, unit_names

LSTM_GATES = ("i", "f", "g", "o")  # Paddle's block order in weight_ih / weight_hh / biases


@contextmanager
def _default_dtype(dtype: str) -> Iterator[None]:
    previous = paddle.get_default_dtype()
    paddle.set_default_dtype(dtype)
    try:
        yield
    finally:
        paddle.set_default_dtype(previous)


def _cell_names(units: list[str], bidirectional: bool) -> dict[str, str]:
    """Each unit's cell, by its name in the layer: unit ``l1_reverse`` is ``1.cell_bw``, ``l1``
    ``1.cell_fw`` (bidirectional) or ``1.cell``, the single unit ``0.cell``."""
    names = {}
    for unit in units:
        layer = (unit or "l0").split("_")[0].removeprefix("l")
        cell = ("cell_bw" if unit.endswith("_reverse") else "cell_fw") if bidirectional else "cell"
        names[unit] = f"{layer}.{cell}"
    return names


@contextmanager
def _lent(module: paddle.nn.Layer, owners: Mapping[int, str], tensors: Mapping[str, Any]):
    """``module`` with each of its parameters (``owners``: ``id(parameter) -> name``) replaced by
    ``tensors[name]`` wherever the module holds it: every sublayer's parameters (a cell's own
    and the aliases its RNN layer keeps) and the weight list of the fused kernel
    (``_all_weights``, used when no layer has a projection); restored afterwards."""
    lent = []
    for _, layer in module.named_sublayers(include_self=True):
        for key, parameter in layer._parameters.items():
            if parameter is not None and id(parameter) in owners:
                lent.append((layer._parameters, key, parameter))
    fused = getattr(module, "_all_weights", None)
    try:
        for held, key, parameter in lent:
            held[key] = tensors[owners[id(parameter)]]
        if fused is not None:
            module._all_weights = [tensors[owners[id(p)]] for p in fused]
        yield module
    finally:
        for held, key, parameter in lent:
            held[key] = parameter
        if fused is not None:
            module._all_weights = fused


def _native_recurrent(
    module_class,
    params: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    dtype: str,
    states: tuple[str, ...],
    to_cell,
    from_cell,
    **module_options,
) -> Net:
    """A Paddle RNN layer (``nn.LSTM``, ``nn.GRU``, ``nn.SimpleRNN``) with all its layers and
    directions, batch-first (``time_major=False``). Unit ``l1_reverse`` is the cell
    ``1.cell_bw``, ``l1`` of a bidirectional layer ``1.cell_fw``, the single unit ``0.cell``.
    ``to_cell(unit_params)`` gives ``{"weight_ih": …, "weight_hh": …, "bias_ih": …, "bias_hh":
    …}`` (and ``weight_ho``); ``from_cell`` converts their gradients back. Initial and final
    states are stacked in Paddle's order (torch's): l0, l0_reverse, l1, …"""
    layers, bidirectional = options.get("layers", 1), options.get("bidirectional", False)
    units = unit_names(layers, bidirectional)
    first = of_unit(params, units[0])
    input_size, hidden = first[next(iter(first))].shape
    with _default_dtype(dtype):
        module = module_class(
            input_size,
            hidden,
            num_layers=layers,
            direction="bidirect" if bidirectional else "forward",
            time_major=False,
            **module_options,
        )
    cells, sublayers = _cell_names(units, bidirectional), dict(module.named_sublayers())
    prefixes = {unit: name + "." for unit, name in cells.items()}
    owners = {
        id(parameter): prefixes[unit] + key
        for unit, name in cells.items()
        for key, parameter in sublayers[name]._parameters.items()
    }

    def layout(values):
        named = {}
        for unit, prefix in prefixes.items():
            named |= {prefix + k: v for k, v in to_cell(of_unit(values, unit)).items()}
        return named

    def forward(weights, x, state0, lengths=None):
        initial = [paddle.stack([state0[qualify(u, s)] for u in units]) for s in states]
        initial = tuple(initial) if len(states) > 1 else initial[0]
        sequence_length = None if lengths is None else lengths.lengths
        with _lent(module, owners, weights):
            outputs, final = module(x, initial, sequence_length=sequence_length)
        if lengths is not None:  # with proj_size Paddle leaves them as computed (facts.py)
            outputs = outputs * lengths.mask
        final = final if len(states) > 1 else (final,)
        named = {}
        for state, stacked in zip(states, final, strict=True):
            named |= {qualify(u, state): stacked[i] for i, u in enumerate(units)}
        return outputs, named

    def to_canonical(grads):
        canonical = {}
        for unit, prefix in prefixes.items():
            unit_grads = {k[len(prefix) :]: g for k, g in grads.items() if k.startswith(prefix)}
            canonical |= {qualify(unit, k): v for k, v in from_cell(unit_grads).items()}
        return canonical

    def refuses_lengths(lengths):
        return REVERSE_LENGTHS_GRADIENT if bidirectional else None

    return Net(layout, forward, to_canonical, ragged=True, refuses_lengths=refuses_lengths)


REVERSE_LENGTHS_GRADIENT = (
    "paddle: with sequence_length and an initial state, a bidirectional layer's reverse"
    " weight_hh gradient is wrong (paddle 3.3.1: it differs from central differences of"
    " Paddle's own forward by up to 0.44 where its largest entry is 1.8; the forward direction, the"
    " values and every other gradient agree: docs/frameworks.md, PaddlePaddle; found by"
    " gradparity, not yet reported upstream)"
)


def _hidden_size(params: Mapping[str, np.ndarray]) -> int:
    """H, read off the input weights [I, H] of the first unit (the first parameter)."""
    return next(iter(params.values())).shape[-1]


def lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``nn.LSTM``: weight_ih = [W_i|W_f|W_g|W_o]ᵀ, weight_hh likewise with U, and with a
    projection weight_ho = W_p itself ([H, P], applied as ``h @ weight_ho``; torch's
    weight_hr is its transpose).

    Paddle adds two bias vectors; ``bias_ih`` carries b (plus forget_bias in the f block) and
    ``bias_hh`` is zero. Both receive the same gradient, which is dL/db.
    """

    if options["proj_size"] >= _hidden_size(params):
        raise OracleUnavailable("paddle nn.LSTM requires proj_size < hidden_size")

    def to_cell(unit):
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
            weights["weight_ho"] = unit["W_p"]  # Paddle: h = (o ∘ tanh c) @ weight_ho
        return weights

    def from_cell(grads):
        canonical = {
            **unfuse(grads["weight_ih"].T, "W", LSTM_GATES),
            **unfuse(grads["weight_hh"].T, "U", LSTM_GATES),
            **unfuse(grads["bias_ih"], "b", LSTM_GATES),
        }
        if "weight_ho" in grads:
            canonical["W_p"] = grads["weight_ho"]
        return canonical

    return _native_recurrent(
        paddle.nn.LSTM,
        params,
        options,
        dtype,
        ("h", "c"),
        to_cell,
        from_cell,
        proj_size=options["proj_size"],
    )


ACTIVATIONS = {
    "linear": lambda v: v,
    "tanh": paddle.tanh,
    "sigmoid": paddle.nn.functional.sigmoid,
    "relu": paddle.nn.functional.relu,
}


def dense(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``nn.Linear``: weight = W itself ([I, H], applied as ``x @ weight``; torch's is its
    transpose), followed by the activation."""
    in_features, out_features = params["W"].shape
    with _default_dtype(dtype):
        module = paddle.nn.Linear(in_features, out_features)
    owners = {id(module.weight): "weight", id(module.bias): "bias"}
    activation = ACTIVATIONS[options["activation"]]

    def layout(values):
        return {"weight": values["W"], "bias": values["b"]}

    def forward(weights, x, state0):
        with _lent(module, owners, weights):
            return activation(module(x)), {}

    def to_canonical(grads):
        return {"W": grads["weight"], "b": grads["bias"]}

    return Net(layout, forward, to_canonical)


GRU_GATES = ("r", "z", "n")  # Paddle's block order (r, z, c) in weight_ih / weight_hh / biases


def gru(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``nn.GRU`` (reset after the product): weight_ih = [W_r|W_z|W_n]ᵀ, weight_hh likewise
    with U, bias_ih = [bx_r|bx_z|bx_n], bias_hh = [bh_r|bh_z|bh_n] (its n block zero, its
    gradient dropped, when the cell has no bh_n)."""

    def to_cell(unit):
        return {
            "weight_ih": fuse(unit, "W", GRU_GATES).T,
            "weight_hh": fuse(unit, "U", GRU_GATES).T,
            "bias_ih": fuse(unit, "bx", GRU_GATES),
            "bias_hh": hidden_biases(unit),  # a zero n block without bh_n
        }

    def from_cell(grads):
        return {
            **unfuse(grads["weight_ih"].T, "W", GRU_GATES),
            **unfuse(grads["weight_hh"].T, "U", GRU_GATES),
            **unfuse(grads["bias_ih"], "bx", GRU_GATES),
            **unfuse(grads["bias_hh"], "bh", GRU_GATES),
        }

    return _native_recurrent(paddle.nn.GRU, params, options, dtype, ("h",), to_cell, from_cell)


def rnn(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``nn.SimpleRNN(activation=…)``: weight_ih = Wᵀ, weight_hh = Uᵀ.

    Paddle adds two bias vectors; ``bias_ih`` carries b and ``bias_hh`` is zero. Both receive
    the same gradient, which is dL/db.
    """

    def to_cell(unit):
        return {
            "weight_ih": unit["W"].T,
            "weight_hh": unit["U"].T,
            "bias_ih": unit["b"],
            "bias_hh": np.zeros_like(unit["b"]),
        }

    def from_cell(grads):
        return {"W": grads["weight_ih"].T, "U": grads["weight_hh"].T, "b": grads["bias_ih"]}

    return _native_recurrent(
        paddle.nn.SimpleRNN,
        params,
        options,
        dtype,
        ("h",),
        to_cell,
        from_cell,
        activation=options["activation"],
    )
