"""Stacking single-layer networks into layers and directions, written once for the reference's
conventions (``reference_impl.stack``, PyTorch's): layer 0 reads ``x``; each later layer reads
the concatenated outputs of the previous one (forward direction first); a ``_reverse`` unit
reads the time-reversed input and its outputs are flipped back. Framework-free: each framework
passes its own ``flip`` (time axis) and ``concat`` (feature axis). With per-example lengths
(``core.sequences``) a ``_reverse`` unit reverses each example's valid prefix instead
(``lengths.reverse @ x``, a permutation that leaves the padding in place)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import groupby
from typing import Any

from gradparity.core.net import Net
from gradparity.core.sequences import Lengths
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
    lengths: Lengths | None = None,
    matmul: Callable[[Any, Any], Any] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """``call_unit(unit, x, state0)`` (with ``lengths``: ``call_unit(unit, x, state0,
    lengths)``) over the layers and directions; ``matmul`` reverses valid prefixes."""

    def reverse_time(t):
        return flip(t) if lengths is None else matmul(lengths.reverse, t)

    extra = () if lengths is None else (lengths,)
    layer_input, final = x, {}
    for layer in units_by_layer(units):
        outputs = []
        for unit in layer:
            reverse = unit.endswith("_reverse")
            unit_input = reverse_time(layer_input) if reverse else layer_input
            out, unit_final = call_unit(unit, unit_input, of_unit(state0, unit), *extra)
            outputs.append(reverse_time(out) if reverse else out)
            final |= {qualify(unit, s): v for s, v in unit_final.items()}
        layer_input = concat(outputs)
    return layer_input, final


def stack_nets(
    nets: Mapping[str, Net],
    flip: Callable[[Any], Any],
    concat: Callable[[list[Any]], Any],
    matmul: Callable[[Any, Any], Any],
) -> Net:
    """One network of the units' single-layer networks (``{unit: net}``, in unit order); its
    parameters carry the unit prefix (``l1_reverse/weight_ih``). It takes per-example lengths
    when every unit does."""
    units = list(nets)

    def layout(values):
        return {
            qualify(u, k): v
            for u, net in nets.items()
            for k, v in net.layout(of_unit(values, u)).items()
        }

    def forward(params, x, state0, lengths=None):
        def call_unit(unit, unit_input, unit_state0, *extra):
            return nets[unit].forward(of_unit(params, unit), unit_input, unit_state0, *extra)

        return run_stack(units, call_unit, x, state0, flip, concat, lengths, matmul)

    def to_canonical(grads):
        canonical = {}
        for unit, net in nets.items():
            unit_grads = net.to_canonical(of_unit(grads, unit))
            canonical |= {qualify(unit, k): v for k, v in unit_grads.items()}
        return canonical

    def refuses_lengths(lengths):
        return next(filter(None, (net.refuses_lengths(lengths) for net in nets.values())), None)

    ragged = all(net.ragged for net in nets.values())
    return Net(layout, forward, to_canonical, ragged=ragged, refuses_lengths=refuses_lengths)
