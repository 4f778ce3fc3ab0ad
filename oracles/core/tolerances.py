"""The one tolerance table, keyed by dtype and kind, relative to the tensor's scale.

A comparison passes when ``max|oracle - reference| <= atol + rtol * scale``, where ``scale``
is ``max|reference|`` (for a projected gradient, ``Σ|reference ∘ u|``).

Kinds:
    value        forward results (outputs, final states, loss)
    gradient     gradients from autodiff or complex step (no truncation error)
    gradient_fd  gradients from central finite differences (truncation and cancellation)

``rtol`` covers ordinary tensors. ``atol`` is a floor for tensors that are small because O(1)
terms cancel (a final state of 1e-3 after states of 0.5, a gradient of 1e-7 through a gate
that barely matters): their rounding error is that of the O(1) terms, a few ulp of 1, not of
the result. For central differences the floor is the method's own error, ≈ ε·|J|/h with
h = 1e-5. The suite's tensors are O(1) by construction (weights U(±1/√H), inputs U(±1)).
Measured values and margins: docs/tolerances.md. A known framework discrepancy is never
absorbed here: it is a strict xfail in the cell's registry entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradparity.core.errors import InputError


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def allows(self, abs_err: float, scale: float) -> bool:
        return abs_err <= self.atol + self.rtol * scale


TOLERANCES: dict[tuple[str, str], Tolerance] = {
    ("float64", "value"): Tolerance(rtol=1e-13, atol=1e-15),
    ("float64", "gradient"): Tolerance(rtol=1e-12, atol=1e-14),
    ("float64", "gradient_fd"): Tolerance(rtol=1e-7, atol=1e-9),
    ("float32", "value"): Tolerance(rtol=1e-5, atol=5e-7),
    ("float32", "gradient"): Tolerance(rtol=1e-4, atol=1e-6),
    ("float32", "gradient_fd"): Tolerance(rtol=1e-4, atol=1e-6),
}


def tolerance(dtype: str, kind: str) -> Tolerance:
    try:
        return TOLERANCES[(dtype, kind)]
    except KeyError:
        known = ", ".join(f"{d}/{k}" for d, k in TOLERANCES)
        raise InputError(
            f"no tolerance for dtype {dtype!r} and kind {kind!r} (known: {known})"
        ) from None
