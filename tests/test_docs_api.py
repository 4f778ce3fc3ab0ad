"""docs/api.md runs as written: every code block in an empty directory (``python`` blocks as
scripts, ``python file=NAME`` blocks written to NAME, ``sh`` blocks line by line with the exit
status each line's ``# exits N`` states), and its table of stock layers is the builders'."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from gradparity.catalog import all_cells
from gradparity.frameworks import all_frameworks
from helpers import ROOT, installed_frameworks

DOC = ROOT / "docs" / "api.md"
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.M | re.S)


def _blocks() -> list[tuple[str, str, str]]:
    return [(m[1], m[2].strip(), m[3]) for m in BLOCK.finditer(DOC.read_text())]


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    return env | {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def _run(command: list[str], cwd: Path, expected: int) -> None:
    done = subprocess.run(
        command, cwd=cwd, env=_environment(), capture_output=True, text=True, timeout=900
    )
    assert done.returncode == expected, (
        f"{shlex.join(command)} exited {done.returncode}, expected {expected}\n"
        f"stdout: {done.stdout[-3000:]}\nstderr: {done.stderr[-3000:]}"
    )
    if expected == 2:
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr


def _command(line: str) -> tuple[list[str], int]:
    text, _, comment = line.partition("#")
    status = re.search(r"exits (\d+)", comment)
    words = shlex.split(text)
    program = {"gradparity": [sys.executable, "-m", "gradparity"]}
    program["pytest"] = [sys.executable, "-m", "pytest"]
    return program[words[0]] + words[1:], int(status[1]) if status else 0


def test_the_page_has_examples_of_every_kind():
    kinds = [(language, bool(info)) for language, info, _ in _blocks()]
    assert ("python", False) in kinds and ("python", True) in kinds and ("sh", False) in kinds


def test_every_example_runs_as_written(tmp_path):
    if "torch" not in installed_frameworks():
        pytest.skip("the page's examples use the torch example module")
    for language, info, code in _blocks():
        if language == "python" and info.startswith("file="):
            (tmp_path / info.removeprefix("file=")).write_text(code)
        elif language == "python":
            script = tmp_path / "example.py"
            script.write_text(code)
            _run([sys.executable, str(script)], tmp_path, 0)
        elif language == "sh":
            for line in filter(None, (line.strip() for line in code.splitlines())):
                command, status = _command(line)
                _run(command, tmp_path, status)
    leftovers = {p.name for p in tmp_path.iterdir()} - {"example.py", "test_my_kernel.py"}
    assert not leftovers, f"the examples left {leftovers} behind"


def _stock_rows() -> set[tuple[str, str, str]]:
    rows = set()
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0] != "`framework`":
            stock = cells[2].split()[0]
            rows.add((cells[0].strip("`"), cells[1].strip("`"), stock.strip("`")))
    return rows


def test_the_stock_layer_table_is_every_replaceable_builder():
    builders = set()
    for name, framework in all_frameworks().items():
        for spec in all_cells().values():
            builder = framework.builder_for(spec)
            if builder is not None and builder.replaces:
                builders.add((name, spec.name, builder.replaces))
    assert _stock_rows() == builders
