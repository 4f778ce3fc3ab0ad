"""A cell from a package outside this repository gets the full suite through the entry point
group ``gradparity.cells``: ``cells``, ``compare``, ``reproduce``, and ``certify`` (which runs
the parametrized agreement tests), with no edit to this repository. The example is one file of
equations (a step program) and a registry entry: every framework composes it (``compare``).

The example package (docs/examples/external_cell) is "installed" into a temporary directory as
a package plus a ``.dist-info`` with its entry point, which is what pip would write.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gradparity.frameworks import all_frameworks
from gradparity.suite.agreement import suite_skip
from helpers import install_example, installed_frameworks, one_oracle_of_each_suite, run_gradparity

EXAMPLE = Path(__file__).parents[1] / "docs" / "examples" / "external_cell"


def _install(site: Path, entry_point: str) -> dict:
    return install_example(site, EXAMPLE, "gradparity.cells", entry_point)


def _run(site: Path, *args: str) -> subprocess.CompletedProcess:
    return run_gradparity(*args, env=ENVIRONMENTS[site])


ENVIRONMENTS: dict[Path, dict] = {}


FRAMEWORKS = [n for n, f in all_frameworks().items() if f.composes]  # a program composes anywhere
ORACLES = [*FRAMEWORKS, "numerical", "fd"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    missing = [n for n in FRAMEWORKS if n not in installed_frameworks()]
    if missing:
        pytest.skip(f"frameworks {missing} are not installed")
    site = tmp_path_factory.mktemp("site")
    ENVIRONMENTS[site] = _install(site, "ligru = gradparity_example_cell:CELL")
    return site


def test_external_cell_is_listed_with_composed_oracles(site):
    done = _run(site, "cells")
    row = next(line for line in done.stdout.splitlines() if line.startswith("ligru "))
    columns = done.stdout.splitlines()[0].split()
    support = dict(zip(columns, row.split(), strict=False))
    assert done.returncode == 0 and all(support[n] == "composed" for n in FRAMEWORKS)


def test_external_cell_compare_agrees_with_every_oracle(site):
    done = _run(
        site,
        "compare",
        "--cell",
        "ligru",
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
    refusing = {o for o in ORACLES if suite_skip(o, "float64")}  # e.g. a framework's float64
    assert {r["oracle"] for r in report["results"]} == set(ORACLES) - refusing
    assert {s["oracle"] for s in report["skipped"]} == refusing
    exact = [r for r in report["results"] if r["oracle"] != "fd"]
    assert max(r["max_rel_err"] for r in exact) <= 1e-10


def test_external_cell_reproduces_a_fixture_recorded_with_a_framework(site, tmp_path):
    """A fixture recorded by a composed framework oracle; the reference must reproduce it."""
    fixture = tmp_path / "ligru.json"
    argv = ["record", "--cell", "ligru", "--seq-len", "4", "--hidden-size", "3", "--no-probes"]
    recorded = _run(site, *argv, "--implementation", FRAMEWORKS[0], "--out", str(fixture))
    assert recorded.returncode == 0, recorded.stderr
    done = _run(site, "reproduce", str(fixture), "--oracle", "numerical")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reproduced by the reference" in done.stdout


def test_external_cell_is_certified_by_the_agreement_suite(site, tmp_path):
    """The suite's parametrization takes the cell in, on a framework of each suite (size grid,
    pairwise cases) and complex step; that every oracle composes it is the compare test's."""
    out, oracles = tmp_path / "report", one_oracle_of_each_suite()
    argv = ["--gradparity-cells", "ligru", "--gradparity-oracles", ",".join(oracles)]
    done = _run(site, "certify", "--workers", "1", "--out", str(out), "--", *argv)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = (out / "report.md").read_text()
    assert all(f"](ligru-reference-vs-{name}.png)" in report for name in oracles)
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("ligru ")]
    rows = [r for r in rows if len(r) >= 11]  # the summary table, not the time-budget table
    expected = {
        ("reference", oracle, dtype)
        for oracle in oracles
        for dtype in ("float32", "float64")
        if suite_skip(oracle, dtype) is None
    }
    assert {(r[1], r[3], r[4]) for r in rows} == expected
    assert all(r[-1] == "pass" for r in rows)


def test_a_broken_entry_point_is_one_line_and_exit_2(tmp_path):
    ENVIRONMENTS[tmp_path] = _install(
        tmp_path, "broken = gradparity_example_cell.no_such_module:CELL"
    )
    done = _run(tmp_path, "cells")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert "entry point broken = gradparity_example_cell.no_such_module:CELL" in done.stderr


BROKEN_BUILDER = """from dataclasses import replace

from gradparity import Builder
from gradparity_example_cell import CELL as LIGRU

CELL = replace(
    LIGRU,
    name="ligru_broken",
    builders={{{framework!r}: Builder("gradparity_example_cell.no_such_module:build")}},
)
"""


def test_a_builder_that_does_not_import_is_one_line_and_exit_2_and_the_others_run(tmp_path):
    """docs/bad-input.md, builder-import-error."""
    missing = [n for n in FRAMEWORKS if n not in installed_frameworks()]
    if missing:
        pytest.skip(f"frameworks {missing} are not installed")
    broken = FRAMEWORKS[0]
    ENVIRONMENTS[tmp_path] = _install(
        tmp_path, "ligru_broken = gradparity_example_cell.broken:CELL"
    )
    (tmp_path / "gradparity_example_cell" / "broken.py").write_text(
        BROKEN_BUILDER.format(framework=broken)
    )
    others = [*FRAMEWORKS[1:2], "numerical"]  # the others run (two suffice: the rest would
    # only add their imports)
    done = _run(
        tmp_path, "compare", "--cell", "ligru_broken", "--seq-len", "2",
        "--oracles", ",".join([broken, *others]),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    errors = [line for line in lines if not line.startswith("skipped ")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert errors[0].startswith("gradparity: error: builder gradparity_example_cell.no_such")
    assert "cannot be imported: ModuleNotFoundError" in errors[0]
    skipped = {line.split()[1].rstrip(":") for line in lines if line.startswith("skipped ")}
    ran = {line.split()[0] for line in done.stdout.splitlines()[2:] if line.strip()}
    assert ran >= set(others) - skipped and broken not in ran, done.stdout
