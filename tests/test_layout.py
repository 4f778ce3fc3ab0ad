"""Rules of the layout, read off the source (AST) and the installed package:

- a framework is imported only inside its own folder (the frameworks table says which modules
  each framework needs); the reference and the core import no framework at all;
- no import cycle among the package's modules (imports inside functions count);
- importing gradparity, or any public module of it, changes nothing in the process;
- every folder of the package is in pyproject's package list, and no module is over ~400 lines
  unless its docstring says why.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gradparity.frameworks import BUILTIN_FRAMEWORKS, all_frameworks

ROOT = Path(__file__).parents[1]
FOLDERS = {"gradparity": ROOT / "oracles", "gradparity.reference_impl": ROOT / "reference_impl"}
MAX_LINES = 400


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name."""
    found = {}
    for package, folder in FOLDERS.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if package == "gradparity" and parts[0] == "reference_impl":
                continue
            name = ".".join([package, *parts]).removesuffix(".__init__")
            found[name] = path
    return found


MODULES = modules()


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (functions included)."""
    names = set()
    tree = ast.parse(path.read_text())
    package = ".".join(name for name, p in MODULES.items() if p == path).rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def framework_modules() -> dict[str, str]:
    """Each framework's required top-level modules -> the folder allowed to import them."""
    allowed = {}
    for framework in all_frameworks().values():
        package = framework.adapter.partition(":")[0].rsplit(".", 1)[0]
        for module in framework.requires:
            allowed.setdefault(module, set()).add(package)
    return allowed


@pytest.mark.parametrize("name", sorted(MODULES), ids=sorted(MODULES))
def test_a_framework_is_imported_only_in_its_own_folder(name):
    allowed = framework_modules()
    for imported in imports(MODULES[name]):
        top = imported.split(".")[0]
        if top in allowed:
            owners = allowed[top]
            assert any(name == o or name.startswith(o + ".") for o in owners), (
                f"{name} imports {imported}; only {', '.join(sorted(owners))} may"
            )


def test_the_check_knows_every_framework_of_the_table():
    assert set(framework_modules()) >= {
        module for f in all_frameworks().values() for module in f.requires
    }
    assert len(all_frameworks()) >= len(BUILTIN_FRAMEWORKS)


def _base_dependencies() -> set[str]:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].lower() for d in declared}


def test_what_the_package_imports_outside_framework_folders_it_depends_on():
    """A user's ``pip install gradparity`` brings every module the harness imports (a framework's
    own are its extra's), and pytest-xdist, whose ``-n`` certify passes."""
    frameworks = set(framework_modules())
    distributions = importlib.metadata.packages_distributions()
    needed = {"pytest-xdist"}
    for path in MODULES.values():
        for imported in imports(path):
            top = imported.split(".")[0]
            if top in sys.stdlib_module_names or top == "gradparity" or top in frameworks:
                continue
            needed |= {d.lower() for d in distributions.get(top, [top])}
    missing = needed - _base_dependencies()
    assert not missing, f"imported or run but not in [project].dependencies: {sorted(missing)}"


def test_no_import_cycle():
    graph = {
        name: {m for m in imports(path) if m in MODULES and m != name}
        for name, path in MODULES.items()
    }
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycle = [*trail[trail.index(target) :], target] if target in trail else [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def importable_without_frameworks() -> list[str]:
    """The public modules, less a framework folder's own modules (they import it) and the two
    entry points that pin the process on purpose (``cli``: the command; ``worker``)."""
    chosen = []
    for name in sorted(MODULES):
        if any(part.startswith("_") for part in name.split(".")):
            continue
        if name in ("gradparity.cli", "gradparity.worker"):
            continue
        if any(name.startswith(folder + ".") for folder in BUILTIN_FRAMEWORKS):
            continue
        chosen.append(name)
    return chosen


def test_importing_gradparity_changes_nothing_in_the_process():
    code = (
        "import os, sys, importlib\n"
        "before = dict(os.environ)\n"
        f"for name in {importable_without_frameworks()!r}:\n"
        "    importlib.import_module(name)\n"
        "    assert dict(os.environ) == before, name\n"
        f"print(sorted(m for m in {sorted(framework_modules())!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", f"a framework was imported: {done.stdout}"


def test_import_gradparity_loads_no_numpy():
    """The CLI pins BLAS threads after ``import gradparity`` and before NumPy loads."""
    code = "import sys, gradparity, gradparity.cli; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stdout + done.stderr


def test_every_folder_is_a_listed_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    packages = {n for n, p in MODULES.items() if p.name == "__init__.py"} | {"gradparity.fixtures"}
    assert listed == packages


@pytest.mark.parametrize("name", sorted(MODULES), ids=sorted(MODULES))
def test_modules_are_small_or_say_why(name):
    text = MODULES[name].read_text()
    lines = text.count("\n")
    if lines > MAX_LINES:
        docstring = ast.get_docstring(ast.parse(text)) or ""
        assert "lines" in docstring, f"{name} has {lines} lines and its docstring does not say why"
