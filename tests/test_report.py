"""``gradparity report`` and the report certify writes: the files, and bad input refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import gradparity.report.render
from gradparity.commands.certify import read_results, write_certify_report
from gradparity.core.cases import Case, tensor_names
from gradparity.report.data import GROUPS, points_from_results, tensor_group
from gradparity.report.render import Clock, ReportData, write_report
from gradparity.report.sweep import case_points
from helpers import cell_where, frameworks_running, run_cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ORACLE, OTHER = "oracle_a", "oracle_b"  # the report treats oracle names as labels


def assert_report(out: Path) -> str:
    """report.md embeds every plot, and every plot is a PNG."""
    report = (out / "report.md").read_text()
    plots = sorted(out.glob("*.png"))
    assert plots
    for plot in plots:
        assert plot.read_bytes().startswith(PNG_SIGNATURE)
        assert f"]({plot.name})" in report
    return report


def recurrent_cell():
    return cell_where(lambda spec: spec.recurrent and spec.states, "with a time axis and states")


def test_tiny_sweep_writes_report_and_plots(capsys, tmp_path):
    spec = recurrent_cell()
    out = tmp_path / "report"
    argv = ["report", "--out", str(out), "--cells", spec.name, "--seq-lens", "1,3"]
    argv += [
        "--hidden-sizes",
        "4",
        "--oracles",
        ",".join([*frameworks_running(spec)[:1], "numerical"]),
    ]
    argv += ["--json"]
    code, stdout, _ = run_cli(capsys, *argv)
    assert code == 0
    summary = json.loads(stdout)
    report = assert_report(out)
    assert {row["x"] for row in summary["worst"]} == {1, 3}
    assert {row["dtype"] for row in summary["worst"]} == {"float32", "float64"}
    groups = {row["group"] for row in summary["worst"]}
    assert {"parameter gradients", "input gradient", "initial-state gradients"} <= groups
    if not summary["skipped"]:
        assert groups == set(GROUPS)
    for heading in ("## Versions", "## Summary", "Elapsed:", "numpy", f"## {spec.name}"):
        assert heading in report
    assert list(tmp_path.iterdir()) == [out]  # no staging directory left


def test_framework_oracles_are_compared_with_each_other():
    spec = recurrent_cell()
    first, second = [*frameworks_running(spec), None, None][:2]
    if second is None:
        pytest.skip(f"needs two installed frameworks that run {spec.name}")
    case = Case.make(spec, hidden_size=3, seq_len=2, batch=1)
    skipped: dict = {}
    points = case_points(case, (first, second), skipped)
    pairs = {p.pair for p in points}
    assert not skipped and pairs == {("reference", first), ("reference", second), (first, second)}
    assert sum(p.pair == (first, second) for p in points) == len(tensor_names(case))
    assert all(p.ok for p in points)


def _row(cell: str, oracle: str, dtype: str, tensor: str, steps: int, error: float) -> dict:
    kind = "value" if not tensor.startswith("grad/") else "gradient"
    ok = error < (1e-5 if dtype == "float32" else 1e-13)
    return {
        "cell": cell,
        "case": f"{cell}-T{steps}-{dtype}",
        "oracle": oracle,
        "dtype": dtype,
        "seq_len": steps,
        "hidden_size": 3,
        "tensor": tensor,
        "kind": kind,
        "max_rel_err": error,
        "tolerance_used": error / 1e-5,
        "ok": ok,
        "known_discrepancy": False,
    }


def test_report_from_certify_results(tmp_path, capsys):
    spec = recurrent_cell()
    flat = cell_where(lambda s: not s.recurrent, "without a time axis")
    state = spec.states[0]
    rows = [
        _row(spec.name, ORACLE, dtype, tensor, steps, error * steps)
        for dtype, error in (("float32", 1e-7), ("float64", 1e-16))
        for steps in (1, 7, 50)
        for tensor in ("outputs", f"{state}_T", "loss", "grad/x", f"grad/{state}0")
    ]
    rows.append(_row(spec.name, ORACLE, "float32", "grad/x", 50, 3e-3))  # above the tolerance
    rows += [_row(flat.name, "numerical", "float64", "grad/x", 1, 2e-16)]
    reason = "tf has no builder for this case"
    rows.append(
        {"cell": spec.name, "case": "c", "oracle": OTHER, "dtype": "f64", "skipped": reason}
    )
    results = tmp_path / "results"
    results.mkdir()
    (results / "gw0.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "report"
    write_certify_report(read_results(results), out, Clock())
    report = assert_report(out)
    assert {p.name for p in out.glob("*.png")} == {
        f"{spec.name}-reference-vs-{ORACLE}.png",
        f"{flat.name}-reference-vs-numerical.png",
    }
    assert reason in report and "**3.0e-03**" in report and "FAIL (1)" in report
    assert "| T=1 | T=7 | T=50 |" in report and "| H=3 |" in report
    assert "report:" in capsys.readouterr().out


def test_a_previous_report_is_replaced_and_a_failed_one_leaves_nothing(tmp_path, monkeypatch):
    spec = recurrent_cell()
    out = tmp_path / "report"
    rows = [_row(spec.name, ORACLE, "float64", "loss", 1, 1e-16)]
    data = ReportData("t", [], points_from_results(rows)[0], {}, Clock())
    write_report(data, out)
    (out / "stale.png").write_bytes(PNG_SIGNATURE)
    write_report(data, out)
    assert not (out / "stale.png").exists() and list(tmp_path.iterdir()) == [out]

    def fail(*args):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(gradparity.report.render, "render_markdown", fail)
    with pytest.raises(RuntimeError):
        write_report(data, tmp_path / "other")
    assert list(tmp_path.iterdir()) == [out]


@pytest.mark.parametrize("command", ["report", "certify"])
@pytest.mark.parametrize("bad", ["file", "foreign", "no_parent"])
def test_bad_out_is_one_line_exit_2_and_writes_nothing(capsys, tmp_path, command, bad):
    target = {
        "file": tmp_path / "a_file",
        "foreign": tmp_path / "a_dir",
        "no_parent": tmp_path / "missing" / "report",
    }[bad]
    (tmp_path / "a_file").write_text("keep me")
    (tmp_path / "a_dir").mkdir()
    (tmp_path / "a_dir" / "notes.txt").write_text("keep me")
    before = sorted(tmp_path.rglob("*"))
    code, out, err = run_cli(capsys, command, "--out", str(target))
    assert code == 2 and err.count("\n") == 1 and "--out" in err and not out
    assert sorted(tmp_path.rglob("*")) == before
    assert (tmp_path / "a_file").read_text() == "keep me"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--cells", "no_such_cell"], "unknown cell 'no_such_cell'"),
        (["--seq-lens", "0,10"], "positive integers"),
        (["--hidden-sizes", "x"], "positive integers"),
        (["--dtypes", "float16"], "float32"),
        (["--oracles", "nope"], "--oracles"),
    ],
)
def test_bad_report_input_is_one_line_and_exit_2(capsys, tmp_path, argv, expected):
    code, out, err = run_cli(capsys, "report", "--out", str(tmp_path / "r"), *argv)
    assert code == 2 and err.count("\n") == 1 and expected in err and not out
    assert list(tmp_path.iterdir()) == []


def test_tensor_groups():
    states = ("h", "c")
    groups = {
        "outputs": "outputs",
        "l1_reverse/c_T": "final states",
        "loss": "loss",
        "grad/l0/U_f": "parameter gradients",
        "grad/W_y": "parameter gradients",
        "grad/x": "input gradient",
        "grad/l1_reverse/c0": "initial-state gradients",
        "grad/h0": "initial-state gradients",
    }
    assert {name: tensor_group(name, states) for name in groups} == groups


FIGURES = """
import sys
from pathlib import Path
from gradparity.report.plots import Curve, draw_figures
def panels(k):
    return {"values": [Curve("float64", [1, 2, 4], [1e-16 * k, 0.0, 3e-15], [False] * 3, 1e-13)]}
draw_figures([(panels(k), f"figure {k}", "T", Path(sys.argv[1]) / f"{k}.png") for k in range(3)])
"""


def test_figures_drawn_in_parallel_are_those_drawn_one_by_one(tmp_path):
    """In a process of one thread, ``draw_figures`` forks a worker per CPU; here, with threads,
    it draws one by one: the same bytes."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: draw_figures draws one by one")
    parallel, serial = tmp_path / "parallel", tmp_path / "serial"
    parallel.mkdir()
    serial.mkdir()
    subprocess.run([sys.executable, "-c", FIGURES, str(parallel)], check=True)
    waiting = threading.Event()
    thread = threading.Thread(target=waiting.wait)  # a second thread: no fork
    thread.start()
    try:
        exec(FIGURES.replace("sys.argv[1]", repr(str(serial))), {})
    finally:
        waiting.set()
        thread.join()
    drawn = sorted(p.name for p in parallel.iterdir())
    assert drawn == ["0.png", "1.png", "2.png"] == sorted(p.name for p in serial.iterdir())
    assert all((parallel / n).read_bytes() == (serial / n).read_bytes() for n in drawn)
