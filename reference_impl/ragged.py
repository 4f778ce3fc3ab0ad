"""Variable-length sequences: a batch whose example ``b`` is valid for its first ``lengths[b]``
steps (0 ≤ length ≤ T), for any recurrent cell, stacked or not.

The semantics, stated once (PyTorch's packed sequences):

- steps at ``t ≥ length`` leave the state unchanged and their outputs are zero;
- the final state is the state after the example's last valid step (its initial state when
  the length is 0);
- the reverse direction of a bidirectional layer runs over each example's valid prefix
  reversed, and a later layer reads only the valid prefix of the layer below;
- the loss reads each example's last valid output, ``outputs[b, max(length, 1) − 1]``
  (``reference_impl.network``); for length 0 that is a padded, zero output.

Every cell here treats the examples of a batch independently, so these semantics are exactly
"each example runs alone over its valid prefix": ``Ragged`` groups the batch rows by length,
runs the wrapped cell (or ``Stack``) on each group's prefix and scatters the results into
zeros. The gradients of padded inputs are then exactly zero by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def groups(lengths: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``(length, rows)`` for every distinct length, in increasing order."""
    return [(int(n), np.flatnonzero(lengths == n)) for n in np.unique(lengths)]


class Ragged:
    """A cell module's ``forward``/``backward`` over a batch with per-example ``lengths``."""

    def __init__(self, cell: Any, lengths: np.ndarray):
        self.cell = cell
        self.lengths = np.asarray(lengths)

    def forward(self, params, x, state0, options):
        outputs, final, caches = None, {s: np.array(v) for s, v in state0.items()}, {}
        for length, rows in groups(self.lengths):
            if length == 0:
                continue
            steps = length  # the cell runs over the valid prefix alone
            rows_state0 = {s: v[rows] for s, v in state0.items()}
            out, rows_final, cache = self.cell.forward(
                params, x[rows, :steps], rows_state0, options
            )
            if outputs is None:
                outputs = np.zeros((*x.shape[:2], out.shape[-1]), dtype=out.dtype)
            outputs[rows, :length] = out[:, :length]
            for s, v in rows_final.items():
                final[s][rows] = v
            caches[length] = (steps, cache)
        if outputs is None:  # every length is 0: the cell never ran; zeros of its width
            out, _, _ = self.cell.forward(params, x[:, :1], state0, options)
            outputs = np.zeros((*x.shape[:2], out.shape[-1]), dtype=out.dtype)
        return outputs, final, (caches, x.shape)

    def backward(self, params, cache, d_outputs, d_final: Mapping[str, np.ndarray], options):
        caches, x_shape = cache
        grads: dict[str, np.ndarray] = {}
        dx = np.zeros(x_shape, dtype=d_outputs.dtype)
        dstate0 = {s: np.array(v) for s, v in d_final.items()}  # length 0: passed through
        for length, rows in groups(self.lengths):
            if length == 0:
                continue
            steps, cache = caches[length]
            d_rows = np.zeros((len(rows), steps, d_outputs.shape[-1]), dtype=d_outputs.dtype)
            d_rows[:, :length] = d_outputs[rows, :length]
            rows_grads, rows_dx, rows_dstate0 = self.cell.backward(
                params, cache, d_rows, {s: v[rows] for s, v in d_final.items()}, options
            )
            for name, g in rows_grads.items():
                grads[name] = grads[name] + g if name in grads else g  # parameters fork
            dx[rows, :steps] = rows_dx
            for s, g in rows_dstate0.items():
                dstate0[s][rows] = g
        if not grads:  # every length is 0: no parameter took part
            grads = {name: np.zeros_like(value) for name, value in params.items()}
        return grads, dx, dstate0


def last_valid_index(lengths: np.ndarray | None, steps: int, batch: int) -> np.ndarray:
    """The step whose output the loss reads, per example: the last valid one."""
    if lengths is None:
        return np.full(batch, steps - 1)
    return np.maximum(np.asarray(lengths), 1) - 1
