"""Step programs: what a malformed one says (one line, naming the equation's line and text), and
that a cell declared only as a program gets every check, from a package of its own too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gradparity.reference_impl.step_program import ProgramError, check_shapes, parse_step
from helpers import install_example, one_oracle_of_each_suite, run_gradparity

GOOD = """\
# params: W[I,H] U[H,H] b[H]
# states: h[H]
xw = matmul(x_t, W)
hu = matmul(h_prev, U)
s = add(xw, hu)
z = add(s, b)
h = tanh(z)
"""


def _edit(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


# kind, program text, a fragment of the message; every message names the program
BAD = [
    (
        "undefined-name",
        _edit("s = add(xw, hu)", "s = add(xw, hv)"),
        "line 5 's = add(xw, hv)': 'hv' is not defined",
    ),
    (
        "wrong-arity",
        _edit("h = tanh(z)", "h = tanh(z, s)"),
        "line 7 'h = tanh(z, s)': tanh takes 1 arguments, got 2",
    ),
    ("unknown-op", _edit("h = tanh(z)", "h = cube(z)"), "unknown op 'cube'; known ops:"),
    ("unused-parameter", _edit("z = add(s, b)", "z = add(s, s)"), "parameter b is never used"),
    ("state-never-updated", _edit("h = tanh(z)", "k = tanh(z)"), "state h is never updated"),
    (
        "assigned-twice",
        _edit("h = tanh(z)", "s = tanh(z)\nh = tanh(s)"),
        "line 7 's = tanh(z)': 's' is assigned again",
    ),
    (
        "bad-declaration",
        _edit("# states: h[H]", "# states: h(H)"),
        "'# states:' 'h(H)'; expected NAME[DIM,...]",
    ),
    ("no-states", _edit("# states: h[H]\n", ""), "no '# states:' line"),
    ("output-not-a-state", "# output: z\n" + GOOD, "'# output: z' is not a state"),
    (
        "option-as-a-value",
        _edit("s = add(xw, hu)", "s = add(xw, scale)"),
        "option 'scale' is a constant",
    ),
    ("unparsable-line", _edit("h = tanh(z)", "h = tanh z"), "line 7: cannot parse 'h = tanh z'"),
]
SHAPES = [
    (
        "shape-mismatch",
        _edit("s = add(xw, hu)", "s = add(xw, x_t)"),
        "line 5 's = add(xw, x_t)': the shapes do not fit (xw [2, 5], x_t [2, 3]; I=3, H=5, B=2)",
    ),
    (
        "state-of-the-wrong-width",
        _edit("h = tanh(z)", "h = mean(z)"),
        "state h comes out [2, 1], expected [B, H] = [2, 5]",
    ),
]


@pytest.mark.parametrize(("text", "fragment"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_malformed_program_is_one_line_naming_the_equation(text, fragment):
    with pytest.raises(ProgramError) as error:
        parse_step(text, "toy", ("scale",))
    message = str(error.value)
    assert "\n" not in message and message.startswith("step program of toy")
    assert fragment in message, message


@pytest.mark.parametrize(("text", "fragment"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_a_shape_that_does_not_fit_is_found_at_its_equation(text, fragment):
    program = parse_step(text, "toy", ())
    with pytest.raises(ProgramError) as error:
        check_shapes(program, {})
    assert "\n" not in str(error.value) and fragment in str(error.value), str(error.value)


def test_the_good_program_passes_and_knows_its_shapes():
    program = parse_step(GOOD, "toy", ())
    check_shapes(program, {})
    assert program.param_shapes(3, 5, {}) == {"W": (3, 5), "U": (5, 5), "b": (5,)}
    assert program.widths(5, {}) == {"outputs": 5, "h": 5}


def _package(tmp_path, text: str):
    """A package whose one cell, "toy", is the program ``text``."""
    example = tmp_path / "example"
    package = example / "toy_cell"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "from gradparity import CellSpec, grid\n"
        "CELL = CellSpec(name='toy', summary='a toy program', reference='toy_cell.step',\n"
        "    states=('h',), sample_cases=lambda spec: grid(spec, seeds=(0,), seq_lens=(3,),"
        " hidden_sizes=(2,), batches=(2,)))\n"
    )
    (package / "step.py").write_text(
        f"STEP = {text!r}\n\ndef step_equations(options):\n    return STEP\n"
    )
    return install_example(tmp_path / "site", example, "gradparity.cells", "toy = toy_cell:CELL")


def test_a_malformed_program_of_a_package_is_bad_input_exit_2(tmp_path):
    (tmp_path / "site").mkdir()
    env = _package(tmp_path, BAD[0][1])
    done = run_gradparity("compare", "--cell", "toy", env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "step program of toy, line 5 's = add(xw, hv)': 'hv' is not defined" in done.stderr


def test_a_program_of_a_package_is_checked_by_the_oracles(tmp_path):
    """On a framework of each suite and complex step (every oracle composes a package's program:
    tests/test_external_cells.py)."""
    (tmp_path / "site").mkdir()
    env = _package(tmp_path, GOOD)
    oracles = one_oracle_of_each_suite()
    argv = ["compare", "--cell", "toy", "--seq-len", "4", "--oracles", ",".join(oracles), "--json"]
    done = run_gradparity(*argv, env=env)
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["agree"], done.stderr
    assert {r["oracle"] for r in report["results"]} == set(oracles)
    assert max(r["max_rel_err"] for r in report["results"]) <= 1e-12


def test_every_kind_of_malformed_program_is_in_the_bad_input_document():
    text = (Path(__file__).parents[1] / "docs" / "bad-input.md").read_text()
    missing = [kind for kind, *_ in BAD + SHAPES if f"`program-{kind}`" not in text]
    assert not missing, f"docs/bad-input.md lacks rows for {missing}"
