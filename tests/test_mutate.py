"""``gradparity mutate``: every catalogued bug is killed, and the kill rate is printed."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from gradparity.catalog import get_cell
from gradparity.commands.main import main
from gradparity.commands.mutate import run_mutant, selected_mutants
from gradparity.harness_mutants import HARNESS_MUTANTS
from helpers import frameworks_running

MINIMUM_CATALOGUE = 25


def _any_spec():
    return get_cell(selected_mutants()[0].cell)


def test_every_mutant_is_killed_and_the_kill_rate_is_100_percent(capsys):
    running = frameworks_running(_any_spec())
    if not running:
        pytest.skip("no framework oracle installed: forward-pass mutants need one to be killed")
    # one framework (forward-pass bugs need a value oracle) and complex step: every mutant is
    # killed by these two; the other oracles would only add their compile times
    code = main(["mutate", "--json", "--oracles", f"{running[0]},numerical"])
    report = json.loads(capsys.readouterr().out)
    survivors = [r["mutant"] for r in report["results"] if not r["killed"]]
    assert not survivors, f"survived: {survivors}"
    assert report["mutants"] == len(selected_mutants()) + len(HARNESS_MUTANTS)
    assert len(selected_mutants()) >= MINIMUM_CATALOGUE
    assert report["kill_rate"] == 1.0 and code == 0
    assert all(r["tensor"] and r["case"] for r in report["results"] if r["part"] != "harness")
    harness = [r for r in report["results"] if r["part"] == "harness"]
    assert len(harness) >= 10 and all(r["tensor"] for r in harness)  # the meta-check that failed
    parts = report["by_part"]
    assert set(parts) == {"reference", "adapters", "harness"}
    assert all(killed == total for killed, total in parts.values())


def test_a_harmless_edit_survives_and_mutate_says_so(capsys):
    """The control: an edit that changes nothing must be reported as surviving."""
    mutant = selected_mutants()[0]
    harmless = replace(mutant, name="harmless", replace=mutant.find)
    verdict = run_mutant(harmless, ["numerical"])
    assert not verdict.killed and verdict.cases_run >= 2


def test_mutate_prints_the_kill_rate_and_exits_1_on_a_survivor(capsys):
    """A forward-pass bug is invisible to the numerical oracles alone: mutate must say so."""
    forward = next(m for m in selected_mutants() if m.forward)
    code = main(["mutate", "--cells", forward.cell, "--oracles", "numerical"])
    out = capsys.readouterr().out
    total = sum(m.cell == forward.cell for m in selected_mutants())
    assert code == 1 and f"{forward.name} " in out and "SURVIVED" in out
    assert f"killed {total - 1}/{total} mutants: kill rate" in out


def test_mutate_unknown_cell_is_exit_2(capsys):
    code = main(["mutate", "--cells", "no-such-cell"])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "expected registered cells" in err
