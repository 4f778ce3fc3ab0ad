"""A cell from a package outside this repository gets the full suite through the entry point
group ``gradparity.cells``: ``cells``, ``compare``, ``reproduce``, and ``certify`` (which runs
the parametrized agreement tests), with no edit to this repository.

The example package (docs/examples/external_cell) is "installed" into a temporary directory as
a package plus a ``.dist-info`` with its entry point, which is what pip would write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import install_example, installed_frameworks, run_gradparity

EXAMPLE = Path(__file__).parents[1] / "docs" / "examples" / "external_cell"


def _install(site: Path, entry_point: str) -> dict:
    return install_example(site, EXAMPLE, "gradparity.cells", entry_point)


def _run(site: Path, *args: str) -> subprocess.CompletedProcess:
    return run_gradparity(*args, env=ENVIRONMENTS[site])


ENVIRONMENTS: dict[Path, dict] = {}


def _example_frameworks() -> list[str]:
    """The frameworks the example package brings builders for (its own business to name)."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        from gradparity_example_cell import CELL
    finally:
        sys.path.remove(str(EXAMPLE))
    return list(CELL.builders)


FRAMEWORKS = _example_frameworks()
ORACLES = [*FRAMEWORKS, "numerical", "fd"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    missing = [n for n in FRAMEWORKS if n not in installed_frameworks()]
    if missing:
        pytest.skip(f"the example's frameworks {missing} are not installed")
    site = tmp_path_factory.mktemp("site")
    ENVIRONMENTS[site] = _install(site, "mgu = gradparity_example_cell:CELL")
    return site


def test_external_cell_is_listed_with_composed_oracles(site):
    done = _run(site, "cells")
    row = next(line for line in done.stdout.splitlines() if line.startswith("mgu "))
    columns = done.stdout.splitlines()[0].split()
    support = dict(zip(columns, row.split(), strict=False))
    assert done.returncode == 0 and all(support[n] == "composed" for n in FRAMEWORKS)


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
        ",".join(ORACLES),
        "--json",
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["agree"], done.stderr
    assert {r["oracle"] for r in report["results"]} == set(ORACLES)
    exact = [r for r in report["results"] if r["oracle"] != "fd"]
    assert max(r["max_rel_err"] for r in exact) <= 1e-10


def test_external_cell_reproduces_a_fixture_recorded_with_a_framework(site, tmp_path):
    """Expected values from a composed framework oracle; the reference must reproduce them."""
    first = FRAMEWORKS[0]
    script = (
        "import json, sys\n"
        "from gradparity import Case, get_cell, make_problem\n"
        "from gradparity.frameworks import get_oracle\n"
        "case = Case.make(get_cell('mgu'), probes=False, input_size=2, hidden_size=3, seq_len=4,"
        " batch=2)\n"
        "p = make_problem(case)\n"
        f"out = get_oracle({first!r}).run(case.spec, p)\n"
        "keep = ['outputs', 'h_T', 'loss', 'grad/U_n', 'grad/W_f', 'grad/x', 'grad/h0']\n"
        "print(json.dumps({'name': 'mgu-recorded', 'source': 'a composed oracle',\n"
        "  'cell': 'mgu', 'dtype': 'float64', 'hidden_size': 3,\n"
        "  'params': {k: v.tolist() for k, v in p.params.items()},\n"
        "  'inputs': {'x': p.x.tolist(), 'h0': p.state0['h'].tolist()},\n"
        "  'head': {**{k: v.tolist() for k, v in p.head.items()}, 'targets': p.targets.tolist()},\n"
        "  'expected': {k: out[k].tolist() for k in keep}, 'rtol': 1e-12}))\n"
    )
    env = {**os.environ, **ENVIRONMENTS[site]}
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
    report = (out / "report.md").read_text()
    assert all(f"](mgu-reference-vs-{name}.png)" in report for name in ORACLES)
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("mgu ")]
    rows = [r for r in rows if len(r) >= 11]  # the summary table, not the time-budget table
    assert {(r[1], r[3], r[4]) for r in rows} >= {
        ("reference", oracle, dtype) for oracle in ORACLES for dtype in ("float32", "float64")
    }
    assert all(r[-1] == "pass" for r in rows)


def test_a_broken_entry_point_is_one_line_and_exit_2(tmp_path):
    ENVIRONMENTS[tmp_path] = _install(
        tmp_path, "broken = gradparity_example_cell.no_such_module:CELL"
    )
    done = _run(tmp_path, "cells")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert "entry point broken = gradparity_example_cell.no_such_module:CELL" in done.stderr
