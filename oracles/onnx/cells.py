"""ONNX Runtime's networks: torch's native modules, exported once per network shape and run by
ONNX Runtime.

A builder makes torch's module (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``, every layer and direction,
batch-first, float32) and exports it with ``torch.onnx.export`` (the TorchScript exporter,
``dynamo=False``: docs/frameworks.md says why) with

- ``export_params=False`` and ``do_constant_folding=False``: the module's parameters are graph
  inputs named as torch names them (``weight_ih_l0``, …), and the exporter's conversion to ONNX's
  layout (gate blocks reordered, the two biases concatenated into ``B``, directions stacked)
  stays in the graph, as Slice/Concat nodes that ONNX Runtime runs; so one session serves every
  problem's weights;
- open batch and time axes: one session serves every B and T.

Sessions are cached per module shape (cell, I, H, layers, directions, activation), so a float32
and a float64 case of one network share one export. ``layout`` is ``gradparity.torch``'s
canonical-to-torch conversion (gate order i f g o / r z n, ``forget_bias`` in ``bias_ih``, the
zero ``bh_n`` block without ``hidden_n_bias``), in float32. ``forward`` feeds x, the initial
states stacked as torch stacks them ([L·D, B, H], units l0, l0_reverse, l1, …) and the weights,
and reads back the outputs [B, T, D·H] and the final states in the same order.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx
import onnxruntime
import torch

from gradparity.core.errors import OracleUnavailable
from gradparity.core.framework import rebuilding
from gradparity.core.net import Net
from gradparity.core.process import thread_count
from gradparity.reference_impl.stack import of_unit, qualify, unit_names
from gradparity.torch import cells as torch_cells

OPSET = 20  # the TorchScript exporter's default (and highest) opset in torch 2.13
EXAMPLE_BATCH, EXAMPLE_STEPS = 2, 3  # the example input of the export (both axes stay open)

_SESSIONS: dict[tuple, onnxruntime.InferenceSession] = {}


def session_options() -> onnxruntime.SessionOptions:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = thread_count()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    return options


def export(module: torch.nn.Module, states: tuple[str, ...], input_size: int) -> onnx.ModelProto:
    """``module`` (batch-first) as an ONNX model: inputs ``x``, ``h0`` (, ``c0``) and the
    module's parameters by name; outputs ``outputs``, ``h_n`` (, ``c_n``)."""
    stacked = module.num_layers * (2 if module.bidirectional else 1)
    x = torch.zeros(EXAMPLE_BATCH, EXAMPLE_STEPS, input_size)
    widths = {"h": getattr(module, "proj_size", 0) or module.hidden_size, "c": module.hidden_size}
    initial = tuple(torch.zeros(stacked, EXAMPLE_BATCH, widths[s]) for s in states)
    inputs = ["x", *(f"{s}0" for s in states)]
    outputs = ["outputs", *(f"{s}_n" for s in states)]
    axes = {"x": {0: "batch", 1: "time"}, "outputs": {0: "batch", 1: "time"}}
    axes |= {name: {1: "batch"} for name in inputs[1:] + outputs[1:]}
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            module,
            (x, initial if len(states) > 1 else initial[0]),
            buffer,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=OPSET,
            export_params=False,
            do_constant_folding=False,
            dynamo=False,
        )
    return onnx.load_from_string(buffer.getvalue())


def _exported(
    torch_builder,
    module_class,
    params: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    states: tuple[str, ...],
    **module_options,
) -> Net:
    layers, bidirectional = options.get("layers", 1), options.get("bidirectional", False)
    directions = 2 if bidirectional else 1
    units = unit_names(layers, bidirectional)
    first = of_unit(params, units[0])
    input_size, hidden = first[next(iter(first))].shape
    torch_net = torch_builder(params, options, "float32")  # the canonical -> torch conversion
    key = (module_class.__name__, input_size, hidden, layers, bidirectional)
    key += tuple(sorted(module_options.items()))
    if key not in _SESSIONS or rebuilding():
        module = module_class(
            input_size,
            hidden,
            num_layers=layers,
            bidirectional=bidirectional,
            batch_first=True,
            dtype=torch.float32,
            **module_options,
        )
        model = export(module, states, input_size)
        _SESSIONS[key] = onnxruntime.InferenceSession(
            model.SerializeToString(), session_options(), providers=["CPUExecutionProvider"]
        )
    session = _SESSIONS[key]
    weights = torch_net.layout({k: np.zeros(v.shape) for k, v in params.items()})
    expected = {"x", *(f"{s}0" for s in states), *weights}
    found = {i.name for i in session.get_inputs()}
    if found != expected:
        raise ValueError(f"the exported {module_class.__name__} takes {sorted(found)}")
    output_names = ["outputs", *(f"{s}_n" for s in states)]

    def layout(values):
        return {k: np.asarray(v, np.float32) for k, v in torch_net.layout(values).items()}

    def forward(weights, x, state0):
        feeds = {"x": x, **weights}
        for s in states:  # torch's stacking: index layer · D + direction
            feeds[f"{s}0"] = np.stack([state0[qualify(u, s)] for u in units])
        outputs, *finals = session.run(output_names, feeds)
        final = {}
        for state, stacked in zip(states, finals, strict=True):
            for layer in range(layers):
                for d in range(directions):
                    unit = units[layer * directions + d]
                    final[qualify(unit, state)] = stacked[layer * directions + d]
        return outputs, final

    return Net(layout, forward, torch_net.to_canonical)


def lstm(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``nn.LSTM`` exported: one ONNX ``LSTM`` node per layer (gates i, o, f, c; ``B`` =
    [bias_ih; bias_hh] in that order). Without projections: the TorchScript exporter refuses
    them and the dynamo exporter drops them (docs/frameworks.md)."""
    if options["proj_size"]:
        raise OracleUnavailable(
            "an exported LSTM has no projection: torch.onnx.export cannot export"
            " nn.LSTM(proj_size>0): the TorchScript exporter"
            " refuses it ('LSTMs with projections'), the dynamo exporter writes an ONNX LSTM of"
            " hidden_size=proj_size without the projection, which ONNX Runtime rejects"
        )
    return _exported(torch_cells.lstm, torch.nn.LSTM, params, options, ("h", "c"))


def gru(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``nn.GRU`` exported: one ONNX ``GRU`` node per layer, gates z, r, h, with
    ``linear_before_reset=1`` (torch's reset after the product); without ``hidden_n_bias``
    torch's ``bias_hh`` has a zero n block."""
    return _exported(torch_cells.gru, torch.nn.GRU, params, options, ("h",))


def rnn(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str) -> Net:
    """``nn.RNN(nonlinearity=activation)`` exported: one ONNX ``RNN`` node per layer, with
    ``activations`` Tanh or Relu per direction."""
    return _exported(
        torch_cells.rnn, torch.nn.RNN, params, options, ("h",), nonlinearity=options["activation"]
    )
