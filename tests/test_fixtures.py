"""Fixtures: every one in fixtures/ is reproduced; edited or malformed ones are caught."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradparity.frameworks import all_frameworks, all_oracles
from helpers import registered_fixtures, run_cli, uncompiled_frameworks

FIXTURES = registered_fixtures()


def _fixture_params():
    for path in FIXTURES:
        reason = json.loads(path.read_text()).get("xfail")
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("path", list(_fixture_params()))
def test_every_fixture_is_reproduced_by_the_reference(capsys, path):
    data = json.loads(path.read_text())
    frameworks = uncompiled_frameworks()  # the reference is the point: spare the compiles
    frameworks = [n for n in frameworks if data.get("dtype") not in all_frameworks()[n].refuses]
    if data.get("kind") == "program":  # a program fixture is gradients only
        frameworks = [n for n in frameworks if all_frameworks()[n].gradients]
    oracles = ",".join([*frameworks, "numerical"])
    code, out, _ = run_cli(capsys, "reproduce", str(path), "--oracles", oracles, "--json")
    report = json.loads(out)
    reference = [r for r in report["results"] if r["oracle"] == "reference"]
    assert {r["tensor"] for r in reference} == set(json.loads(path.read_text())["expected"])
    failed = [r["tensor"] for r in reference if not r["ok"]]
    assert report["agree"] and not failed, f"reference does not reproduce {failed}"
    assert code == 0


@pytest.mark.parametrize("path", [p for p in FIXTURES if "xfail" in json.loads(p.read_text())])
def test_an_xfail_fixture_is_reproduced_by_nobody_and_reproduce_says_so(capsys, path):
    code, out, _ = run_cli(capsys, "reproduce", str(path), "--json")
    report = json.loads(out)
    assert report["reproduced_by"] == [] and report["as_expected"] and code == 0
    code, out, _ = run_cli(capsys, "reproduce", str(path))
    assert code == 0 and "not reproduced, as expected (xfail: " in out


def _largest_entry(value) -> tuple[np.ndarray, int]:
    array = np.array(value, dtype=np.float64)
    return array, int(np.argmax(np.abs(array)))


def _moved_beyond_tolerance(data: dict, tensor: str) -> list | float:
    """The tensor with its largest entry moved by twice its tolerance plus 1e-4 relative."""
    tol = {"rtol": data.get("rtol", 1e-6), "atol": data.get("atol", 0.0)}
    tol |= data.get("tolerances", {}).get(tensor, {})
    array, k = _largest_entry(data["expected"][tensor])
    scale = float(np.abs(array).max())
    array.flat[k] += 2 * (tol["atol"] + tol["rtol"] * scale) + 1e-4 * max(scale, 1e-12)
    return array.tolist()


REPRODUCED = [p for p in FIXTURES if "xfail" not in json.loads(p.read_text())]


@pytest.mark.parametrize("path", REPRODUCED, ids=[p.stem for p in REPRODUCED])
def test_an_expected_tensor_moved_beyond_its_tolerance_is_not_reproduced(capsys, tmp_path, path):
    data = json.loads(path.read_text())
    tensor = next(
        (k for k in data["expected"] if k.startswith("grad/")), next(iter(data["expected"]))
    )
    data["expected"][tensor] = _moved_beyond_tolerance(data, tensor)
    edited = tmp_path / "off.json"
    edited.write_text(json.dumps(data))
    code, out, _ = run_cli(capsys, "reproduce", str(edited), "--oracle", "numerical")
    assert code == 1
    assert f"{tensor}: reference disagrees with expected" in out and "NOT REPRODUCED" in out
    code, out, _ = run_cli(capsys, "reproduce", str(edited), "--json", "--oracle", "numerical")
    failed = {r["tensor"] for r in json.loads(out)["results"] if not r["ok"]}
    assert code == 1 and tensor in failed


def _recurrent_fixture() -> dict:
    for path in FIXTURES:
        data = json.loads(path.read_text())
        if "head" in data and "h0" not in data["inputs"] and data["params"]:
            return data
    pytest.skip("no fixture of a registered cell to edit")


def _first_param(data) -> str:
    return next(iter(data["params"]))


def _edits():
    yield "missing-parameter", lambda d: d["params"].pop(_first_param(d)), ": missing"
    yield "unknown-parameter", lambda d: d["params"].update(V_q=1.0), "params.V_q: not a parameter"
    yield (
        "wrong-shape",
        lambda d: d["params"].update({_first_param(d): [[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]}),
        "has shape [1, 7]",
    )
    yield "non-numeric", lambda d: d["params"].update({_first_param(d): "0.1"}), "expected a number"
    yield "nan-value", lambda d: d["params"].update({_first_param(d): float("nan")}), "NaN or Inf"
    yield (
        "unknown-tensor",
        lambda d: d["expected"].update({"grad/W_zz": 1.0}),
        "expected.grad/W_zz: unknown tensor",
    )
    yield "missing-field", lambda d: d.pop("source"), "source: missing"
    yield "unknown-field", lambda d: d.update(expect={}), "expect: unknown field"
    yield "unknown-cell", lambda d: d.update(cell="no-such-cell"), "cell: unknown cell"
    yield "bad-dtype", lambda d: d.update(dtype="float16"), "dtype: 'float16' is not one of"
    yield "zero-hidden", lambda d: d.update(hidden_size=0), "hidden_size: expected a positive"
    yield (
        "target-out-of-range",
        lambda d: d["head"].update(targets=[99] * len(d["head"]["targets"])),
        "head.targets: values must be",
    )
    yield "targets-missing", lambda d: d["head"].pop("targets"), "head.targets: missing"
    yield "ragged-x", lambda d: d["inputs"].update(x=[[[1.0], [1.0, 2.0]]]), "inputs.x:"
    yield "x-wrong-rank", lambda d: d["inputs"].update(x=[1.0, 2.0]), "inputs.x: has shape [2]"
    yield "negative-rtol", lambda d: d.update(rtol=-1.0), "rtol: expected a finite non-negative"
    yield "unknown-input", lambda d: d["inputs"].update(q0=[0.0]), "inputs.q0: unknown input"


EDITS = list(_edits())


def _assert_bad_fixture(capsys, tmp_path, data: dict, edit, expected: str) -> None:
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    code, out, err = run_cli(capsys, "reproduce", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and expected in err, err


@pytest.mark.parametrize(("edit", "expected"), [e[1:] for e in EDITS], ids=[e[0] for e in EDITS])
def test_malformed_fixture_is_one_line_and_exit_2(capsys, tmp_path, edit, expected):
    _assert_bad_fixture(capsys, tmp_path, _recurrent_fixture(), edit, expected)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"name": "x",', "invalid JSON at line 1"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1]", "JSON object"),
    ],
    ids=["truncated-json", "not-utf8", "not-an-object"],
)
def test_unreadable_fixture_is_one_line_and_exit_2(capsys, tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    code, _, err = run_cli(capsys, "reproduce", str(path))
    assert code == 2 and err.count("\n") == 1 and expected in err


def test_missing_fixture_file_is_exit_2(capsys, tmp_path):
    code, _, err = run_cli(capsys, "reproduce", str(tmp_path / "absent.json"))
    assert code == 2 and "no such fixture file" in err


def _program_fixture() -> dict:
    for path in FIXTURES:
        data = json.loads(path.read_text())
        if data.get("kind") == "program":
            return data
    pytest.skip("no program fixture")


def _program_edits():
    yield "bad-line", lambda d: d["program"].append("f = "), "program: line"
    yield "unknown-op", lambda d: d["program"].append("g = cube(f)"), "unknown op 'cube'"
    yield "undefined-name", lambda d: d["program"].append("g = add(f, w)"), "'w' is not defined"
    yield "output-not-assigned", lambda d: d.update(output="nope"), "output: 'nope' is not"
    yield "unknown-kind", lambda d: d.update(kind="graph"), "kind: 'graph' is not one of"
    yield (
        "tolerance-for-unknown-tensor",
        lambda d: d.update(tolerances={"grad/nope": {"atol": 1.0}}),
        "tolerances.grad/nope: not an expected tensor",
    )
    yield "empty-xfail", lambda d: d.update(xfail=""), "xfail: expected the reason"
    yield "cell-field", lambda d: d.update(cell="lstm"), "cell: unknown field"
    yield (
        "unknown-program-tensor",
        lambda d: d["expected"].update({"grad/zz": 1.0}),
        "expected.grad/zz: unknown tensor",
    )


PROGRAM_EDITS = list(_program_edits())


@pytest.mark.parametrize(
    ("edit", "expected"), [e[1:] for e in PROGRAM_EDITS], ids=[e[0] for e in PROGRAM_EDITS]
)
def test_malformed_program_fixture_is_one_line_and_exit_2(capsys, tmp_path, edit, expected):
    _assert_bad_fixture(capsys, tmp_path, _program_fixture(), edit, expected)


def test_wrong_probe_shape_is_one_line_and_exit_2(capsys, tmp_path):
    data = _recurrent_fixture()
    data["probes"] = {"outputs": [[1.0]]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    code, _, err = run_cli(capsys, "reproduce", str(path))
    assert code == 2 and err.count("\n") == 1 and "probes.outputs: has shape [1, 1]" in err


def test_reproduce_table_has_a_column_per_implementation_and_oracle_restricts_it(capsys):
    path = next(p for p in FIXTURES if "xfail" not in json.loads(p.read_text()))
    code, out, _ = run_cli(capsys, "reproduce", str(path))
    header = next(line for line in out.splitlines() if line.startswith("tensor"))
    assert code == 0 and header.split()[:2] == ["tensor", "reference"]
    assert set(header.split()[1:]) <= {"reference", *all_oracles()}
    code, out, _ = run_cli(capsys, "reproduce", str(path), "--oracle", "numerical")
    header = next(line for line in out.splitlines() if line.startswith("tensor"))
    assert code == 0 and header.split() == ["tensor", "reference", "numerical"]
