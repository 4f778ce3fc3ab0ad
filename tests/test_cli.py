"""The ``gradparity`` command line: its contract (exit codes, JSON shape) and its errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oracles.cli import main
from oracles.tolerances import tolerance

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures").glob("*.json"))
ODD_SHAPE = ["--input-size", "3", "--hidden-size", "7", "--seq-len", "13", "--batch", "2"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compare_json_contract_on_odd_shapes(capsys, dtype):
    code, out, _ = run_cli(capsys, "compare", "--cell", "lstm", *ODD_SHAPE, "--dtype", dtype, "--json")
    report = json.loads(out)
    assert code == 0 and report["agree"] is True
    assert report["case"]["hidden_size"] == 7 and report["case"]["dtype"] == dtype
    fields = {"oracle", "tensor", "max_abs_err", "max_rel_err", "atol", "rtol", "ok"}
    for row in report["results"]:
        assert fields <= set(row)
        assert row["ok"] and row["max_rel_err"] <= row["rtol"]
    if dtype == "float64":
        assert max(row["max_rel_err"] for row in report["results"]) <= 1e-10
    covered = {(row["oracle"], row["tensor"]) for row in report["results"]}
    ran = {row["oracle"] for row in report["results"]}
    assert "numerical" in ran
    for oracle in ran - {"numerical"}:
        assert (oracle, "grad/U_f") in covered and (oracle, "c_T") in covered


def test_compare_option_changes_the_case(capsys):
    code, out, _ = run_cli(
        capsys, "compare", "--cell", "lstm", "--option", "forget_bias=1.0",
        "--oracles", "numerical", "--json",
    )
    assert code == 0 and json.loads(out)["case"]["options"] == {"forget_bias": 1.0}


def test_compare_human_output_names_every_comparison(capsys):
    code, out, _ = run_cli(capsys, "compare", "--cell", "dense", "--oracles", "numerical,fd")
    assert code == 0
    assert "case dense-I3-H7-B2-s0-float64" in out and "grad/W" in out
    assert "agree: 10 comparisons, 0 failed" in out


BAD_COMPARE = {
    "unknown-cell": (["--cell", "nope"], "unknown cell 'nope'"),
    "unknown-option": (["--option", "nope=1"], "has no option 'nope'"),
    "option-wrong-type": (["--option", "forget_bias=big"], "is not a float"),
    "option-without-value": (["--option", "forget_bias"], "expected NAME=VALUE"),
    "zero-hidden": (["--hidden-size", "0"], "hidden_size must be a positive integer"),
    "negative-batch": (["--batch", "-2"], "batch must be a positive integer"),
    "empty-sequence": (["--seq-len", "0"], "seq_len must be a positive integer"),
    "non-integer-size": (["--input-size", "2.5"], "invalid int value"),
    "unknown-dtype": (["--dtype", "float16"], "invalid choice"),
    "unknown-oracle": (["--oracles", "jax"], "expected a comma-separated list"),
    "nan-fill": (["--param-fill", "nan"], "param_fill must be a finite number"),
    "seq-len-for-dense": (["--cell", "dense", "--seq-len", "3"], "has no time axis"),
    "activation-choice": (["--cell", "dense", "--option", "activation=gelu"], "is not one of"),
}


@pytest.mark.parametrize(("argv", "expected"), BAD_COMPARE.values(), ids=BAD_COMPARE.keys())
def test_bad_compare_input_is_one_line_and_exit_2(capsys, argv, expected):
    code, out, err = run_cli(capsys, "compare", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("gradparity: error: ") and expected in err


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_every_fixture_is_reproduced(capsys, path):
    code, out, _ = run_cli(capsys, "reproduce", str(path), "--json")
    report = json.loads(out)
    assert code == 0 and report["agree"]
    reference = [r for r in report["results"] if r["oracle"] == "reference"]
    assert reference and all(r["ok"] for r in reference)


def test_a_gradient_off_by_1e_4_is_not_reproduced(capsys, tmp_path):
    data = json.loads(FIXTURES[0].read_text())
    tensor = next(k for k in data["expected"] if k.startswith("grad/"))
    data["expected"][tensor] = _scale_first_entry(data["expected"][tensor], 1 + 1e-4)
    path = tmp_path / "off.json"
    path.write_text(json.dumps(data))
    code, out, _ = run_cli(capsys, "reproduce", str(path))
    assert code == 1
    assert f"{tensor}: reference disagrees with expected" in out and "NOT REPRODUCED" in out
    code, out, _ = run_cli(capsys, "reproduce", str(path), "--json")
    failed = {r["tensor"] for r in json.loads(out)["results"] if not r["ok"]}
    assert code == 1 and tensor in failed


def _scale_first_entry(value, factor):
    if isinstance(value, list):
        return [_scale_first_entry(value[0], factor), *value[1:]]
    return value * factor


LSTM_FIXTURE = Path(__file__).parents[1] / "fixtures" / "lstm_seed_article_configuration.json"


def _fixture_variant(tmp_path, edit) -> str:
    data = json.loads(LSTM_FIXTURE.read_text())
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


BAD_FIXTURES = {
    "missing-parameter": (lambda d: d["params"].pop("U_g"), "params.U_g: missing"),
    "unknown-parameter": (lambda d: d["params"].update(V=1.0), "params.V: not a parameter"),
    "wrong-shape": (lambda d: d["params"].update(W_i=[[1.0, 2.0]]), "params.W_i: has shape [1, 2]"),
    "non-numeric": (lambda d: d["params"].update(b_o="0.1"), "params.b_o: expected a number"),
    "nan-value": (lambda d: d["params"].update(b_o=float("nan")), "contains NaN or Inf"),
    "unknown-tensor": (lambda d: d["expected"].update({"grad/W_z": 1.0}), "expected.grad/W_z: unknown tensor"),
    "missing-field": (lambda d: d.pop("source"), "source: missing"),
    "unknown-field": (lambda d: d.update(expect={}), "expect: unknown field"),
    "unknown-cell": (lambda d: d.update(cell="lstmm"), "cell: unknown cell 'lstmm'"),
    "target-out-of-range": (lambda d: d["head"].update(targets=[99]), "head.targets: values must be"),
    "ragged-x": (lambda d: d["inputs"].update(x=[[[1.0], [1.0, 2.0]]]), "inputs.x:"),
    "x-wrong-rank": (lambda d: d["inputs"].update(x=[1.0, 2.0]), "inputs.x: has shape [2]"),
}


@pytest.mark.parametrize(("edit", "expected"), BAD_FIXTURES.values(), ids=BAD_FIXTURES.keys())
def test_malformed_fixture_is_one_line_and_exit_2(capsys, tmp_path, edit, expected):
    code, out, err = run_cli(capsys, "reproduce", _fixture_variant(tmp_path, edit))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and expected in err, err


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b'{"name": "x",', "invalid JSON at line 1"), (b"\xff\xfe{}", "not UTF-8"), (b"[1]", "JSON object")],
    ids=["truncated-json", "not-utf8", "not-an-object"],
)
def test_unreadable_fixture_is_one_line_and_exit_2(capsys, tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    code, _, err = run_cli(capsys, "reproduce", str(path))
    assert code == 2 and err.count("\n") == 1 and expected in err


def test_cells_lists_every_registered_cell(capsys):
    from oracles.registry import all_cells

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
    done = subprocess.run([sys.executable, "-m", "oracles.cli", "cells"], capture_output=True, text=True)
    assert done.returncode == 0 and "lstm" in done.stdout
