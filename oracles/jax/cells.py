"""Flax's native builders: the canonical parameters loaded into Flax's own cells, run over time
with ``nnx.RNN`` (batch-first, the carry given and returned).

NNX cells are stateful objects; each builder makes the cell once and, in ``forward``, merges
the framework parameters it is given (JAX arrays being differentiated) into the cell's graph
(``nnx.merge``), so the cell's own ``__call__`` computes with them. Parameters are named by
their path in the cell's state (``hi/kernel``, ``dense_h/bias``). This folder is the only place
that knows Flax's layouts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import flax.linen as linen
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from gradparity.core.errors import OracleUnavailable
from gradparity.core.net import Net
from gradparity.core.sequences import Lengths
from gradparity.reference_impl.gates import fuse, unfuse
from gradparity.reference_impl.stack import is_stacked

LSTM_GATES = ("i", "f", "g", "o")  # OptimizedLSTMCell's block order in dense_i / dense_h
GRU_GATES = ("r", "z", "n")  # NNX GRUCell's block order in dense_i / dense_h
ACTIVATIONS: dict[str, Callable] = {
    "linear": lambda v: v,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "relu": jax.nn.relu,
}


def _sizes(params: Mapping[str, np.ndarray], square: str) -> tuple[int, int]:
    """(I, H) of one unit: its input weights are [I, H], ``square`` is [H, H]."""
    first = next(iter(params.values()))
    return first.shape[0], params[square].shape[0]


def _flax_dtype(dtype: str):
    return jnp.float64 if dtype == "float64" else jnp.float32


class _NNX:
    """An NNX module, ``layer`` (a user's class) or else ``stock``, made with ``args`` and the
    case's dtype, whose parameters are supplied per call, by their path names.

    Flax's own cells are made abstractly (``nnx.eval_shape``): their initializers would compile
    and run once per shape (about 1 s a network here) for values every call replaces. A user's
    module is made as it is, so any state it has besides its parameters keeps its values."""

    def __init__(self, stock: type, layer: type | None, fdtype, *args: Any, **kwargs: Any):
        kwargs |= {"dtype": fdtype, "param_dtype": fdtype}

        def make() -> nnx.Module:  # its own Rngs: eval_shape traces it
            return (layer or stock)(*args, rngs=nnx.Rngs(0), **kwargs)

        self.graphdef, state = nnx.split(make() if layer else nnx.eval_shape(make))
        self.flat = list(nnx.to_flat_state(state))
        self.names = ["/".join(map(str, path)) for path, _ in self.flat]

    def with_params(self, params: Mapping[str, Any]) -> nnx.Module:
        """A fresh module per call (a traced call must not meet variables of another trace):
        ``params`` replace their variables' values, any other state keeps its value."""
        replaced = [
            (path, variable.replace(params.get(name, variable.get_value())))
            for (path, variable), name in zip(self.flat, self.names, strict=True)
        ]
        return nnx.merge(self.graphdef, nnx.from_flat_state(replaced))

    def parameters(self) -> dict[str, tuple[int, ...]]:
        """The module's ``nnx.Param`` leaves: path name → shape."""
        return {
            name: tuple(variable.get_value().shape)
            for (_, variable), name in zip(self.flat, self.names, strict=True)
            if isinstance(variable, nnx.Param)
        }


def _refuses_lengths(lengths: np.ndarray) -> str | None:
    if (lengths == 0).any():
        return (
            "jax: flax's RNN(seq_lengths=…) returns, for a row of length 0, the carry after all"
            " T steps instead of the initial state (it reads the carry at seq_lengths − 1,"
            " which wraps to the last step; docs/frameworks.md, JAX with Flax)"
        )
    return None


def _net(layout, forward, to_canonical, parameters=None) -> Net:
    """A net whose ``forward`` takes per-example lengths (``_over_time``)."""
    return Net(layout, forward, to_canonical, parameters, True, _refuses_lengths)


def _over_time(cell: nnx.Module, x: Any, carry: Any, lengths: Lengths | None) -> tuple[Any, Any]:
    """``nnx.RNN`` over batch-first ``x``: (outputs [B, T, W], final carry). With per-example
    lengths, ``seq_lengths``: the carry stops at each row's last valid step; the outputs past
    it are whatever the cell computed there, so they are masked to the reference's zeros."""
    if lengths is None:
        final, outputs = nnx.RNN(cell, return_carry=True)(x, initial_carry=carry)
        return outputs, final
    final, outputs = nnx.RNN(cell, return_carry=True)(
        x, initial_carry=carry, seq_lengths=lengths.lengths
    )
    return outputs * lengths.mask, final


def lstm(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``nnx.LSTMCell`` for a single layer: input kernels ``ii``, ``if_``, ``ig``, ``io`` [I, H]
    without bias, hidden ``hi``, ``hf``, ``hg``, ``ho`` kernel [H, H] + bias [H] (the canonical
    bias, forget_bias added to ``hf``'s). In a stack, each unit is an ``nnx.OptimizedLSTMCell``:
    ``dense_i/kernel`` [I, 4H] = [W_i|W_f|W_g|W_o] without bias, ``dense_h/kernel`` [H, 4H] and
    ``dense_h/bias`` [4H]. Both carry (c, h): c first. Flax has no projection."""
    if options["proj_size"]:
        raise OracleUnavailable("Flax's LSTM cells have no projection (proj_size)")
    input_size, hidden = _sizes(params, "U_i")
    fdtype = _flax_dtype(dtype)
    optimized = is_stacked(options)
    optimized = optimized and layer is None  # a user's module replaces LSTMCell in every unit
    stock = nnx.OptimizedLSTMCell if optimized else nnx.LSTMCell
    cell = _NNX(stock, layer, fdtype, input_size, hidden)

    def biases(values):
        bias = {g: values[f"b_{g}"] for g in LSTM_GATES}
        return bias | {"f": bias["f"] + options["forget_bias"]}

    def layout(values):
        if optimized:
            return {
                "dense_i/kernel": fuse(values, "W", LSTM_GATES),
                "dense_h/kernel": fuse(values, "U", LSTM_GATES),
                "dense_h/bias": np.concatenate([biases(values)[g] for g in LSTM_GATES]),
            }
        named = {}
        for g in LSTM_GATES:
            named[f"i{'f_' if g == 'f' else g}/kernel"] = values[f"W_{g}"]
            named[f"h{g}/kernel"] = values[f"U_{g}"]
            named[f"h{g}/bias"] = biases(values)[g]
        return named

    def forward(weights, x, state0, lengths=None):
        carry = (state0["c"], state0["h"])
        outputs, (c, h) = _over_time(cell.with_params(weights), x, carry, lengths)
        return outputs, {"h": h, "c": c}

    def to_canonical(grads):
        if optimized:
            return {
                **unfuse(grads["dense_i/kernel"], "W", LSTM_GATES),
                **unfuse(grads["dense_h/kernel"], "U", LSTM_GATES),
                **unfuse(grads["dense_h/bias"], "b", LSTM_GATES),
            }
        canonical = {}
        for g in LSTM_GATES:
            canonical[f"W_{g}"] = grads[f"i{'f_' if g == 'f' else g}/kernel"]
            canonical[f"U_{g}"] = grads[f"h{g}/kernel"]
            canonical[f"b_{g}"] = grads[f"h{g}/bias"]
        return canonical

    return _net(layout, forward, to_canonical, cell.parameters)


def gru(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """The canonical GRU (with ``bh_n``): linen ``GRUCell``, input ``ir``, ``iz``, ``in``
    kernel [I, H] + bias [H], hidden ``hr``, ``hz`` kernel [H, H] without bias (only the sums
    bx_r + bh_r, bx_z + bh_z are identifiable: both get the same gradient) and ``hn`` kernel +
    bias (bh_n, inside r ∘ (…)). Without ``bh_n`` (``hidden_n_bias=False``): NNX ``GRUCell``,
    ``dense_i`` kernel [I, 3H] + bias [3H], ``dense_h`` kernel [H, 3H] and no bias at all
    (google/flax#5594: its docstring says it has one)."""
    input_size, hidden = _sizes(params, "U_r")
    fdtype = _flax_dtype(dtype)
    if not options["hidden_n_bias"]:
        return _nnx_gru(input_size, hidden, fdtype, layer)
    if layer is not None:
        raise OracleUnavailable(
            "a module in place of flax.nnx.GRUCell runs the GRU without bh_n (NNX's GRUCell has"
            " none: google/flax#5594): --option hidden_n_bias=false"
        )
    cell = linen.GRUCell(features=hidden, dtype=fdtype, param_dtype=fdtype)
    rnn = linen.RNN(cell, return_carry=True)

    def layout(values):
        named = {}
        for g in GRU_GATES:
            named[f"i{g}/kernel"] = values[f"W_{g}"]
            named[f"h{g}/kernel"] = values[f"U_{g}"]
        named |= {"ir/bias": values["bx_r"] + values["bh_r"]}
        named |= {"iz/bias": values["bx_z"] + values["bh_z"]}
        return named | {"in/bias": values["bx_n"], "hn/bias": values["bh_n"]}

    def forward(weights, x, state0, lengths=None):
        tree: dict[str, dict[str, Any]] = {}
        for name, value in weights.items():
            module, leaf = name.split("/")
            tree.setdefault(module, {})[leaf] = value
        if lengths is None:
            h, outputs = rnn.apply({"params": {"cell": tree}}, x, initial_carry=state0["h"])
            return outputs, {"h": h}
        h, outputs = rnn.apply(
            {"params": {"cell": tree}}, x, initial_carry=state0["h"], seq_lengths=lengths.lengths
        )
        return outputs * lengths.mask, {"h": h}

    def to_canonical(grads):
        canonical = {}
        for g in GRU_GATES:
            canonical[f"W_{g}"] = grads[f"i{g}/kernel"]
            canonical[f"U_{g}"] = grads[f"h{g}/kernel"]
        canonical |= {"bx_r": grads["ir/bias"], "bh_r": grads["ir/bias"]}
        canonical |= {"bx_z": grads["iz/bias"], "bh_z": grads["iz/bias"]}
        return canonical | {"bx_n": grads["in/bias"], "bh_n": grads["hn/bias"]}

    return _net(layout, forward, to_canonical)


def _nnx_gru(input_size: int, hidden: int, fdtype, layer=None) -> Net:
    cell = _NNX(nnx.GRUCell, layer, fdtype, input_size, hidden)

    def layout(values):
        bias = {"r": values["bx_r"] + values["bh_r"], "z": values["bx_z"] + values["bh_z"]}
        bias["n"] = values["bx_n"]
        return {
            "dense_i/kernel": fuse(values, "W", GRU_GATES),
            "dense_i/bias": np.concatenate([bias[g] for g in GRU_GATES]),
            "dense_h/kernel": fuse(values, "U", GRU_GATES),
        }

    def forward(weights, x, state0, lengths=None):
        outputs, h = _over_time(cell.with_params(weights), x, state0["h"], lengths)
        return outputs, {"h": h}

    def to_canonical(grads):
        bias = unfuse(grads["dense_i/bias"], "bx", GRU_GATES)
        return {
            **unfuse(grads["dense_i/kernel"], "W", GRU_GATES),
            **unfuse(grads["dense_h/kernel"], "U", GRU_GATES),
            **bias,
            "bh_r": bias["bx_r"],
            "bh_z": bias["bx_z"],
        }

    return _net(layout, forward, to_canonical, cell.parameters)


def rnn(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``nnx.SimpleCell(activation_fn=…)``: ``dense_i`` kernel [I, H] + bias [H] (= b),
    ``dense_h`` kernel [H, H] (= U) without bias."""
    input_size, hidden = _sizes(params, "U")
    fdtype = _flax_dtype(dtype)
    activation = ACTIVATIONS[options["activation"]]
    cell = _NNX(nnx.SimpleCell, layer, fdtype, input_size, hidden, activation_fn=activation)

    def layout(values):
        return {
            "dense_i/kernel": values["W"],
            "dense_i/bias": values["b"],
            "dense_h/kernel": values["U"],
        }

    def forward(weights, x, state0, lengths=None):
        outputs, h = _over_time(cell.with_params(weights), x, state0["h"], lengths)
        return outputs, {"h": h}

    def to_canonical(grads):
        return {
            "W": grads["dense_i/kernel"],
            "U": grads["dense_h/kernel"],
            "b": grads["dense_i/bias"],
        }

    return _net(layout, forward, to_canonical, cell.parameters)


def dense(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``nnx.Linear``: kernel [I, H] = W, bias = b, then the activation."""
    input_size, hidden = params["W"].shape
    fdtype = _flax_dtype(dtype)
    linear = _NNX(nnx.Linear, layer, fdtype, input_size, hidden)
    activation = ACTIVATIONS[options["activation"]]

    def layout(values):
        return {"kernel": values["W"], "bias": values["b"]}

    def forward(weights, x, state0):
        return activation(linear.with_params(weights)(x)), {}

    def to_canonical(grads):
        return {"W": grads["kernel"], "b": grads["bias"]}

    return Net(layout, forward, to_canonical, linear.parameters)
