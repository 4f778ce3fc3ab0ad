"""Determinism: the reference gives the same bits in every process, and a parallel pytest run
gives exactly the outcomes and numbers of a serial one (settings: ``gradparity.core.process``)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradparity.catalog import all_cells
from gradparity.commands.certify import read_results
from gradparity.core.cases import PAIRWISE_SEED, Case, make_problem
from gradparity.core.loop import run_reference
from gradparity.core.process import thread_count
from gradparity.suite.plugin import RESULTS_ENV
from helpers import one_oracle_of_each_suite

ROOT = Path(__file__).parents[1]


def reference_digest() -> str:
    """SHA-256 of every tensor of every cell's reference on sizes where BLAS blocking matters."""
    digest = hashlib.sha256()
    for spec in all_cells().values():
        for dtype in ("float32", "float64"):
            case = Case.make(spec, input_size=48, hidden_size=64, seq_len=20, batch=16, dtype=dtype)
            for tensor, value in sorted(run_reference(spec, make_problem(case)).items()):
                digest.update(tensor.encode())
                digest.update(value.tobytes())
    return digest.hexdigest()


def _digest_in_a_new_process(hash_seed: str) -> str:
    code = "from test_determinism import reference_digest; print(reference_digest())"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT / "tests")}
    # a fresh interpreter pins the settings before NumPy loads, as the CLI and the plugin do
    pin = "from gradparity.core.process import pin_process; pin_process()\n"
    done = subprocess.run(
        [sys.executable, "-c", pin + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_settings_are_pinned_in_this_process():
    assert os.environ["OPENBLAS_NUM_THREADS"] == str(thread_count())
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"


def test_reference_is_bitwise_identical_across_runs_and_processes():
    here = reference_digest()
    assert reference_digest() == here
    assert _digest_in_a_new_process("1") == here
    assert _digest_in_a_new_process("12345") == here


SLICE_ORACLES = one_oracle_of_each_suite()


def _run_suite_slice(tmp_path: Path, workers: str) -> dict[str, tuple]:
    results = tmp_path / f"results-{workers}"
    results.mkdir()
    subset = f"rnn- and (s{PAIRWISE_SEED}- or s{PAIRWISE_SEED + 1}- or T7-H3-B4-)"
    command = [sys.executable, "-m", "pytest", "tests/test_agreement.py", "-q"]  # the shipped suite
    command += ["-k", subset, "-n", workers, "--gradparity-oracles", ",".join(SLICE_ORACLES)]
    if workers != "0":
        command += ["--dist", "loadgroup"]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, RESULTS_ENV: str(results)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    rows = [r for r in read_results(results) if "skipped" not in r]
    assert {r["oracle"] for r in rows} == set(SLICE_ORACLES), "the slice left an oracle out"
    return {f"{r['case']}-{r['oracle']}-{r['tensor']}": (r["ok"], r["max_rel_err"]) for r in rows}


def test_parallel_and_serial_runs_give_identical_outcomes_and_numbers(tmp_path):
    serial = _run_suite_slice(tmp_path, "0")
    parallel = _run_suite_slice(tmp_path, "2")
    assert serial == parallel


@pytest.mark.xdist_group("loadgroup-probe")
def test_loadgroup_sends_a_group_to_one_worker(request):
    """The README's ``--dist loadgroup`` keeps a framework network's tests on one worker (and each
    framework's facts in one process) by the ``@group`` suffix it adds to their node ids."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not a --dist loadgroup worker")
    assert request.node.nodeid.endswith("@loadgroup-probe"), (
        f"--dist loadgroup did not group {request.node.nodeid}: pytest-xdist cannot set node ids"
        " on this pytest (pytest-dev/pytest-xdist#1386); install pytest<9.2"
    )
