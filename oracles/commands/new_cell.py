"""``gradparity new-cell NAME``: a package of one new cell, ready to install — its step program
(``NAME.py``: the canonical layout in the docstring, the equations) and its registry entry
(``__init__.py``, registered by the entry point in ``pyproject.toml``). The equations it writes
are a plain tanh RNN, a working start: installed as it is, ``gradparity compare --cell NAME``
agrees with every oracle; replace them with the cell's own (docs/adding-a-cell.md)."""

from __future__ import annotations

import argparse
import keyword
import re
from pathlib import Path

from gradparity.catalog import all_cells
from gradparity.core.errors import InputError
from gradparity.core.files import write_directory_atomically

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "gradparity-cell-{dashed}"
version = "0.1.0"
description = "The gradparity cell {name}, declared as a step program"
requires-python = ">=3.11"
dependencies = ["gradparity"]

[project.entry-points."gradparity.cells"]
{name} = "{package}:CELL"

[tool.setuptools]
packages = ["{package}"]
"""

REGISTRY = '''"""The gradparity cell ``{name}``: its registry entry. Installing this package
registers it through the entry-point group ``gradparity.cells`` (pyproject.toml);
``gradparity cells`` then lists it and every framework composes its step program
({name}.py)."""

from gradparity import CellSpec, Option, grid

CELL = CellSpec(
    name="{name}",
    summary="{name}: a recurrent cell declared as a step program",
    reference="{package}.{name}",
    states=("h",),
    options=(Option("scale", 1.0, help="an example option: multiplies the recurrent term"),),
    sample_cases=lambda spec: grid(
        spec, seeds=(0,), seq_lens=(1, 7, 50), hidden_sizes=(1, 3, 16), batches=(2,)
    ),
)
'''

STEP = '''"""The step of ``{name}``. Replace the equations below with the cell's own; keep
the docstring saying the canonical layout (gradparity loads these tensors into every framework
by name).

Canonical parameters (row-vector convention):
    W   [I, H]   input weights
    U   [H, H]   recurrent weights
    b   [H]      bias
State ``h`` [B, H]; input ``x`` [B, T, I]; option ``scale`` (a constant).

    h' = tanh(x_t W + scale · h U + b)

One primitive per line (``gradparity.reference_impl.primitives``: add, matmul, schur, sigmoid,
tanh, relu, one_minus, add_const, mul_const, …); ``h_prev`` is the state's previous value,
``h`` its new one; a float option is a constant argument of add_const, mul_const or clip.
"""

STEP = """
# params: W[I,H] U[H,H] b[H]
# states: h[H]
xw = matmul(x_t, W)
hu = matmul(h_prev, U)
scaled = mul_const(hu, scale)
s = add(xw, scaled)
z = add(s, b)
h = tanh(z)
"""


def step_equations(options):
    """The step program; ``options`` may choose between variants of the equations."""
    return STEP
'''


def _check_name(name: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise InputError(f"cell name {name!r}: expected a lowercase Python identifier, e.g. my_gru")
    if name in all_cells():
        raise InputError(f"cell name {name!r}: a cell of that name is registered already")


def new_cell(name: str, directory: Path) -> Path:
    """Write the package of cell ``name`` into ``directory`` (which must not exist)."""
    _check_name(name)
    if directory.exists():
        raise InputError(f"--dir {directory}: exists; give a new directory")
    if not directory.absolute().parent.is_dir():
        raise InputError(f"--dir {directory}: the directory {directory.parent} does not exist")
    package = f"gradparity_cell_{name}"
    fields = {"name": name, "package": package, "dashed": name.replace("_", "-")}

    def fill(staging: Path) -> None:
        (staging / package).mkdir()
        (staging / "pyproject.toml").write_text(PYPROJECT.format(**fields))
        (staging / package / "__init__.py").write_text(REGISTRY.format(**fields))
        (staging / package / f"{name}.py").write_text(STEP.format(**fields))

    write_directory_atomically(directory, fill)
    return directory


def cmd_new_cell(args: argparse.Namespace) -> int:
    directory = args.dir or Path(f"gradparity-cell-{args.name.replace('_', '-')}")
    written = new_cell(args.name, directory)
    print(f"wrote the cell {args.name} in {written}: its step program and registry entry")
    print(f"next: pip install -e {written} && gradparity compare --cell {args.name}")
    return 0
