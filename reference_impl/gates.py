"""Gate blocks: per-gate parameters side by side along the last axis, and back.

``fuse({"W_i": A, "W_f": B}, "W", ("i", "f"))`` is ``[A | B]``; ``unfuse`` is its inverse. The
cells fuse their gates' products; the oracle builders use the same functions with each
framework's block order.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def fuse(params: Mapping[str, np.ndarray], prefix: str, gates: tuple[str, ...]) -> np.ndarray:
    return np.concatenate([params[f"{prefix}_{gate}"] for gate in gates], axis=-1)


def unfuse(fused: np.ndarray, prefix: str, gates: tuple[str, ...]) -> dict[str, np.ndarray]:
    blocks = np.split(fused, len(gates), axis=-1)
    return {f"{prefix}_{gate}": block for gate, block in zip(gates, blocks, strict=True)}
