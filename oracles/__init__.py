"""gradparity: is this gradient right?

A from-scratch NumPy reference of dense and recurrent layers (hand-derived backward passes)
checked against every installed framework and two numerical oracles, on every tensor.

The public names (docs/api.md), imported on first use (importing gradparity imports nothing
else and changes nothing in the process):

    case(cell, options=None, **sizes) -> Case     a case of a registered cell
    sample_cases(cell) -> list[Case]              what the agreement suite runs for it
    compare_case(case, oracles=None, modules=())  every oracle against the reference: a Report
    assert_agree(case, oracles=None, modules=())  the same, raising AssertionError unless agree
    reproduce(fixture, oracles=None) -> Report    a fixture's reported numbers (path or name)
    Case, make_problem, grid                      cases and their seeded tensors
    CellSpec, Option, Builder, Discrepancy        the registry's types
    all_cells(), get_cell(name)                   the registered cells
    Framework, all_frameworks()                   the frameworks table
    InputError, OracleMisconfigured               bad input; a module or builder that does not fit

``modules`` are ``"FRAMEWORK=MODULE:ATTR"``: your own module in place of the framework's stock
layer (``torch=mypkg.kernels:MyLSTM``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "case": "gradparity.api",
    "sample_cases": "gradparity.api",
    "compare_case": "gradparity.checks",
    "assert_agree": "gradparity.api",
    "reproduce": "gradparity.api",
    "InputError": "gradparity.core.errors",
    "OracleMisconfigured": "gradparity.core.errors",
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
