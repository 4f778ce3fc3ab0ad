"""``gradparity bench``: its JSON contract on tiny sizes (``--quick``), its table and its errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gradparity.catalog import all_cells, get_cell
from gradparity.commands.bench import fast_cells
from gradparity.commands.main import main
from gradparity.core.cases import Case, make_problem
from gradparity.core.compare import compare_tensor
from gradparity.core.tolerances import tolerance
from gradparity.frameworks import all_frameworks, get_oracle
from helpers import first_dtype, installed_frameworks

FRAMEWORKS = list(all_frameworks())

NO_TIME_AXIS = next((n for n, s in all_cells().items() if not s.recurrent), "no-such-cell")

ROW_KEYS = {"cell", "dtype", "batch", "seq_len", "input_size", "hidden_size", "refused"}
ROW_KEYS |= {"reference_s", "reference_cpu_s", "readable_s", "readable_cpu_s"}
ROW_KEYS |= {f"{k}{s}" for k in FRAMEWORKS for s in ("_s", "_cpu_s")}
ROW_KEYS |= {f"ratio_{k}{s}" for k in FRAMEWORKS for s in ("", "_cpu")}
MEMORY_KEYS = {"cell", "dtype", "batch", "seq_len", "input_size", "hidden_size", "cache_bytes"}
MEMORY_KEYS |= {"cache_bytes_without_x", "readable_cache_bytes"}
MEMORY_KEYS |= {"forward_peak_bytes", "forward_backward_peak_bytes"}


def _positive_finite(value) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


TWO_CELLS = fast_cells()[:2]


def test_bench_json_on_tiny_sizes(capsys):
    argv = ["bench", "--quick", "--json", "--repeats", "2", "--cells", ",".join(TWO_CELLS)]
    code = main(argv)
    out, _ = capsys.readouterr()
    assert code == 0
    result = json.loads(out)
    keys = {"method", "repeats", "quick", "frameworks", "environment", "rows", "memory", "skipped"}
    assert keys <= set(result)
    assert result["repeats"] == 2 and result["quick"] is True
    assert {"cpu", "cores", "versions", "threads", "allocator"} <= set(result["environment"])
    assert result["environment"]["threads"]["requested"] == 1
    skipped = {s["oracle"] for s in result["skipped"]}
    assert {(r["cell"], r["dtype"]) for r in result["rows"]} == {
        (c, d) for c in TWO_CELLS for d in ("float32", "float64")
    }
    for row in result["rows"]:
        assert set(row) == ROW_KEYS
        assert _positive_finite(row["reference_s"]) and _positive_finite(row["reference_cpu_s"])
        assert row["readable_s"] is None  # only with --readable
        for name in FRAMEWORKS:
            ratios = [row[f"ratio_{name}"], row[f"ratio_{name}_cpu"]]
            if name in skipped or name in row["refused"]:
                assert ratios == [None, None]
            else:
                assert all(_positive_finite(r) for r in ratios), row
                assert row["ratio_" + name] == pytest.approx(row["reference_s"] / row[name + "_s"])
    assert len(result["memory"]) == 2 * len(TWO_CELLS)
    for row in result["memory"]:
        assert set(row) == MEMORY_KEYS
        assert 0 < row["cache_bytes_without_x"] <= row["cache_bytes"]
        assert row["cache_bytes_without_x"] <= row["forward_peak_bytes"]
        assert row["forward_peak_bytes"] <= row["forward_backward_peak_bytes"]


def test_bench_table(capsys):
    cell = fast_cells()[-1]
    code = main(["bench", "--quick", "--repeats", "1", "--cells", cell, "--readable"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert all(f"ref/{name}" in out for name in FRAMEWORKS)
    assert "readable ms" in out and "cache" in out
    assert sum(line.startswith(f"{cell} ") for line in out.splitlines()) == 4  # 2 timing, 2 memory


def test_default_cells_have_a_fast_path():
    """Issue 7 asks for these two; a registry without them has nothing to check here."""
    assert {"lstm", "gru"} & set(all_cells()) <= set(fast_cells())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cells", NO_TIME_AXIS], f"cell {NO_TIME_AXIS} has no time axis"),
        (["--cells", "nope"], "unknown cell 'nope'"),
        (["--cells", ","], "expected a comma-separated list"),
        (["--repeats", "0"], "expected a positive integer"),
        (["--threads", "x"], "expected a positive integer"),
    ],
)
def test_bench_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code = main(["bench", "--quick", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("gradparity: error:") and message in err


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_a_prepared_call_gives_the_same_numbers_on_its_second_call(name):
    """The comparisons use a prepared call's first call; ``bench`` times later ones, which a
    framework may run down another path (eager first, compiled from the second call:
    ``core.framework.Adapter.prepare``). Both must give the same numbers within the tolerance
    table."""
    if name not in installed_frameworks():
        pytest.skip(f"{name} is not installed")
    spec = get_cell("lstm")
    dtype = first_dtype(name)
    case = Case.make(spec, input_size=3, hidden_size=4, seq_len=5, batch=2, seed=7, dtype=dtype)
    first, second = get_oracle(name).call(("repeat", spec.name, make_problem(case)), "repeating")
    first_leaves, second_leaves = _leaves(first), _leaves(second)
    assert first_leaves.keys() == second_leaves.keys() and first_leaves
    for path, value in first_leaves.items():
        kind = "gradient" if path[0] == 1 else "value"  # (aux, grads)
        comparison = compare_tensor(
            name, "/".join(map(str, path)), kind, value, second_leaves[path], tolerance(dtype, kind)
        )
        assert comparison.ok, comparison.message(
            case.id, f"pytest tests/test_bench.py -k 'second and {name}'"
        )


def _leaves(tree, path=()) -> dict:
    if isinstance(tree, dict | list | tuple):
        items = tree.items() if isinstance(tree, dict) else enumerate(tree)
        return {k: v for key, sub in items for k, v in _leaves(sub, (*path, key)).items()}
    return {path: np.asarray(tree)}
