"""Every kind of bad input in docs/bad-input.md: one line on stderr saying what was expected,
exit 2, no traceback, nothing on stdout, and no file left behind.

The table below is the single list; a test checks that the document has a row for each kind.
Cells and options are chosen from the registry, never named.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gradparity.catalog import all_cells, get_cell
from gradparity.commands.main import main
from gradparity.core.cases import Case, make_problem
from gradparity.core.errors import InputError
from gradparity.core.loop import run_reference
from gradparity.reference_impl.network import Problem
from helpers import cell_where, has_option, installed_frameworks, module_argv, option_where

DOC = Path(__file__).parents[1] / "docs" / "bad-input.md"


def _recurrent() -> str:
    return cell_where(lambda s: s.recurrent and s.states, "with states").name


def _without_time_axis() -> str:
    return cell_where(lambda s: not s.recurrent, "without a time axis").name


def _numeric_option() -> tuple[str, str]:
    spec = cell_where(has_option(lambda o: isinstance(o.default, float)), "with a float option")
    return spec.name, option_where(spec, lambda o: isinstance(o.default, float)).name


def _choice_option() -> tuple[str, str]:
    spec = cell_where(has_option(lambda o: bool(o.choices)), "with a choice option")
    return spec.name, option_where(spec, lambda o: bool(o.choices)).name


def _minimum_option() -> tuple[str, str]:
    spec = cell_where(has_option(lambda o: o.minimum is not None), "with a minimum")
    return spec.name, option_where(spec, lambda o: o.minimum is not None).name


def _fixture(tmp: Path, edit: Callable[[dict], object]) -> list[str]:
    """Record a small valid fixture, edit its JSON, and return the argv that reproduces it."""
    source = tmp / "recorded.json"
    assert main(["record", "--cell", _recurrent(), "--seq-len", "2", "--out", str(source)]) == 0
    data = json.loads(source.read_text())
    source.unlink()
    edit(data)
    path = tmp / "bad.json"
    path.write_text(json.dumps(data))
    return ["reproduce", str(path)]


def _raw_fixture(tmp: Path, content: bytes) -> list[str]:
    path = tmp / "bad.json"
    path.write_bytes(content)
    return ["reproduce", str(path)]


def _first_param(data: dict) -> str:
    return next(iter(data["params"]))


def _shard_report(tmp: Path, shard: str) -> str:
    """A report directory as ``certify --shard`` leaves it (its raw results empty)."""
    directory = tmp / f"shard-{shard.replace('/', '-of-')}"
    directory.mkdir()
    (directory / "certify.json").write_text(json.dumps({"shard": shard, "exit": 0, "pytest": ""}))
    (directory / "results.jsonl").write_text("")
    return str(directory)


def _a_framework() -> str:
    found = installed_frameworks()
    if not found:
        pytest.skip("no framework installed")
    return found[0]


def _compare(*argv: str) -> Callable[[Path], list[str]]:
    return lambda tmp: ["compare", *argv]


# kind, what is wrong, argv maker (given an empty working directory), expected message fragment
ROWS: list[tuple[str, str, Callable[[Path], list[str]], str]] = [
    ("unknown-cell", "a cell that is not registered", _compare("--cell", "nope"), "unknown cell"),
    (
        "unknown-option",
        "an option the cell does not have",
        lambda tmp: ["compare", "--cell", _recurrent(), "--option", "nope=1"],
        "has no option 'nope'",
    ),
    (
        "option-wrong-type",
        "an option value of the wrong type",
        lambda tmp: [
            "compare",
            "--cell",
            _numeric_option()[0],
            "--option",
            f"{_numeric_option()[1]}=big",
        ],
        "expected",
    ),
    (
        "option-outside-choices",
        "an option value outside its choices",
        lambda tmp: [
            "compare",
            "--cell",
            _choice_option()[0],
            "--option",
            f"{_choice_option()[1]}=no-such-choice",
        ],
        "is not one of",
    ),
    (
        "option-below-minimum",
        "an option value below its minimum",
        lambda tmp: [
            "compare",
            "--cell",
            _minimum_option()[0],
            "--option",
            f"{_minimum_option()[1]}=-1",
        ],
        "must be at least",
    ),
    (
        "option-without-value",
        "--option without NAME=VALUE",
        _compare("--option", "forget"),
        "expected NAME=VALUE",
    ),
    ("zero-size", "a size of zero", _compare("--hidden-size", "0"), "must be a positive integer"),
    ("negative-size", "a negative size", _compare("--batch", "-2"), "must be a positive integer"),
    ("zero-layers", "zero stacked layers", _compare("--layers", "0"), "layers"),
    (
        "non-integer-size",
        "a size that is not an integer",
        _compare("--input-size", "2.5"),
        "invalid int value",
    ),
    (
        "empty-sequence",
        "a sequence of length 0",
        _compare("--seq-len", "0"),
        "seq_len must be a positive integer",
    ),
    (
        "time-axis-on-dense",
        "a sequence length for a layer without a time axis",
        lambda tmp: ["compare", "--cell", _without_time_axis(), "--seq-len", "3"],
        "has no time axis",
    ),
    (
        "lengths-wrong-count",
        "--lengths with a count other than the batch",
        lambda tmp: ["compare", "--cell", _recurrent(), "--batch", "3", "--lengths", "5,2"],
        "got 2 values, expected 3 (one per batch row)",
    ),
    (
        "lengths-out-of-range",
        "a length above the sequence length or below 0",
        lambda tmp: ["compare", "--cell", _recurrent(), "--seq-len", "4", "--lengths", "5,2"],
        "each must be in [0, 4] (the sequence length)",
    ),
    (
        "lengths-not-integers",
        "--lengths that are not integers",
        lambda tmp: ["compare", "--cell", _recurrent(), "--lengths", "2.5,1"],
        "expected comma-separated integers, one per batch row",
    ),
    (
        "lengths-without-time-axis",
        "--lengths on a layer without a time axis",
        lambda tmp: ["compare", "--cell", _without_time_axis(), "--lengths", "1,1"],
        "has no time axis; lengths need one",
    ),
    (
        "fixture-lengths-out-of-range",
        "a fixture's inputs.lengths above its sequence length",
        lambda tmp: _fixture(tmp, lambda d: d["inputs"].update(lengths=[3, 1])),
        "inputs.lengths: each must be in [0, 2] (the sequence length)",
    ),
    (
        "fixture-lengths-not-integers",
        "a fixture's inputs.lengths that are not integers",
        lambda tmp: _fixture(tmp, lambda d: d["inputs"].update(lengths=[1.5, 1])),
        "inputs.lengths: expected 2 integers (one per batch row)",
    ),
    (
        "unknown-dtype",
        "a dtype other than float32/float64",
        _compare("--dtype", "float16"),
        "invalid choice",
    ),
    (
        "nan-parameters",
        "NaN parameters",
        _compare("--param-fill", "nan"),
        "param_fill must be a finite number",
    ),
    (
        "inf-parameters",
        "infinite parameters",
        _compare("--param-fill", "inf"),
        "param_fill must be a finite number",
    ),
    (
        "unknown-oracle",
        "an oracle that does not exist",
        _compare("--oracles", "nope"),
        "expected a comma-separated list",
    ),
    (
        "missing-fixture-file",
        "a fixture path that does not exist",
        lambda tmp: ["reproduce", str(tmp / "absent.json")],
        "no such fixture file",
    ),
    (
        "fixture-truncated-json",
        "truncated JSON",
        lambda tmp: _raw_fixture(tmp, b'{"name": "x",'),
        "invalid JSON at line 1",
    ),
    (
        "fixture-not-utf8",
        "a fixture that is not UTF-8",
        lambda tmp: _raw_fixture(tmp, b"\xff\xfe{}"),
        "not UTF-8",
    ),
    (
        "fixture-not-an-object",
        "a JSON array instead of an object",
        lambda tmp: _raw_fixture(tmp, b"[1]"),
        "expected a JSON object",
    ),
    (
        "fixture-missing-field",
        "a required field missing",
        lambda tmp: _fixture(tmp, lambda d: d.pop("source")),
        "source: missing",
    ),
    (
        "fixture-unknown-field",
        "a field the schema does not have",
        lambda tmp: _fixture(tmp, lambda d: d.update(expect={})),
        "expect: unknown field",
    ),
    (
        "fixture-unknown-cell",
        "a fixture of an unregistered cell",
        lambda tmp: _fixture(tmp, lambda d: d.update(cell="nope")),
        "cell: unknown cell",
    ),
    (
        "fixture-missing-parameter",
        "a parameter missing",
        lambda tmp: _fixture(tmp, lambda d: d["params"].pop(_first_param(d))),
        ": missing",
    ),
    (
        "fixture-unknown-parameter",
        "a parameter the cell does not have",
        lambda tmp: _fixture(tmp, lambda d: d["params"].update(V_q=1.0)),
        "not a parameter",
    ),
    (
        "fixture-shape-mismatch",
        "a parameter whose shape does not fit the input and hidden sizes",
        lambda tmp: _fixture(tmp, lambda d: d["params"].update({_first_param(d): [[1.0] * 9]})),
        "has shape [1, 9], expected",
    ),
    (
        "fixture-wrong-rank",
        "x of the wrong rank",
        lambda tmp: _fixture(tmp, lambda d: d["inputs"].update(x=[1.0, 2.0])),
        "inputs.x: has shape [2], expected a non-empty [B, T, I]",
    ),
    (
        "fixture-empty-sequence",
        "x with no time steps",
        lambda tmp: _fixture(tmp, lambda d: d["inputs"].update(x=[[]])),
        "inputs.x",
    ),
    (
        "fixture-nan-input",
        "NaN in an input",
        lambda tmp: _fixture(tmp, lambda d: d["inputs"]["x"][0][0].__setitem__(0, float("nan"))),
        "inputs.x: contains NaN or Inf",
    ),
    (
        "fixture-inf-parameter",
        "an infinite parameter",
        lambda tmp: _fixture(tmp, lambda d: d["params"].update({_first_param(d): float("inf")})),
        "contains NaN or Inf",
    ),
    (
        "fixture-non-numeric",
        "a value that is not a number",
        lambda tmp: _fixture(tmp, lambda d: d["params"].update({_first_param(d): "0.1"})),
        "expected a number",
    ),
    (
        "fixture-unknown-tensor",
        "an expected tensor that does not exist",
        lambda tmp: _fixture(tmp, lambda d: d["expected"].update({"grad/W_zz": 1.0})),
        "expected.grad/W_zz: unknown tensor",
    ),
    (
        "fixture-unknown-dtype",
        "a dtype other than float32/float64",
        lambda tmp: _fixture(tmp, lambda d: d.update(dtype="float16")),
        "dtype: 'float16'",
    ),
    (
        "fixture-target-out-of-range",
        "a target class index out of range",
        lambda tmp: _fixture(
            tmp, lambda d: d["head"].update(targets=[99] * len(d["head"]["targets"]))
        ),
        "head.targets: values must be class indices",
    ),
    (
        "fixture-negative-tolerance",
        "a negative tolerance",
        lambda tmp: _fixture(tmp, lambda d: d.update(rtol=-1.0)),
        "rtol: expected a finite",
    ),
    (
        "program-unknown-op",
        "a program fixture with an op outside the primitive table",
        lambda tmp: _raw_fixture(
            tmp,
            json.dumps(
                {
                    "name": "p",
                    "source": "s",
                    "kind": "program",
                    "dtype": "float64",
                    "program": ["f = cube(x)"],
                    "inputs": {"x": 1.0},
                    "output": "f",
                    "expected": {"f": 1.0},
                }
            ).encode(),
        ),
        "unknown op 'cube'",
    ),
    (
        "record-existing-file",
        "record onto an existing file without --force",
        lambda tmp: (
            (tmp / "keep.json").write_text("keep") and ["record", "--out", str(tmp / "keep.json")]
        ),
        "exists; pass --force",
    ),
    (
        "record-missing-directory",
        "record into a directory that does not exist",
        lambda tmp: ["record", "--out", str(tmp / "no" / "case.json")],
        "does not exist",
    ),
    (
        "record-gradient-only-oracle",
        "record with an oracle that computes gradients only",
        lambda tmp: ["record", "--implementation", "fd", "--out", str(tmp / "c.json")],
        "invalid choice",
    ),
    (
        "mutate-unknown-cell",
        "mutate a cell that is not registered",
        lambda tmp: ["mutate", "--cells", "nope"],
        "expected registered cells",
    ),
    (
        "new-cell-bad-name",
        "a cell name that is not a lowercase identifier",
        lambda tmp: ["new-cell", "My-Cell"],
        "expected a lowercase Python identifier",
    ),
    (
        "new-cell-registered-name",
        "the name of a registered cell",
        lambda tmp: ["new-cell", next(iter(all_cells()))],
        "is registered already",
    ),
    (
        "new-cell-existing-directory",
        "new-cell into a directory that exists",
        lambda tmp: ["new-cell", "my_cell", "--dir", str(tmp)],
        "exists; give a new directory",
    ),
    (
        "certify-bad-shard",
        "--shard outside 1..N",
        lambda tmp: ["certify", "--shard", "3/2"],
        "expected K/N with 1 <= K <= N",
    ),
    (
        "certify-merge-not-a-shard",
        "--merge of a directory that is not a shard's report",
        lambda tmp: ["certify", "--merge", str(tmp)],
        "expected the report directory of a 'gradparity certify --shard K/N' run",
    ),
    (
        "certify-merge-missing-shard",
        "--merge without every shard",
        lambda tmp: ["certify", "--merge", _shard_report(tmp, "1/3"), _shard_report(tmp, "3/3")],
        "shards of 3 missing [2]",
    ),
    (
        "module-malformed",
        "--module that is not FRAMEWORK=MODULE:ATTR",
        _compare("--module", "mypkg.kernels"),
        "expected FRAMEWORK=MODULE:ATTR",
    ),
    (
        "module-unknown-framework",
        "--module for a framework that is not in the table",
        _compare("--module", "nope=mypkg.kernels:MyLSTM"),
        "unknown framework 'nope'",
    ),
    (
        "module-twice",
        "two modules for one framework",
        lambda tmp: [
            "compare",
            *(a for t in ("a", "b") for a in ("--module", f"{_a_framework()}=m:{t}")),
        ],
        "has a module already",
    ),
    *(
        (kind, what, lambda tmp, kind=kind: module_argv(kind), expected)
        for kind, what, expected in [
            ("module-import-error", "a module that does not import", "cannot import"),
            ("module-missing-attribute", "MODULE has no ATTR", "has no attribute"),
            (
                "module-constructor-mismatch",
                "a class that rejects the stock layer's constructor arguments",
                "constructing it raised",
            ),
            (
                "module-missing-parameter",
                "a parameter of the stock layer missing",
                "it has no parameter",
            ),
            ("module-extra-parameter", "a parameter the stock layer lacks", "is not one of"),
            ("module-wrong-shape", "a parameter of the wrong shape", "has shape"),
            (
                "module-wrong-return",
                "a call that returns another structure",
                "calling it raised TypeError: it returned",
            ),
            (
                "module-wrong-output-shape",
                "outputs of the wrong shape",
                "it returned outputs of shape",
            ),
            (
                "module-without-stock-layer",
                "a module for a cell the framework composes from its ops",
                "no stock layer",
            ),
        ]
    ),
]


@pytest.mark.parametrize(("make_argv", "expected"), [r[2:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(
    capsys, tmp_path, monkeypatch, make_argv, expected
):
    monkeypatch.chdir(tmp_path)
    argv = make_argv(tmp_path)
    capsys.readouterr()
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("gradparity") and expected in err, err
    after = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    assert after == before, "a file was written or changed"


def test_every_kind_of_bad_input_is_in_the_document():
    text = DOC.read_text()
    missing = [kind for kind, *_ in ROWS if f"`{kind}`" not in text]
    assert not missing, f"docs/bad-input.md lacks rows for {missing}"
    assert len(ROWS) >= 15


def _valid_problem(spec_name: str) -> Problem:
    return make_problem(Case.make(get_cell(spec_name), seq_len=2))


def _api_edits():
    yield (
        "api-mismatched-dtypes",
        lambda p: p.params.update({k: v.astype(np.float32) for k, v in list(p.params.items())[:1]}),
        "differs from x's",
    )
    yield (
        "api-integer-array",
        lambda p: p.params.update({k: v.astype(np.int64) for k, v in list(p.params.items())[:1]}),
        "dtype int64",
    )
    yield (
        "api-nan-state",
        lambda p: next(iter(p.state0.values())).__setitem__((0, 0), np.nan),
        "contains NaN or Inf",
    )
    yield "api-missing-parameter", lambda p: p.params.pop(next(iter(p.params))), ": missing"
    yield (
        "api-lengths-wrong-count",
        lambda p: _set_lengths(p, [2, 1, 1]),
        "inputs.lengths: got 3 values, expected 2",
    )
    yield (
        "api-lengths-out-of-range",
        lambda p: _set_lengths(p, [3, 1]),
        "inputs.lengths: each must be in [0, 2]",
    )
    yield (
        "api-wrong-state-shape",
        lambda p: p.state0.update({k: v[:, :1] for k, v in p.state0.items()}),
        "expected",
    )


def _set_lengths(problem: Problem, lengths) -> None:
    object.__setattr__(problem, "lengths", np.asarray(lengths))  # a frozen dataclass


API_EDITS = list(_api_edits())


@pytest.mark.parametrize(
    ("edit", "expected"), [e[1:] for e in API_EDITS], ids=[e[0] for e in API_EDITS]
)
def test_bad_problem_through_the_python_api_is_an_input_error(edit, expected):
    name = _recurrent()
    problem = _valid_problem(name)
    edit(problem)
    with pytest.raises(InputError, match=None) as error:
        run_reference(all_cells()[name], problem)
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_api_rows_are_in_the_document_too():
    text = DOC.read_text()
    assert all(f"`{kind}`" in text for kind, *_ in API_EDITS)
