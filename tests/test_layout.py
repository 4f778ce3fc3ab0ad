"""Rules of the layout: the reference imports no framework; the CLI imports them lazily."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REFERENCE = sorted((Path(__file__).parents[1] / "reference_impl").glob("*.py"))
FRAMEWORKS = {"torch", "tensorflow", "keras", "jax", "tf_keras"}


@pytest.mark.parametrize("path", REFERENCE, ids=[p.name for p in REFERENCE])
def test_reference_imports_no_framework(path):
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in FRAMEWORKS, f"{path.name} imports {name}"


def test_cli_and_registry_import_no_framework():
    code = (
        "import sys, oracles.cli\n"
        "from oracles.registry import all_cells\n"
        "all_cells()\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr
