"""The public API's functions that are not a module's own (see ``gradparity.__doc__``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gradparity.checks import reproduce_fixture
from gradparity.core.loop import Report
from gradparity.io.fixtures import find_fixture, load_fixture


def reproduce(fixture: str | Path, oracles: Iterable[str] | None = None) -> Report:
    """A fixture (a file, or the name of one gradparity ships) against the reference and every
    available oracle (``oracles`` restricts them)."""
    return reproduce_fixture(load_fixture(find_fixture(str(fixture))), oracles)
