"""Gate-block conversions shared by the framework builders (no framework imports)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def stack_gates(
    params: Mapping[str, np.ndarray], prefix: str, gates: tuple[str, ...]
) -> np.ndarray:
    """``[P_a | P_b | …]`` along the last axis for ``gates = (a, b, …)`` and ``prefix = "P"``."""
    return np.concatenate([params[f"{prefix}_{g}"] for g in gates], axis=-1)


def split_gates(fused: np.ndarray, prefix: str, gates: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The inverse of ``stack_gates``: ``{"P_a": block_a, …}``."""
    blocks = np.split(fused, len(gates), axis=-1)
    return {f"{prefix}_{g}": block for g, block in zip(gates, blocks, strict=True)}
