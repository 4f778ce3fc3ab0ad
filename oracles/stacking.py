"""Stacking single-layer framework nets into layers and directions, for builders that do not
stack natively. Framework-free: each oracle passes its own ``flip`` (time axis) and ``concat``
(feature axis). The conventions are those of ``reference_impl.stack`` and of PyTorch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import groupby
from typing import Any

from reference_impl.stack import of_unit, qualify


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
    """Layer 0 reads ``x``; each later layer reads the concatenated outputs of the previous
    one; a ``_reverse`` unit reads the time-reversed input and its outputs are flipped back."""
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
