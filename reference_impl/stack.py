"""Stacked and bidirectional networks, composed from any single-layer cell.

A network of L layers, each with one direction or two, has one *unit* per layer and direction,
named ``l0``, ``l0_reverse``, ``l1``, … (PyTorch's order). A unit's parameters and states carry
its name as a prefix: ``l1_reverse/W_i``, ``l0/h``. A single unidirectional layer has one unit
with no prefix, so its names are the cell's own.

Layer 0 reads ``x``; layer k ≥ 1 reads the concatenated outputs of layer k − 1's directions
(forward first). The reverse direction runs on the time-reversed input and its outputs are
flipped back, so ``outputs[:, t]`` of both directions refer to the same step.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np


def unit_names(layers: int, bidirectional: bool) -> list[str]:
    if layers == 1 and not bidirectional:
        return [""]
    directions = ("", "_reverse") if bidirectional else ("",)
    return [f"l{k}{d}" for k in range(layers) for d in directions]


def qualify(unit: str, name: str) -> str:
    return f"{unit}/{name}" if unit else name


def of_unit(named: Mapping[str, Any], unit: str) -> dict[str, Any]:
    """The entries of ``unit`` with its prefix removed."""
    if not unit:
        return dict(named)
    prefix = unit + "/"
    return {k[len(prefix) :]: v for k, v in named.items() if k.startswith(prefix)}


def is_stacked(options: Mapping[str, Any]) -> bool:
    return options.get("layers", 1) > 1 or bool(options.get("bidirectional", False))


class Stack:
    """A cell module's ``forward``/``backward`` over a stack of units (the same interface)."""

    def __init__(self, cell: ModuleType, layers: int, bidirectional: bool):
        self.cell = cell
        self.layers = layers
        self.directions = ("", "_reverse") if bidirectional else ("",)

    def _units(self, k: int) -> list[tuple[str, bool]]:
        return [(f"l{k}{d}", d == "_reverse") for d in self.directions]

    def forward(self, params, x, state0, options):
        layer_input, final, caches = x, {}, {}
        for k in range(self.layers):
            outputs = []
            for unit, reverse in self._units(k):
                unit_input = layer_input[:, ::-1] if reverse else layer_input
                out, unit_final, cache = self.cell.forward(
                    of_unit(params, unit), unit_input, of_unit(state0, unit), options
                )
                outputs.append(out[:, ::-1] if reverse else out)
                final |= {qualify(unit, s): v for s, v in unit_final.items()}
                caches[unit] = cache
            layer_input = np.concatenate(outputs, axis=-1)
        return layer_input, final, caches

    def backward(self, params, caches, d_outputs, d_final, options):
        grads, dstate0 = {}, {}
        d_layer_output = d_outputs
        for k in reversed(range(self.layers)):
            d_parts = np.split(d_layer_output, len(self.directions), axis=-1)
            d_layer_input = 0.0
            for (unit, reverse), d_out in zip(self._units(k), d_parts, strict=True):
                unit_grads, dx, unit_dstate0 = self.cell.backward(
                    of_unit(params, unit),
                    caches[unit],
                    d_out[:, ::-1] if reverse else d_out,
                    of_unit(d_final, unit),
                    options,
                )
                d_layer_input = d_layer_input + (dx[:, ::-1] if reverse else dx)  # input forks
                grads |= {qualify(unit, p): g for p, g in unit_grads.items()}
                dstate0 |= {qualify(unit, s): g for s, g in unit_dstate0.items()}
            d_layer_output = d_layer_input
        return grads, d_layer_output, dstate0
