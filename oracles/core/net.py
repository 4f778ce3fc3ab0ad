"""What a framework builder returns: one network, built once per cell, shapes, dtype and
options, in the framework's own layout, with the conversions to and from the canonical one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Net:
    """``layout(canonical) -> {framework name: array}``: the framework's parameters from the
    canonical ones (it may refuse values it cannot represent: ``OracleUnavailable``);
    ``forward(params, x, state0) -> (outputs, final_states)`` with the framework's parameters
    as framework tensors, states keyed by canonical name;
    ``to_canonical(grads) -> canonical gradients`` from the gradients of the framework's
    parameters (same keys as ``layout``'s result);
    ``parameters() -> {framework name: shape}``: the module's own parameters, when it may be a
    user's module in place of the stock layer (``core.layers``), to check that it fits;
    ``ragged``: ``forward`` also takes per-example lengths, ``forward(params, x, state0,
    lengths)`` with a ``core.sequences.Lengths`` (the reference's semantics,
    ``reference_impl.ragged``); a network without it refuses a problem that has lengths;
    ``refuses_lengths(lengths) -> reason or None``: lengths (a NumPy array) it cannot take."""

    layout: Callable[[Mapping[str, np.ndarray]], Arrays]
    forward: Callable[[Mapping[str, Any], Any, Mapping[str, Any]], tuple[Any, dict[str, Any]]]
    to_canonical: Callable[[Mapping[str, np.ndarray]], Arrays]
    parameters: Callable[[], dict[str, tuple[int, ...]]] | None = None
    ragged: bool = False
    refuses_lengths: Callable[[np.ndarray], str | None] = lambda lengths: None


def identity(values: Mapping[str, np.ndarray]) -> Arrays:
    """The layout of a composed network: the canonical tensors themselves."""
    return dict(values)
