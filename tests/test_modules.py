"""A user's module in place of a framework's stock layer (``--module``, ``core.layers``): each
framework's example modules (``Framework.examples``) behave as they claim — the drop-in agrees
on every tensor at float64's tolerance, the planted bug is caught naming its tensor, and every
misfit is its own one-line error — and the checks themselves fail when they should."""

from __future__ import annotations

import pytest

from gradparity.api import assert_agree, case
from gradparity.checks import compare_case
from gradparity.core.errors import InputError, OracleMisconfigured
from gradparity.core.layers import check_parameters, check_results, split_module_argument
from gradparity.frameworks import get_oracle, with_modules
from helpers import compare_argv, example_modules, run_cli

EXAMPLES = example_modules()
MISFITS = [(f, e) for f, e in EXAMPLES if e.kind.startswith("module-")]


def _oracle(framework: str, target: str) -> str:
    return f"{framework}={target}"


@pytest.mark.parametrize(
    ("framework", "example"), [(f, e) for f, e in EXAMPLES if e.kind == "agrees"]
)
@pytest.mark.parametrize("options", [{}, {"layers": 2, "bidirectional": True}])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_drop_in_agrees_on_every_tensor(framework, example, options, dtype):
    report = assert_agree(
        case(example.cell, dict(example.options) | options, seq_len=5, dtype=dtype),
        oracles=[framework],
        modules=[_oracle(framework, example.target)],
    )
    assert {c.oracle for c in report.comparisons} == {_oracle(framework, example.target)}
    if dtype == "float64":
        assert max(c.max_rel_err for c in report.comparisons) <= 1e-12


@pytest.mark.parametrize(
    ("framework", "example"), [(f, e) for f, e in EXAMPLES if e.kind == "planted-bug"]
)
def test_the_planted_bug_is_caught_naming_the_tensor(capsys, framework, example):
    oracle = _oracle(framework, example.target)
    code, out, _ = run_cli(capsys, *compare_argv(framework, example))
    assert code == 1
    assert f"{example.expect}: {oracle} disagrees with reference" in out
    assert f"--oracles {framework} --module {oracle}" in out  # the reproduce command
    with pytest.raises(AssertionError, match=f"{example.expect}: {oracle} disagrees"):
        assert_agree(case(example.cell, dict(example.options), seq_len=3), [framework], [oracle])


@pytest.mark.parametrize(("framework", "example"), MISFITS, ids=[e.kind for _, e in MISFITS])
def test_a_misfit_is_its_one_line_error(capsys, framework, example):
    code, out, err = run_cli(capsys, *compare_argv(framework, example))
    assert (code, out, err.count("\n")) == (2, "", 1), err
    assert example.expect in err and "Traceback" not in err


def test_a_misfit_in_the_api_is_an_input_error():
    (framework, example), *_ = [(f, e) for f, e in MISFITS if e.kind == "module-wrong-shape"]
    with pytest.raises(OracleMisconfigured, match="has shape") as raised:
        assert_agree(
            case(example.cell, dict(example.options), seq_len=2),
            [framework],
            [_oracle(framework, example.target)],
        )
    assert isinstance(raised.value, InputError)


def test_the_other_oracles_still_run_beside_a_misfit():
    (framework, example), *_ = [(f, e) for f, e in MISFITS if e.kind == "module-missing-parameter"]
    report = compare_case(
        case(example.cell, dict(example.options), seq_len=2),
        [framework, "numerical"],
        [_oracle(framework, example.target)],
    )
    assert list(report.broken) == [_oracle(framework, example.target)]
    assert {c.oracle for c in report.comparisons} == {"numerical"} and not report.agree


def test_module_arguments_are_parsed_and_replace_their_framework():
    assert split_module_argument("torch=a.b:C.D") == ("torch", "a.b:C.D")
    for bad in ("torch", "torch=a.b", "=a:b", "torch=:C", "torch=a:"):
        with pytest.raises(InputError, match="expected FRAMEWORK=MODULE:ATTR"):
            split_module_argument(bad)
    framework = next(iter(f for f, _ in EXAMPLES), None) or pytest.skip("no example modules")
    assert with_modules((framework, "numerical"), [f"{framework}=m:A"]) == (
        f"{framework}=m:A",
        "numerical",
    )
    assert with_modules(("numerical",), [f"{framework}=m:A"]) == ("numerical", f"{framework}=m:A")
    assert get_oracle(f"{framework}=m:A").name == f"{framework}=m:A"


def test_the_fit_checks_fail_on_every_difference():
    expected = {"w": (4, 3), "b": (4,)}
    check_parameters("m:A", "stock", dict(expected), expected)
    for found, fragment in [
        ({"w": (4, 3)}, "it has no parameter b"),
        ({**expected, "s": ()}, "parameter s is not one of stock's"),
        ({"w": (3, 4), "b": (4,)}, "parameter w has shape [3, 4], expected [4, 3]"),
    ]:
        with pytest.raises(OracleMisconfigured, match=fragment.replace("[", r"\[")):
            check_parameters("m:A", "stock", found, expected)
    results = {"outputs": (2, 5, 7), "h_T": (2, 7)}
    check_results("m:A", "stock", {"outputs": (None, None, 7), "h_T": (2, 7)}, results)
    for found, fragment in [
        ({"outputs": (2, 5, 7)}, "it returned no h_T"),
        ({"outputs": (5, 2, 7), "h_T": (2, 7)}, "outputs of shape [5, 2, 7], expected [2, 5, 7]"),
        ({"outputs": (2, 5), "h_T": (2, 7)}, "outputs of shape [2, 5]"),
    ]:
        with pytest.raises(OracleMisconfigured, match=fragment.replace("[", r"\[")):
            check_results("m:A", "stock", found, results)
