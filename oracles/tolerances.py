"""The one tolerance table, keyed by dtype and kind, relative to the tensor's scale.

A comparison passes when ``max|oracle - reference| <= atol + rtol * scale``, where ``scale``
is ``max|reference|`` (for a projected gradient, ``Σ|reference ∘ u|``). ``atol`` is only a
floor for tensors whose scale is zero.

Kinds:
    value        forward results (outputs, final states, loss)
    gradient     gradients from autodiff or complex step (no truncation error)
    gradient_fd  gradients from central finite differences (truncation and cancellation)

How the numbers were set (measured, see docs/tolerances.md): float64 framework agreement is
~1e-15 relative and grows with sequence length to ~1e-14 at T=64, H=64; float32 agreement is
~1e-6. Each entry is about one to two orders of magnitude above the worst value measured on
the default suite. A known framework discrepancy is never absorbed here: it is a strict xfail
in the cell's registry entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from oracles.errors import InputError


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def allows(self, abs_err: float, scale: float) -> bool:
        return abs_err <= self.atol + self.rtol * scale


TOLERANCES: dict[tuple[str, str], Tolerance] = {
    ("float64", "value"): Tolerance(rtol=1e-13, atol=1e-300),
    ("float64", "gradient"): Tolerance(rtol=1e-12, atol=1e-300),
    ("float64", "gradient_fd"): Tolerance(rtol=1e-7, atol=1e-300),
    ("float32", "value"): Tolerance(rtol=1e-5, atol=1e-30),
    ("float32", "gradient"): Tolerance(rtol=1e-4, atol=1e-30),
    ("float32", "gradient_fd"): Tolerance(rtol=1e-4, atol=1e-30),
}


def tolerance(dtype: str, kind: str) -> Tolerance:
    try:
        return TOLERANCES[(dtype, kind)]
    except KeyError:
        known = ", ".join(f"{d}/{k}" for d, k in TOLERANCES)
        raise InputError(
            f"no tolerance for dtype {dtype!r} and kind {kind!r} (known: {known})"
        ) from None
