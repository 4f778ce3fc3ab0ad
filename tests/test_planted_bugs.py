"""Every planted bug in the reference is caught, with a message that names the tensor."""

from __future__ import annotations

import ast
import inspect
from dataclasses import replace

import pytest

from gradparity.checks import compare_case
from gradparity.commands.mutate import selected_mutants
from gradparity.mutants import Mutant
from helpers import first_dtype, frameworks_running, uncompiled_frameworks

MUTANTS = [m for m in selected_mutants() if m.patch is None]
"""The catalogue's and the generic program mutants of registered cells (the converter mutants,
planted in a framework's builders: tests/test_converter_mutants.py)."""
BACKWARD_MUTANTS = [m for m in MUTANTS if not m.forward]
TEXTUAL = [m for m in MUTANTS if isinstance(m, Mutant)]
PROGRAM_FORWARD = [m for m in MUTANTS if m.forward and not isinstance(m, Mutant)]


def _assert_caught(mutant, oracles, dtype: str = "float64"):
    case = mutant.case(dtype)
    with mutant.applied() as cell:
        report = compare_case(case, oracles, cell=cell)
    failed = {c.tensor: c for c in report.failures()}
    assert mutant.caught_by in failed, f"{mutant.name} survived on {mutant.caught_by}"
    caught = failed[mutant.caught_by]
    message = caught.message(case.id, case.command(caught.oracle))
    assert message.startswith(
        f"{mutant.caught_by}: {caught.oracle} disagrees with reference on {case.id}"
    )
    assert "largest |diff|" in message and "tolerance rtol" in message
    assert f"reproduce: gradparity compare --cell {mutant.cell}" in message


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_planted_bug_is_caught_by_the_frameworks(mutant):
    """By the frameworks that run the size grid, sparing the compiles of the others (each
    program mutant is caught by every framework alone: below)."""
    available = frameworks_running(mutant.case().spec)
    uncompiled = [name for name in available if name in uncompiled_frameworks()]
    if not available:
        pytest.skip("no framework oracle installed")
    _assert_caught(mutant, uncompiled or available)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mutant", BACKWARD_MUTANTS, ids=[m.name for m in BACKWARD_MUTANTS])
def test_backward_bug_is_caught_by_complex_step_alone(mutant, dtype):
    _assert_caught(mutant, ["numerical"], dtype)


def test_unmutated_reference_agrees():
    """The control: the same cases with the real reference pass."""
    for mutant in MUTANTS:
        report = compare_case(mutant.case(), ["numerical"])
        assert report.agree, [c.message("", "") for c in report.failures()]


@pytest.mark.parametrize("mutant", PROGRAM_FORWARD, ids=[m.name for m in PROGRAM_FORWARD])
def test_an_error_in_one_equation_is_caught_by_every_framework(mutant):
    """A planted error in one equation of a program (the reference's): every framework oracle
    that composes the program reports it, each by itself, naming the tensor."""
    frameworks = frameworks_running(mutant.case().spec)
    if not frameworks:
        pytest.skip("no framework installed")
    for framework in frameworks:
        _assert_caught(mutant, [framework], first_dtype(framework))


def test_a_mutant_whose_pattern_vanished_fails_loudly():
    broken = replace(TEXTUAL[0], find="this text is not in the source")
    with pytest.raises(ValueError, match="occurs 0 times"):
        broken.load()


@pytest.mark.parametrize("mutant", TEXTUAL, ids=[m.name for m in TEXTUAL])
def test_no_mutant_edits_a_readable_form(mutant):
    """The readable per-gate forms are kept for comparison only; the suite runs the fast ones."""
    source = inspect.getsource(mutant.original())
    line = source[: source.index(mutant.find)].count("\n") + 1
    enclosing = [
        node.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.lineno <= line <= node.end_lineno
    ]
    assert enclosing and not any(n.endswith("_readable") for n in enclosing), enclosing
