"""A framework from another package is one folder and one entry point: the example NumPy
framework (docs/examples/numpy_framework, complex step over gradparity's reference forward
passes), installed into a temporary directory as pip would, appears in ``gradparity cells``,
``compare`` and the agreement suite that ``certify`` runs, with no other file changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import ROOT, install_example, run_gradparity

EXAMPLE = ROOT / "docs" / "examples" / "numpy_framework"
NAME = "numpy_cs"


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict:
    site = tmp_path_factory.mktemp("site")
    entry = f"{NAME} = gradparity_numpy_framework:FRAMEWORK"
    return install_example(site, EXAMPLE, "gradparity.frameworks", entry)


def test_it_is_a_column_of_cells(env):
    done = run_gradparity("cells", env=env)
    header, *rows = done.stdout.splitlines()
    column = header.split().index(NAME)
    support = {row.split()[0]: row.split()[column] for row in rows}
    assert done.returncode == 0 and support["rnn"] == "native" and support["dense"] == "-"
    assert support["lstm"] == "composed"  # from its step program, with the adapter's ops


def test_compare_runs_it_and_it_agrees(env):
    done = run_gradparity(
        "compare", "--cell", "rnn", "--seq-len", "4", "--oracles", NAME, "--json", env=env
    )
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["agree"], done.stderr
    assert {r["oracle"] for r in report["results"]} == {NAME}
    assert len(report["results"]) >= 8 and max(r["max_rel_err"] for r in report["results"]) < 1e-12


def test_it_is_among_the_default_oracles_too(env):
    done = run_gradparity("compare", "--help", env=env)
    text = " ".join(done.stdout.split())  # argparse may wrap the list onto a line of its own
    oracles = text.split("--oracles ORACLES comma-separated (default: ")[1]
    defaults = oracles.split(";")[0].replace(" ", "")
    assert NAME in defaults.split(","), done.stdout


def test_the_agreement_suite_certifies_it(env, tmp_path: Path):
    out = tmp_path / "report"
    done = run_gradparity(
        "certify",
        "--workers",
        "1",
        "--out",
        str(out),
        "--",
        "--gradparity-cells",
        "rnn",
        "--gradparity-oracles",
        NAME,
        "-k",
        "H3 and B1 and (T1 or T2)",
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("rnn ")]
    assert {(r[3], r[-1]) for r in rows if len(r) >= 11} == {(NAME, "pass")}
    assert f"](rnn-reference-vs-{NAME}.png)" in (out / "report.md").read_text()
