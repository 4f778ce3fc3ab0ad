"""``gradparity certify``: shards that together run exactly the unsharded suite, a merge that
says what one run says, progress on stderr and results on stdout, and a failure summary that
names the failing tests with their reproduce commands."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gradparity.commands.certify_summary import budget_warnings, failure_summary
from gradparity.core.errors import InputError
from gradparity.suite.plugin import SUITE
from gradparity.suite.sharding import assign_shards, parse_shard
from helpers import installed_frameworks, run_gradparity


def test_shard_arguments():
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/2", "3/2", "1", "a/b", "1/0", "-1/2"):
        with pytest.raises(InputError, match="expected K/N"):
            parse_shard(bad)


def test_groups_are_dealt_whole_largest_first_and_the_same_every_time():
    groups = ["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"] + ["e"]
    first = assign_shards(groups, 2)
    assert first == assign_shards(list(reversed(groups)), 2)  # order of collection is irrelevant
    assert set(first) == set(groups) and set(first.values()) == {1, 2}
    loads = {k: sum(1 for g in groups if first[g] == k) for k in (1, 2)}
    assert loads == {1: 7, 2: 6}  # a+d+e, b+c: within one group of balance
    assert set(assign_shards(groups, 20).values()) <= set(range(1, 21))


def _collected(*extra: str) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(SUITE), "--collect-only", "-q"]
    command += ["-p", "no:cacheprovider", "-p", "no:xdist", "--rootdir", str(SUITE.parent)]
    done = subprocess.run([*command, *extra], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_shards_together_run_exactly_the_unsharded_suite():
    whole = _collected()
    parts = [_collected("--gradparity-shard", f"{k}/3") for k in (1, 2, 3)]
    assert sorted(t for part in parts for t in part) == sorted(whole)
    assert all(parts) and len(whole) > 100


def _certify(tmp_path, name: str, *args: str) -> subprocess.CompletedProcess:
    oracles = ",".join([*installed_frameworks()[:1], "numerical"])
    selection = ["--", "--gradparity-cells", "dense", "--gradparity-oracles", oracles]
    return run_gradparity(
        "certify", "--workers", "1", "--out", str(tmp_path / name), *args, *selection
    )


def _summary(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    return lines[: next(i for i, line in enumerate(lines) if not line.strip())]


def _rows(report) -> list[str]:
    """The raw results of a report directory, without their timings, in a stable order."""
    lines = (report / "results.jsonl").read_text().splitlines()
    rows = [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in lines]
    return sorted(json.dumps(row, sort_keys=True) for row in rows)


def test_merged_shards_give_the_summary_of_one_run(tmp_path):
    whole = _certify(tmp_path, "whole")
    assert whole.returncode == 0, whole.stdout[-2000:] + whole.stderr[-2000:]
    assert "certify: " in whole.stderr and "certify: " not in whole.stdout  # progress: stderr
    for k in (1, 2):
        shard = _certify(tmp_path, f"shard{k}", "--shard", f"{k}/2")
        assert shard.returncode == 0, shard.stdout[-2000:] + shard.stderr[-2000:]
        assert _summary(shard.stdout) != _summary(whole.stdout)
    merged = run_gradparity(
        "certify", "--merge", str(tmp_path / "shard1"), str(tmp_path / "shard2"),
        "--out", str(tmp_path / "merged"),
    )  # fmt: skip
    assert merged.returncode == 0, merged.stdout[-2000:] + merged.stderr[-2000:]
    assert _summary(merged.stdout) == _summary(whole.stdout)
    assert _rows(tmp_path / "merged") == _rows(tmp_path / "whole")
    assert (tmp_path / "merged" / "report.md").is_file()


def test_the_failure_summary_names_each_failing_test_and_its_command():
    row = {
        "cell": "lstm",
        "case": "lstm-I5-H3-T7-B4-s1-float64",
        "oracle": "torch",
        "tensor": "grad/W_f",
        "max_rel_err": 0.5,
        "tolerance_used": 3e14,
        "ok": False,
        "known_discrepancy": False,
        "command": "gradparity compare --cell lstm --oracles torch",
    }
    passing = row | {"tensor": "outputs", "ok": True, "tolerance_used": 0.1}
    known = row | {"cell": "gru", "known_discrepancy": True}
    crash = {
        "test": "agreement.py::test_agreement[gru-I5-H3-T7-B4-s1-float64-tf]",
        "cell": "gru",
        "outcome": "failed",
        "message": "OracleCrashed: the tf worker died of signal SIGSEGV",
    }
    text = failure_summary([row, passing, known], [crash])
    assert text.startswith("CERTIFICATION FAILED: 2 failing tests in 2 cells (gru, lstm)")
    assert "lstm: worst grad/W_f of torch on lstm-I5-H3-T7-B4-s1-float64" in text
    assert "tolerance used >1000%" in text and "3e+14" not in text
    assert "FAILED test_agreement[lstm-I5-H3-T7-B4-s1-float64-torch]: worst grad/W_f" in text
    assert "reproduce: gradparity compare --cell lstm --oracles torch" in text
    assert "FAILED test_agreement[gru-I5-H3-T7-B4-s1-float64-tf]: OracleCrashed" in text
    assert "rerun: gradparity certify -- -k 'gru-I5-H3-T7-B4-s1-float64-tf'" in text
    assert failure_summary([passing, known], []) == ""


def test_a_cell_over_budget_is_told_what_to_do():
    (warning,) = budget_warnings({"lstm": 120.0, "rnn": 10.0}, 90.0)
    assert "cell lstm spent 120 s" in warning and "fewer sample cases" in warning
    assert "docs/adding-a-cell.md" in warning
