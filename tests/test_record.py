"""``gradparity record`` writes a fixture that ``reproduce`` reproduces, and nothing partial."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradparity.catalog import get_cell
from gradparity.frameworks import all_frameworks, get_oracle
from helpers import cell_where, first_dtype, run_cli


@pytest.fixture(scope="module")
def recurrent_cell() -> str:
    return cell_where(lambda spec: spec.recurrent and spec.states, "with states").name


def _record(capsys, tmp_path, cell: str, *extra: str) -> tuple[int, dict, str]:
    out = tmp_path / "case.json"
    code, _, err = run_cli(
        capsys, "record", "--cell", cell, "--seq-len", "4", "--out", str(out), *extra
    )
    return code, (json.loads(out.read_text()) if out.exists() else {}), err


def test_record_then_reproduce_exits_0_and_a_1e_4_edit_exits_1(capsys, tmp_path, recurrent_cell):
    code, data, _ = _record(capsys, tmp_path, recurrent_cell)
    assert code == 0
    grads = [k for k in data["expected"] if k.startswith("grad/")]
    values = [k for k in data["expected"] if not k.startswith("grad/")]
    assert {"outputs", "loss", "grad/x"} <= set(data["expected"]) and len(grads) > 3
    assert set(data["tolerances"]) == set(values)
    about = data["recorded_with"]
    assert about["implementation"] == "reference" and about["numpy"] == np.__version__
    distributions = {names[-1] for f in all_frameworks().values() for names in f.distributions}
    assert {"platform", "python", "command", *distributions} <= set(about)

    path = tmp_path / "case.json"
    code, out, _ = run_cli(capsys, "reproduce", str(path))
    assert code == 0 and "reproduced by the reference" in out

    tensor = grads[0]
    array = np.array(data["expected"][tensor])
    array.flat[np.argmax(np.abs(array))] *= 1 + 1e-4
    data["expected"][tensor] = array.tolist()
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    code, out, _ = run_cli(capsys, "reproduce", str(edited), "--oracle", "numerical")
    assert code == 1 and f"{tensor}: reference disagrees with expected" in out


@pytest.mark.parametrize("implementation", list(all_frameworks()))
def test_a_framework_recording_is_reproduced_by_the_reference(
    capsys, tmp_path, recurrent_cell, implementation
):
    reason = get_oracle(implementation).unsupported(get_cell(recurrent_cell))
    if reason:
        pytest.skip(reason)
    dtype = first_dtype(implementation) if implementation in all_frameworks() else "float64"
    code, data, _ = _record(
        capsys, tmp_path, recurrent_cell, "--implementation", implementation, "--dtype", dtype
    )
    assert code == 0 and data["recorded_with"]["implementation"] == implementation
    code, out, _ = run_cli(
        capsys, "reproduce", str(tmp_path / "case.json"), "--oracle", "numerical"
    )
    assert code == 0, out


def test_stacked_case_with_probes_round_trips(capsys, tmp_path, recurrent_cell):
    code, data, _ = _record(capsys, tmp_path, recurrent_cell, "--layers", "2", "--bidirectional")
    assert code == 0 and "probes" in data and data["options"]["layers"] == 2
    code, _, _ = run_cli(capsys, "reproduce", str(tmp_path / "case.json"), "--oracle", "numerical")
    assert code == 0


def test_record_refuses_to_overwrite_and_leaves_the_file_alone(capsys, tmp_path, recurrent_cell):
    path = tmp_path / "case.json"
    path.write_text("keep me")
    code, _, err = run_cli(capsys, "record", "--cell", recurrent_cell, "--out", str(path))
    assert code == 2 and err.count("\n") == 1 and "exists; pass --force" in err
    assert path.read_text() == "keep me"


@pytest.mark.parametrize(
    ("out", "message"),
    [("missing-dir/case.json", "does not exist"), (".", "is a directory")],
    ids=["missing-directory", "a-directory"],
)
def test_record_bad_destination_is_exit_2_and_writes_nothing(capsys, tmp_path, out, message):
    before = sorted(tmp_path.rglob("*"))
    code, _, err = run_cli(capsys, "record", "--out", str(tmp_path / out))
    assert code == 2 and err.count("\n") == 1 and message in err
    assert sorted(tmp_path.rglob("*")) == before


def test_record_with_a_bad_case_writes_nothing(capsys, tmp_path):
    code, _, err = run_cli(
        capsys, "record", "--hidden-size", "0", "--out", str(tmp_path / "c.json")
    )
    assert code == 2 and "hidden_size must be a positive integer" in err
    assert list(tmp_path.iterdir()) == []


def test_record_with_a_gradient_only_oracle_is_refused(capsys, tmp_path):
    code, _, err = run_cli(
        capsys, "record", "--implementation", "numerical", "--out", str(tmp_path / "c.json")
    )
    assert code == 2 and "invalid choice: 'numerical'" in err and list(tmp_path.iterdir()) == []
