"""Every registered cell: this repository's catalogue (``gradparity.cells``), then the cells
that installed packages declare under the entry-point group ``gradparity.cells``."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from gradparity import cells
from gradparity.core.errors import InputError
from gradparity.core.registry import CellSpec

ENTRY_POINT_GROUP = "gradparity.cells"


def load_entry_points(group: str, kind: type) -> list[tuple[str, object]]:
    """``(origin, object)`` for every object that installed packages declare under ``group``:
    an entry point names an object of ``kind``, an iterable of them, or a function returning
    either. A broken plug-in is an ``InputError`` that says which one it is."""
    found = []
    for entry in entry_points(group=group):
        origin = f"entry point {entry.name} = {entry.value} (group {group})"
        try:
            loaded = entry.load()
            if callable(loaded) and not isinstance(loaded, kind):
                loaded = loaded()
        except Exception as error:
            raise InputError(f"{origin} failed to load: {type(error).__name__}: {error}") from None
        for item in [loaded] if isinstance(loaded, kind) else list(loaded):
            if not isinstance(item, kind):
                raise InputError(f"{origin} gave {type(item).__name__}; expected a {kind.__name__}")
            found.append((origin, item))
    return found


@cache
def all_cells() -> dict[str, CellSpec]:
    registered: dict[str, CellSpec] = {}
    origins: dict[str, str] = {}
    builtin = [("gradparity/cells.py", spec) for spec in cells.CELLS]
    for origin, spec in builtin + load_entry_points(ENTRY_POINT_GROUP, CellSpec):
        if spec.name in registered:
            raise InputError(
                f"cell {spec.name!r} is registered twice: by {origins[spec.name]} and by {origin}"
            )
        registered[spec.name], origins[spec.name] = spec, origin
    return registered


def get_cell(name: str) -> CellSpec:
    registered = all_cells()
    if name not in registered:
        raise InputError(
            f"unknown cell {name!r}; registered cells: {', '.join(sorted(registered))}"
            f" (a package registers its own through the entry-point group {ENTRY_POINT_GROUP})"
        )
    return registered[name]
