"""PyTorch's native builders: the canonical parameters loaded into torch's own modules.

Each builder makes the module once (per cell, shapes, dtype and options) and returns a ``Net``
(``core.net``): ``layout`` converts canonical parameters to the module's, ``forward`` runs the
module with them (``torch.func.functional_call``), ``to_canonical`` converts the module's
gradients back. This folder is the only place that knows torch's layouts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch.func import functional_call
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from gradparity.core.errors import OracleUnavailable
from gradparity.core.net import Net
from gradparity.reference_impl.gates import fuse, unfuse
from gradparity.reference_impl.gru import hidden_biases
from gradparity.reference_impl.stack import of_unit, qualify, unit_names

LSTM_GATES = ("i", "f", "g", "o")  # torch's block order in weight_ih / weight_hh / biases


def _native_recurrent(
    module_class,
    params: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    dtype: str,
    states: tuple[str, ...],
    to_module,
    from_module,
    layer=None,
    **module_options,
) -> Net:
    """A torch RNN module (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``) with all its layers and
    directions: unit ``l1_reverse`` is torch's suffix ``_l1_reverse``, the single unit ``_l0``.
    ``to_module(unit_params)`` gives ``{"weight_ih": …, "weight_hh": …, "bias_ih": …,
    "bias_hh": …}``; ``from_module`` converts their gradients back. Initial and final states
    are stacked in torch's order: l0, l0_reverse, l1, …; ``layer`` (a user's drop-in module)
    is constructed and called as ``module_class`` would be."""
    layers, bidirectional = options.get("layers", 1), options.get("bidirectional", False)
    units = unit_names(layers, bidirectional)
    suffixes = {u: "_" + (u or "l0") for u in units}
    first = of_unit(params, units[0])
    input_size, hidden = first[next(iter(first))].shape
    module = (layer or module_class)(
        input_size,
        hidden,
        num_layers=layers,
        bidirectional=bidirectional,
        batch_first=True,
        dtype=getattr(torch, dtype),
        **module_options,
    )

    def layout(values):
        named = {}
        for unit, suffix in suffixes.items():
            named |= {k + suffix: v for k, v in to_module(of_unit(values, unit)).items()}
        return named

    def forward(weights, x, state0, lengths=None):
        initial = [torch.stack([state0[qualify(u, s)] for u in units]) for s in states]
        sequence = x if lengths is None else _packed(x, lengths.lengths)
        arguments = (sequence, tuple(initial) if len(states) > 1 else initial[0])
        returned = functional_call(module, dict(weights), arguments)
        outputs, final = _returned(returned, len(states))
        if lengths is not None:
            outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=x.shape[1])
        final = final if len(states) > 1 else (final,)
        named = {}
        for state, stacked in zip(states, final, strict=True):
            named |= {qualify(u, state): stacked[i] for i, u in enumerate(units)}
        return outputs, named

    def to_canonical(grads):
        canonical = {}
        for unit, suffix in suffixes.items():
            unit_grads = {k[: -len(suffix)]: g for k, g in grads.items() if k.endswith(suffix)}
            canonical |= {qualify(unit, k): v for k, v in from_module(unit_grads).items()}
        return canonical

    return Net(layout, forward, to_canonical, _parameters(module), True, _refuses_lengths)


def _refuses_lengths(lengths: np.ndarray) -> str | None:
    if (lengths == 0).any():
        return "torch: pack_padded_sequence refuses a row of length 0 (its lengths must be ≥ 1)"
    return None


def _packed(x: torch.Tensor, lengths: torch.Tensor) -> PackedSequence:
    """``x`` [B, T, I] packed to each row's length, in the batch's order (``enforce_sorted``
    off: torch sorts, and puts the final states back in the batch's order)."""
    return pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)


def _returned(returned: Any, states: int) -> tuple[Any, Any]:
    """``(output, h_n)`` or ``(output, (h_n, c_n))`` as torch's modules return them; another
    structure (a user's module that does not fit) is a TypeError saying what came back."""
    if isinstance(returned, tuple) and len(returned) == 2:
        final = returned[1]
        if states == 1 or (isinstance(final, tuple) and len(final) == states):
            return returned
    expected = "(output, h_n)" if states == 1 else "(output, (h_n, c_n))"
    raise TypeError(f"it returned {_structure(returned)}, expected {expected}")


def _structure(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {list(value.shape)}"
    if isinstance(value, tuple | list):
        return f"a {type(value).__name__} of ({', '.join(_structure(v) for v in value)})"
    return f"a {type(value).__name__}"


def _parameters(module: torch.nn.Module):
    return lambda: {name: tuple(p.shape) for name, p in module.named_parameters()}


def _split_bias(bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """torch's ``bias_ih`` and ``bias_hh`` for one canonical bias: both nonzero (``bias_hh`` is
    half the bias reversed, ``bias_ih`` the rest), so that a module that drops either one, or
    adds it to the wrong gate, gives different values."""
    bias_hh = bias[::-1] / 2
    return bias - bias_hh, bias_hh


def _bias_gradient(grads: Mapping[str, np.ndarray]) -> np.ndarray:
    """dL/db: both biases' gradients equal it; their mean is off if either one is wrong."""
    return (grads["bias_ih"] + grads["bias_hh"]) / 2


def _hidden_size(params: Mapping[str, np.ndarray]) -> int:
    """H, read off the input weights [I, H] of the first unit (the first parameter)."""
    return next(iter(params.values())).shape[-1]


def lstm(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``nn.LSTM``: weight_ih = [W_i|W_f|W_g|W_o]ᵀ, weight_hh likewise with U, and with a
    projection weight_hr = W_pᵀ (``proj_size``).

    torch adds two bias vectors, which together carry b (plus forget_bias in the f block):
    ``_split_bias``.
    """

    if options["proj_size"] >= _hidden_size(params):
        raise OracleUnavailable("torch nn.LSTM requires proj_size < hidden_size")

    def to_module(unit):
        bias = fuse(unit, "b", LSTM_GATES).copy()
        hidden = unit["W_i"].shape[1]
        bias[hidden : 2 * hidden] += options["forget_bias"]
        bias_ih, bias_hh = _split_bias(bias)
        weights = {
            "weight_ih": fuse(unit, "W", LSTM_GATES).T,
            "weight_hh": fuse(unit, "U", LSTM_GATES).T,
            "bias_ih": bias_ih,
            "bias_hh": bias_hh,
        }
        if "W_p" in unit:
            weights["weight_hr"] = unit["W_p"].T  # torch: h = (o ∘ tanh c) @ weight_hrᵀ
        return weights

    def from_module(grads):
        canonical = {
            **unfuse(grads["weight_ih"].T, "W", LSTM_GATES),
            **unfuse(grads["weight_hh"].T, "U", LSTM_GATES),
            **unfuse(_bias_gradient(grads), "b", LSTM_GATES),
        }
        if "weight_hr" in grads:
            canonical["W_p"] = grads["weight_hr"].T
        return canonical

    return _native_recurrent(
        torch.nn.LSTM,
        params,
        options,
        dtype,
        ("h", "c"),
        to_module,
        from_module,
        layer,
        proj_size=options["proj_size"],
    )


ACTIVATIONS = {
    "linear": lambda v: v,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
}


def dense(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``nn.Linear`` (weight = Wᵀ) followed by the activation."""
    in_features, out_features = params["W"].shape
    module = (layer or torch.nn.Linear)(in_features, out_features, dtype=getattr(torch, dtype))
    activation = ACTIVATIONS[options["activation"]]

    def layout(values):
        return {"weight": values["W"].T, "bias": values["b"]}

    def forward(weights, x, state0):
        return activation(functional_call(module, dict(weights), (x,))), {}

    def to_canonical(grads):
        return {"W": grads["weight"].T, "b": grads["bias"]}

    return Net(layout, forward, to_canonical, _parameters(module))


GRU_GATES = ("r", "z", "n")  # torch's block order in weight_ih / weight_hh / biases


def gru(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``nn.GRU`` (reset after the product): weight_ih = [W_r|W_z|W_n]ᵀ, weight_hh likewise
    with U, bias_ih = [bx_r|bx_z|bx_n], bias_hh = [bh_r|bh_z|bh_n] (its n block zero, its
    gradient dropped, when the cell has no bh_n)."""

    def to_module(unit):
        return {
            "weight_ih": fuse(unit, "W", GRU_GATES).T,
            "weight_hh": fuse(unit, "U", GRU_GATES).T,
            "bias_ih": fuse(unit, "bx", GRU_GATES),
            "bias_hh": hidden_biases(unit),  # a zero n block without bh_n
        }

    def from_module(grads):
        return {
            **unfuse(grads["weight_ih"].T, "W", GRU_GATES),
            **unfuse(grads["weight_hh"].T, "U", GRU_GATES),
            **unfuse(grads["bias_ih"], "bx", GRU_GATES),
            **unfuse(grads["bias_hh"], "bh", GRU_GATES),
        }

    return _native_recurrent(
        torch.nn.GRU, params, options, dtype, ("h",), to_module, from_module, layer
    )


def rnn(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``nn.RNN(nonlinearity=activation)``: weight_ih = Wᵀ, weight_hh = Uᵀ.

    torch adds two bias vectors, which together carry b: ``_split_bias``.
    """

    def to_module(unit):
        bias_ih, bias_hh = _split_bias(unit["b"])
        return {
            "weight_ih": unit["W"].T,
            "weight_hh": unit["U"].T,
            "bias_ih": bias_ih,
            "bias_hh": bias_hh,
        }

    def from_module(grads):
        return {"W": grads["weight_ih"].T, "U": grads["weight_hh"].T, "b": _bias_gradient(grads)}

    return _native_recurrent(
        torch.nn.RNN,
        params,
        options,
        dtype,
        ("h",),
        to_module,
        from_module,
        layer,
        nonlinearity=options["activation"],
    )
