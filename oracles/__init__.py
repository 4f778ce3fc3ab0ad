"""gradparity: is this gradient right?

A from-scratch NumPy reference of dense and recurrent layers (hand-derived backward passes)
checked against every installed framework and two numerical oracles, on every tensor.

The public names, imported on first use (importing gradparity imports nothing else and
changes nothing in the process):

    compare_case(case, oracles=None) -> Report    every oracle against the reference
    reproduce(fixture, oracles=None) -> Report    a fixture's reported numbers (path or name)
    Case, make_problem, grid                      cases and their seeded tensors
    CellSpec, Option, Builder, Discrepancy        the registry's types
    all_cells(), get_cell(name)                   the registered cells
    Framework, all_frameworks()                   the frameworks table
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "compare_case": "gradparity.checks",
    "reproduce": "gradparity.api",
    "Report": "gradparity.core.loop",
    "Case": "gradparity.core.cases",
    "make_problem": "gradparity.core.cases",
    "grid": "gradparity.core.cases",
    "CellSpec": "gradparity.core.registry",
    "Option": "gradparity.core.registry",
    "Builder": "gradparity.core.registry",
    "Discrepancy": "gradparity.core.registry",
    "all_cells": "gradparity.catalog",
    "get_cell": "gradparity.catalog",
    "Framework": "gradparity.core.framework",
    "Net": "gradparity.core.net",
    "all_frameworks": "gradparity.frameworks",
}
__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'gradparity' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
