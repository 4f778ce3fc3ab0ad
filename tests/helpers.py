"""Helpers of the project's tests: choosing cells and frameworks from the registry and the
frameworks table (no test names a cell or a framework), running the CLI in-process and in a
subprocess."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from gradparity.catalog import all_cells
from gradparity.commands.main import main
from gradparity.core.layers import ExampleModule
from gradparity.core.registry import CellSpec, Option
from gradparity.frameworks import all_frameworks

ROOT = Path(__file__).parents[1]
FIXTURE_DIR = ROOT / "fixtures"
GRADPARITY = [sys.executable, "-m", "gradparity"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """``gradparity ARGV`` in this process: (exit status, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_gradparity(*args: str, env: dict | None = None, cwd=None, timeout: int = 900):
    """``gradparity ARGS`` in a new process."""
    return subprocess.run(
        [*GRADPARITY, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
    )


def install_example(site: Path, example: Path, group: str, entry_point: str) -> dict:
    """``example`` (a folder with one package) "installed" into ``site`` as pip would: the
    package plus a ``.dist-info`` with one entry point. Returns the environment that makes a
    subprocess see it."""
    package = next(p for p in example.iterdir() if (p / "__init__.py").exists())
    shutil.copytree(package, site / package.name)
    info = site / f"{package.name}-0.1.0.dist-info"
    info.mkdir()
    name = package.name.replace("_", "-")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{entry_point}\n")
    return {"PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "tests")])}


def installed_frameworks() -> list[str]:
    """The frameworks of the table whose packages are installed here."""
    return [name for name, framework in all_frameworks().items() if not framework.missing()]


def require_frameworks(count: int = 1) -> list[str]:
    """Skip unless at least ``count`` frameworks are installed; returns them."""
    found = installed_frameworks()
    if len(found) < count:
        pytest.skip(f"needs {count} installed framework(s), found {found or 'none'}")
    return found


def first_dtype(framework: str, dtypes: tuple[str, ...] = ("float64", "float32")) -> str:
    """The first of ``dtypes`` the framework computes in (not in its ``Framework.refuses``)."""
    refused = all_frameworks()[framework].refuses
    return next(d for d in dtypes if d not in refused)


def frameworks_running(spec: CellSpec) -> list[str]:
    """The installed frameworks with a builder for ``spec``."""
    return [n for n in installed_frameworks() if all_frameworks()[n].builder_for(spec)]


def uncompiled_frameworks() -> list[str]:
    """The installed frameworks that run the agreement suite's size grid: not those that
    compile per network (``Framework.suite == "pairwise"``), which a test that only needs some
    framework spares its compile times."""
    return [n for n in installed_frameworks() if all_frameworks()[n].suite != "pairwise"]


def one_oracle_of_each_suite() -> list[str]:
    """Of the installed frameworks, the first that runs the agreement suite's size grid and the
    first that runs only its pairwise cases (it compiles per network), and complex step: a
    suite run with each way the agreement tests are parametrized."""
    frameworks = [all_frameworks()[name] for name in installed_frameworks()]
    chosen = [
        next((f.name for f in frameworks if f.suite == s), None) for s in ("grid", "pairwise")
    ]
    return [name for name in chosen if name] + ["numerical"]


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


def names(items: Sequence) -> list[str]:
    return [getattr(item, "name", str(item)) for item in items]


def example_modules() -> list[tuple[str, ExampleModule]]:
    """Every installed framework's example modules of ``--module`` (``Framework.examples``)."""
    found = []
    for name in installed_frameworks():
        target = all_frameworks()[name].examples
        if target:
            module, _, attribute = target.partition(":")
            found += [(name, e) for e in getattr(importlib.import_module(module), attribute)]
    return found


def example_module(kind: str) -> tuple[str, ExampleModule]:
    """The first installed framework's example module of ``kind`` (a skip if there is none)."""
    for name, example in example_modules():
        if example.kind == kind:
            return name, example
    pytest.skip(f"no installed framework has an example module of kind {kind}")


def compare_argv(framework: str, example: ExampleModule) -> list[str]:
    """``compare`` of ``example`` (with the options it needs) with its framework's oracle alone."""
    oracle = f"{framework}={example.target}"
    options = example.option_args()
    return ["compare", "--cell", example.cell, *options, "--oracles", framework, "--module", oracle]


def module_argv(kind: str) -> list[str]:
    """``compare`` of the example module of ``kind`` with its framework's oracle alone."""
    return compare_argv(*example_module(kind))
