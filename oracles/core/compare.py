"""Comparing one tensor of an oracle with the reference, and saying clearly when they differ."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradparity.core.tolerances import Tolerance


@dataclass(frozen=True)
class Projected:
    """A gradient known only along one direction: ``value = <gradient, direction>``.

    Numerical oracles return this for large cases, where per-element differentiation costs one
    forward pass per element.
    """

    value: float
    direction: np.ndarray


@dataclass(frozen=True)
class Comparison:
    oracle: str
    tensor: str
    kind: str
    max_abs_err: float
    max_rel_err: float
    scale: float
    index: tuple[int, ...]
    reference_value: float
    oracle_value: float
    tolerance: Tolerance
    projected: bool = False
    baseline: str = "reference"

    @property
    def ok(self) -> bool:
        return self.tolerance.allows(self.max_abs_err, self.scale)

    @property
    def tolerance_used(self) -> float:
        """``|diff| / (atol + rtol * scale)``: above 1 fails."""
        allowed = self.tolerance.atol + self.tolerance.rtol * self.scale
        return self.max_abs_err / allowed if allowed > 0 else float(self.max_abs_err > 0) * np.inf

    def to_json(self) -> dict:
        return {
            "oracle": self.oracle,
            "tensor": self.tensor,
            "max_abs_err": self.max_abs_err,
            "max_rel_err": self.max_rel_err,
            "atol": self.tolerance.atol,
            "rtol": self.tolerance.rtol,
            "ok": self.ok,
            "tolerance_used": self.tolerance_used,
            "kind": self.kind,
            "index": list(self.index),
            "reference_value": self.reference_value,
            "oracle_value": self.oracle_value,
            "projected": self.projected,
        }

    def message(self, case_id: str, command: str) -> str:
        where = "along a random direction" if self.projected else f"at index {self.index}"
        verdict = "agrees with" if self.ok else "disagrees with"
        return (
            f"{self.tensor}: {self.oracle} {verdict} {self.baseline} on {case_id}\n"
            f"  largest |diff| = {self.max_abs_err:.3e} {where}:"
            f" {self.baseline} = {self.reference_value!r}, {self.oracle} = {self.oracle_value!r}\n"
            f"  max_rel_err = {self.max_rel_err:.3e} (relative to scale {self.scale:.3e});"
            f" tolerance rtol = {self.tolerance.rtol:g}, atol = {self.tolerance.atol:g}"
            f" ({self.kind})\n"
            f"  reproduce: {command}"
        )


def _scalar(value: np.generic | np.ndarray) -> float:
    return float(np.real(value))


def compare_tensor(
    oracle: str,
    tensor: str,
    kind: str,
    reference: np.ndarray,
    candidate: np.ndarray | Projected,
    tolerance: Tolerance,
    baseline: str = "reference",
) -> Comparison:
    reference = np.asarray(reference, dtype=np.float64)
    if isinstance(candidate, Projected):
        terms = reference * candidate.direction
        ref_value, cand_value = terms.sum(), candidate.value
        abs_err = abs(cand_value - ref_value)
        scale = float(np.abs(terms).sum())
        index: tuple[int, ...] = ()
        projected = True
    else:
        candidate = np.asarray(candidate, dtype=np.float64)
        if candidate.shape != reference.shape:
            raise ValueError(
                f"{tensor}: {oracle} returned shape {candidate.shape},"
                f" {baseline} has {reference.shape}"
            )
        diff = np.abs(candidate - reference)
        diff = np.where(np.isnan(diff), np.inf, diff)  # NaN on either side is a failure
        flat = int(np.argmax(diff)) if diff.size else 0
        index = tuple(int(i) for i in np.unravel_index(flat, reference.shape)) if diff.size else ()
        abs_err = float(diff.flat[flat]) if diff.size else 0.0
        ref_value = reference.flat[flat] if diff.size else 0.0
        cand_value = candidate.flat[flat] if diff.size else 0.0
        scale = float(np.abs(reference).max()) if reference.size else 0.0
        projected = False
    if scale > 0:
        rel_err = abs_err / scale
    else:
        rel_err = 0.0 if abs_err == 0 else float("inf")
    return Comparison(
        oracle=oracle,
        tensor=tensor,
        kind=kind,
        max_abs_err=float(abs_err),
        max_rel_err=float(rel_err),
        scale=scale,
        index=index,
        reference_value=_scalar(ref_value),
        oracle_value=_scalar(cand_value),
        tolerance=tolerance,
        projected=projected,
        baseline=baseline,
    )
