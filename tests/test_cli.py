"""The ``gradparity`` command line: its contract (exit codes, JSON shape) and its errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gradparity.catalog import all_cells
from gradparity.core.cases import Case, tensor_names
from gradparity.core.loop import oracle_tensors
from gradparity.core.tolerances import tolerance
from gradparity.frameworks import default_oracles, get_oracle
from helpers import cell_where, has_option, option_where, run_cli, run_gradparity

CELLS = sorted(all_cells())
ODD_SIZES = {"input_size": 3, "hidden_size": 7, "seq_len": 13, "batch": 2}


def odd_shape_args(spec) -> list[str]:
    args = ["--input-size", "3", "--hidden-size", "7", "--batch", "2"]
    return args + (["--seq-len", "13"] if spec.recurrent else [])


ODD_CASES = [(cell, "float64") for cell in CELLS] + [
    (cell, "float32")
    for cell in ("lstm", "gru", "rnn")  # float32: the agreement suite's too
]


@pytest.mark.parametrize(("cell", "dtype"), ODD_CASES)
def test_compare_json_contract_on_odd_shapes(capsys, cell, dtype):
    spec = all_cells()[cell]
    argv = ["compare", "--cell", cell, *odd_shape_args(spec), "--dtype", dtype, "--json"]
    code, out, _ = run_cli(capsys, *argv)
    report = json.loads(out)
    assert code == 0 and report["agree"] is True
    assert report["case"]["hidden_size"] == 7 and report["case"]["dtype"] == dtype
    fields = {"oracle", "tensor", "max_abs_err", "max_rel_err", "atol", "rtol", "ok"}
    for row in report["results"]:
        assert fields <= set(row) and row["ok"]
    if dtype == "float64":  # every row computed in float64 (not by a float32-only runtime)
        float32 = {tolerance("float32", kind).rtol for kind in ("value", "gradient")}
        rows = [row for row in report["results"] if row["rtol"] not in float32]
        assert max(row["max_rel_err"] for row in rows) <= 1e-10
    every = tensor_names(Case.make(spec, dtype=dtype, **ODD_SIZES))
    ran = {row["oracle"] for row in report["results"]} | {s["oracle"] for s in report["skipped"]}
    assert ran == set(default_oracles())
    for oracle in {row["oracle"] for row in report["results"]}:
        wanted = oracle_tensors(get_oracle(oracle), every)  # what it computes of every tensor
        covered = [row["tensor"] for row in report["results"] if row["oracle"] == oracle]
        assert covered == wanted, f"{oracle} must compare every tensor"


def test_compare_option_changes_the_case(capsys):
    spec = cell_where(has_option(lambda o: isinstance(o.default, float)), "with a float option")
    option = option_where(spec, lambda o: isinstance(o.default, float))
    code, out, _ = run_cli(
        capsys,
        "compare",
        "--cell",
        spec.name,
        "--option",
        f"{option.name}=0.75",
        "--oracles",
        "numerical",
        "--json",
    )
    assert code == 0 and json.loads(out)["case"]["options"][option.name] == 0.75


def test_compare_human_output_names_every_comparison(capsys):
    spec = next(iter(all_cells().values()))
    code, out, _ = run_cli(capsys, "compare", "--cell", spec.name, "--oracles", "numerical,fd")
    assert code == 0 and f"case {spec.name}-I3-H7" in out
    comparisons = len(out.split("\n\n")[0].splitlines()) - 2  # minus the case line and header
    assert f"agree: {comparisons} comparisons, 0 failed" in out


def _bad_compare_cases():
    any_cell = CELLS[0]
    yield "unknown-cell", ["--cell", "nope"], "unknown cell 'nope'"
    yield "unknown-option", ["--cell", any_cell, "--option", "nope=1"], "has no option 'nope'"
    yield "option-without-value", ["--option", "forget"], "expected NAME=VALUE"
    yield (
        "zero-hidden",
        ["--cell", any_cell, "--hidden-size", "0"],
        "hidden_size must be a positive",
    )
    yield (
        "negative-batch",
        ["--cell", any_cell, "--batch", "-2"],
        "batch must be a positive integer",
    )
    yield "non-integer-size", ["--input-size", "2.5"], "invalid int value"
    yield "unknown-dtype", ["--dtype", "float16"], "invalid choice"
    yield "unknown-oracle", ["--oracles", "nope"], "expected a comma-separated list"
    yield "nan-fill", ["--cell", any_cell, "--param-fill", "nan"], "param_fill must be a finite"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [case[1:] for case in _bad_compare_cases()],
    ids=[case[0] for case in _bad_compare_cases()],
)
def test_bad_compare_input_is_one_line_and_exit_2(capsys, argv, expected):
    _assert_bad_input(capsys, argv, expected)


def _assert_bad_input(capsys, argv, expected):
    code, out, err = run_cli(capsys, "compare", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("gradparity: error: ") and expected in err, err


def test_empty_sequence_is_bad_input(capsys):
    spec = cell_where(lambda s: s.recurrent, "that is recurrent")
    _assert_bad_input(capsys, ["--cell", spec.name, "--seq-len", "0"], "seq_len must be a positive")


def test_seq_len_for_a_layer_without_time_axis_is_bad_input(capsys):
    spec = cell_where(lambda s: not s.recurrent, "without a time axis")
    _assert_bad_input(capsys, ["--cell", spec.name, "--seq-len", "3"], "has no time axis")


def test_option_of_the_wrong_type_is_bad_input(capsys):
    spec = cell_where(has_option(lambda o: isinstance(o.default, float)), "with a float option")
    option = option_where(spec, lambda o: isinstance(o.default, float))
    argv = ["--cell", spec.name, "--option", f"{option.name}=big"]
    _assert_bad_input(capsys, argv, "is not a float")


def test_option_outside_its_choices_is_bad_input(capsys):
    spec = cell_where(has_option(lambda o: bool(o.choices)), "with a choice option")
    option = option_where(spec, lambda o: bool(o.choices))
    argv = ["--cell", spec.name, "--option", f"{option.name}=no-such-choice"]
    _assert_bad_input(capsys, argv, "is not one of")


def test_cells_lists_every_registered_cell(capsys):
    code, out, _ = run_cli(capsys, "cells")
    assert code == 0
    for name in all_cells():
        assert any(line.startswith(name + " ") for line in out.splitlines())


def test_console_script_exits_2_without_traceback():
    beside = Path(sys.executable).with_name("gradparity")
    exe = str(beside) if beside.exists() else shutil.which("gradparity")
    if exe is None:
        pytest.skip("the gradparity console script is not installed (pip install -e .)")
    done = subprocess.run([exe, "compare", "--cell", "nope"], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("gradparity: error: unknown cell 'nope'")


def test_tolerance_table_is_tight_in_float64():
    assert tolerance("float64", "value").rtol <= 1e-10
    assert tolerance("float64", "gradient").rtol <= 1e-10


def test_module_entry_point():
    done = run_gradparity("cells")
    assert done.returncode == 0 and done.stdout.startswith("cell ")
