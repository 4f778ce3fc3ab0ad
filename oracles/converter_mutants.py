"""Planted bugs in a framework's converters: a textual edit of one of its builder modules
(``core.edits.SourcePatch``), applied in the framework's worker, which must make the agreement
checks of that framework fail, naming the tensor. Each framework's folder keeps its own
(``Framework.mutants``): a swapped gate block, a transposed weight, a dropped bias gradient, …"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from gradparity.catalog import get_cell
from gradparity.core.cases import Case
from gradparity.core.edits import SourcePatch
from gradparity.frameworks import all_frameworks


@dataclass(frozen=True)
class ConverterMutant:
    name: str
    framework: str
    cell: str
    module: str  # the builder module it edits
    find: str
    replace: str
    caught_by: str  # a tensor that must be reported as disagreeing
    options: tuple[tuple[str, object], ...] = ()
    sizes: tuple[tuple[str, int], ...] = field(default=())
    lengths: tuple[int, ...] | None = None  # per-example lengths the bug needs
    forward = True  # the numerical oracles never see a framework's converters

    @property
    def patch(self) -> SourcePatch:
        return SourcePatch(self.module, self.find, self.replace, self.name)

    @property
    def oracles(self) -> tuple[str, ...]:
        return (self.framework,)

    @property
    def dtypes(self) -> tuple[str, ...]:
        """The dtypes its framework computes in (float64 first), of float64 and float32."""
        refused = all_frameworks()[self.framework].refuses
        return tuple(d for d in ("float64", "float32") if d not in refused)

    def case(self, dtype: str | None = None, **sizes: int) -> Case:
        dtype = dtype or self.dtypes[0]
        fields = {"input_size": 3, "hidden_size": 4, "seq_len": 5, "batch": 2}
        fields |= dict(self.sizes) | sizes
        if self.lengths is not None:
            fields |= {"batch": len(self.lengths), "lengths": self.lengths}
        return Case.make(get_cell(self.cell), options=dict(self.options), dtype=dtype, **fields)

    @contextmanager
    def applied(self) -> Iterator[None]:
        yield None  # the reference is untouched; the patch travels with the oracle's request


def converter_mutants() -> list[ConverterMutant]:
    """Every framework's planted converter bugs (its descriptor's ``mutants``)."""
    found = []
    for framework in all_frameworks().values():
        if framework.mutants:
            module, _, attribute = framework.mutants.partition(":")
            found += list(getattr(importlib.import_module(module), attribute))
    return found
