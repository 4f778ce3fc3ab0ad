"""Choosing cells for tests from the registry, so no test names a cell."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from oracles.registry import CellSpec, Option, all_cells

FIXTURE_DIR = Path(__file__).parents[1] / "fixtures"


def cell_where(predicate: Callable[[CellSpec], bool], what: str) -> CellSpec:
    """The first registered cell satisfying ``predicate``; skip when there is none."""
    for spec in all_cells().values():
        if predicate(spec):
            return spec
    pytest.skip(f"no registered cell {what}")


def option_where(spec: CellSpec, predicate: Callable[[Option], bool]) -> Option:
    return next(option for option in spec.options if predicate(option))


def has_option(predicate: Callable[[Option], bool]) -> Callable[[CellSpec], bool]:
    return lambda spec: any(predicate(option) for option in spec.options)


def registered_fixtures() -> list[Path]:
    """Program fixtures, and cell fixtures whose cell is registered (a removed cell takes its
    fixtures' tests with it)."""
    cells = all_cells()
    found = []
    for path in sorted(FIXTURE_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("kind", "cell") == "program" or data.get("cell") in cells:
            found.append(path)
    return found
