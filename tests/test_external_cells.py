"""A cell from a package outside this repository gets the full suite through the entry point
group ``gradparity.cells``: ``cells``, ``compare``, ``reproduce``, and ``certify`` (which runs
the parametrized agreement tests), with no edit to this repository.

The example package (docs/examples/external_cell) is "installed" into a temporary directory as
a package plus a ``.dist-info`` with its entry point, which is what pip would write.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[1] / "docs" / "examples" / "external_cell"
GRADPARITY = [sys.executable, "-m", "oracles.cli"]


def _install(site: Path, entry_point: str) -> None:
    shutil.copytree(EXAMPLE / "gradparity_example_cell", site / "gradparity_example_cell")
    info = site / "gradparity_example_cell-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: gradparity-example-cell\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text(f"[gradparity.cells]\n{entry_point}\n")


def _run(site: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(EXAMPLE.parents[2])])}
    return subprocess.run(
        [*GRADPARITY, *args], capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    for framework in ("torch", "tensorflow"):
        if importlib.util.find_spec(framework) is None:
            pytest.skip(f"{framework} is not installed")
    site = tmp_path_factory.mktemp("site")
    _install(site, "mgu = gradparity_example_cell:CELL")
    return site


def test_external_cell_is_listed_with_composed_oracles(site):
    done = _run(site, "cells")
    row = next(line for line in done.stdout.splitlines() if line.startswith("mgu "))
    assert done.returncode == 0 and row.split()[3:5] == ["composed", "composed"]


def test_external_cell_compare_agrees_with_every_oracle(site):
    done = _run(
        site,
        "compare",
        "--cell",
        "mgu",
        "--hidden-size",
        "5",
        "--seq-len",
        "9",
        "--oracles",
        "torch,tf,numerical,fd",
        "--json",
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["agree"], done.stderr
    assert {r["oracle"] for r in report["results"]} == {"torch", "tf", "numerical", "fd"}
    exact = [r for r in report["results"] if r["oracle"] != "fd"]
    assert max(r["max_rel_err"] for r in exact) <= 1e-10


def test_external_cell_reproduces_a_fixture_recorded_with_torch(site, tmp_path):
    """Expected values from the composed torch oracle; the reference must reproduce them."""
    compare = _run(site, "compare", "--cell", "mgu", "--no-probes", "--oracles", "torch", "--json")
    assert compare.returncode == 0
    script = (
        "import json, sys\n"
        "from oracles.cases import Case, make_problem\n"
        "from oracles.base import get_oracle\n"
        "case = Case.make('mgu', probes=False, input_size=2, hidden_size=3, seq_len=4, batch=2)\n"
        "p = make_problem(case)\n"
        "out = get_oracle('torch').run(case.spec, p)\n"
        "keep = ['outputs', 'h_T', 'loss', 'grad/U_n', 'grad/W_f', 'grad/x', 'grad/h0']\n"
        "print(json.dumps({'name': 'mgu-torch', 'source': 'torch composed oracle',\n"
        "  'cell': 'mgu', 'dtype': 'float64', 'hidden_size': 3,\n"
        "  'params': {k: v.tolist() for k, v in p.params.items()},\n"
        "  'inputs': {'x': p.x.tolist(), 'h0': p.state0['h'].tolist()},\n"
        "  'head': {**{k: v.tolist() for k, v in p.head.items()}, 'targets': p.targets.tolist()},\n"
        "  'expected': {k: out[k].tolist() for k in keep}, 'rtol': 1e-12}))\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{EXAMPLE.parents[2]}"}
    made = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    fixture = tmp_path / "mgu.json"
    fixture.write_text(made.stdout)
    done = _run(site, "reproduce", str(fixture))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reproduced by the reference" in done.stdout


def test_external_cell_is_certified_by_the_agreement_suite(site, tmp_path):
    out = tmp_path / "report"
    done = _run(site, "certify", "--workers", "1", "--out", str(out), "--", "-k", "mgu-")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "](mgu-reference-vs-torch.png)" in (out / "report.md").read_text()
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("mgu ")]
    rows = [r for r in rows if len(r) >= 9]  # the summary table, not the time-budget table
    assert {(r[1], r[2]) for r in rows} == {
        (oracle, dtype)
        for oracle in ("fd", "numerical", "tf", "torch")
        for dtype in ("float32", "float64")
    }
    assert all(r[-1] == "pass" for r in rows)


def test_a_broken_entry_point_is_one_line_and_exit_2(tmp_path):
    _install(tmp_path, "broken = gradparity_example_cell.no_such_module:CELL")
    done = _run(tmp_path, "cells")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert "entry point broken = gradparity_example_cell.no_such_module:CELL" in done.stderr
