"""Stacking single-layer networks into layers and directions, written once for the reference's
conventions (``reference_impl.stack``, PyTorch's): layer 0 reads ``x``; each later layer reads
the concatenated outputs of the previous one (forward direction first); a ``_reverse`` unit
reads the time-reversed input and its outputs are flipped back. Framework-free: each framework
passes its own ``flip`` (time axis) and ``concat`` (feature axis)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import groupby
from typing import Any

from gradparity.core.net import Net
from gradparity.reference_impl.stack import of_unit, qualify


def units_by_layer(units: list[str]) -> list[list[str]]:
    return [list(group) for _, group in groupby(units, key=lambda u: u.split("_")[0])]


def run_stack(
    units: list[str],
    call_unit: Callable[[str, Any, dict[str, Any]], tuple[Any, dict[str, Any]]],
    x: Any,
    state0: Mapping[str, Any],
    flip: Callable[[Any], Any],
    concat: Callable[[list[Any]], Any],
) -> tuple[Any, dict[str, Any]]:
    layer_input, final = x, {}
    for layer in units_by_layer(units):
        outputs = []
        for unit in layer:
            reverse = unit.endswith("_reverse")
            unit_input = flip(layer_input) if reverse else layer_input
            out, unit_final = call_unit(unit, unit_input, of_unit(state0, unit))
            outputs.append(flip(out) if reverse else out)
            final |= {qualify(unit, s): v for s, v in unit_final.items()}
        layer_input = concat(outputs)
    return layer_input, final


def stack_nets(
    nets: Mapping[str, Net], flip: Callable[[Any], Any], concat: Callable[[list[Any]], Any]
) -> Net:
    """One network of the units' single-layer networks (``{unit: net}``, in unit order); its
    parameters carry the unit prefix (``l1_reverse/weight_ih``)."""
    units = list(nets)

    def layout(values):
        return {
            qualify(u, k): v
            for u, net in nets.items()
            for k, v in net.layout(of_unit(values, u)).items()
        }

    def forward(params, x, state0):
        def call_unit(unit, unit_input, unit_state0):
            return nets[unit].forward(of_unit(params, unit), unit_input, unit_state0)

        return run_stack(units, call_unit, x, state0, flip, concat)

    def to_canonical(grads):
        canonical = {}
        for unit, net in nets.items():
            unit_grads = net.to_canonical(of_unit(grads, unit))
            canonical |= {qualify(unit, k): v for k, v in unit_grads.items()}
        return canonical

    return Net(layout, forward, to_canonical)
