"""What the derivation checker reports: comparisons, findings, the trace of reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gradparity.core.compare import Comparison
from gradparity.core.tolerances import tolerance
from gradparity.reference_impl.derivation import Statement

GRADIENT = tolerance("float64", "gradient")
VALUE = tolerance("float64", "value")


# --- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One line of diagnosis. ``line`` is the backward line (None: a statement is missing)."""

    line: int | None
    kind: str
    """shape, wrong, overwrite, duplicate, order, missing (causes); reads (a consequence)."""
    message: str

    @property
    def cause(self) -> bool:
        return self.kind != "reads"

    def to_json(self) -> dict:
        return {"line": self.line, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class StatementCheck:
    statement: Statement
    read: Comparison
    """The gradient the statement read, at the moment it read it, vs the true one."""


@dataclass
class DerivationReport:
    output: str
    comparisons: list[Comparison]
    """One per input: the written gradient vs the true one (backprop), slides' layout."""
    truth: list[Comparison]
    """One per input: complex step vs backprop (the truth checked by an independent method)."""
    intermediates: list[Comparison]
    """Final value of every other gradient the statements write, vs the true one."""
    trace: list[StatementCheck]
    findings: list[Finding]
    values: dict[str, np.ndarray] = field(repr=False)
    true_grads: dict[str, np.ndarray] = field(repr=False)
    """True gradients in the slides' layout, for every forward variable."""
    written_grads: dict[str, np.ndarray] = field(repr=False)

    @property
    def truth_ok(self) -> bool:
        return all(c.ok for c in self.truth)

    @property
    def ok(self) -> bool:
        return self.truth_ok and all(c.ok for c in self.comparisons)

    @property
    def failing(self) -> list[str]:
        """Names of the input gradients that disagree, e.g. ``["dW_ix", "dx_t"]``."""
        return [c.tensor for c in self.comparisons if not c.ok]

    @property
    def first_offending(self) -> Finding | None:
        """The earliest statement that is wrong on its own (else a missing statement)."""
        causes = [f for f in self.findings if f.cause]
        return (causes or self.findings or [None])[0]
