"""Per-example lengths as the constants every framework network reads (framework-free).

The semantics are the reference's (``reference_impl.ragged``). A framework network receives
them as tensors of its framework, in ``Lengths``: the integer ``lengths`` [B] (for layers that
take them: torch's packed sequences, Flax's ``seq_lengths``, Paddle's ``sequence_length``),
the ``mask`` [B, T, 1] (1 at valid steps: Keras masks, and the composed networks' masked state
update) and ``reverse`` [B, T, T], the permutation that reverses each example's valid prefix
and leaves its padding in place (the reverse direction of the shared stacking:
``reverse @ x``). The objective reads the last valid output through ``select`` [B, 1, T].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradparity.reference_impl.ragged import last_valid_index

PREFIX = "len/"


@dataclass(frozen=True)
class Lengths:
    """The per-example lengths of one batch, as a framework's tensors."""

    lengths: Any
    mask: Any
    reverse: Any


def sequence_constants(lengths: np.ndarray, steps: int, dtype) -> dict[str, np.ndarray]:
    """The constants of ``Lengths`` and ``select``, keyed ``len/<name>``."""
    lengths = np.asarray(lengths, dtype=np.int64)
    batch = len(lengths)
    time = np.arange(steps)
    mask = (time[None, :] < lengths[:, None]).astype(dtype)[:, :, None]
    source = np.where(time[None, :] < lengths[:, None], lengths[:, None] - 1 - time, time)
    reverse = np.zeros((batch, steps, steps), dtype=dtype)
    reverse[np.arange(batch)[:, None], time[None, :], source] = 1.0
    select = np.zeros((batch, 1, steps), dtype=dtype)
    select[np.arange(batch), 0, last_valid_index(lengths, steps, batch)] = 1.0
    named = {"lengths": lengths, "mask": mask, "reverse": reverse, "select": select}
    return {PREFIX + k: v for k, v in named.items()}


def lengths_of(constants: Mapping[str, Any]) -> Lengths | None:
    """The ``Lengths`` among a network's constants, or None (every example has T steps)."""
    if PREFIX + "lengths" not in constants:
        return None
    return Lengths(*(constants[PREFIX + k] for k in ("lengths", "mask", "reverse")))
