"""Fast agreement checks of the reference, the test selection of the mutmut run (tox -e mutation).

mutmut runs, for every mutant of ``reference_impl/``, the tests that reach the mutated function,
so these must be cheap and still cover every code path of every cell: a few small cases per
registered cell, each compared with complex step (a backward bug shows against the reference's
own forward pass) and with the first framework that runs the cell (a forward bug shows too).
For every cell:

- float64 and float32 with the default options;
- one float64 case per non-default setting of each of the cell's own options (``option_variants``);
- no dense head and no probes (the network's other branches);
- stacks (``reference_impl/stack.py``): two layers, one bidirectional layer, two and three
  bidirectional layers, against the first framework alone when one is installed (complex step
  over every element of four units took seconds per cell);
- per-example lengths (``reference_impl/ragged.py``): one layer, with the default options and
  with each option variant (a builder that drops the lengths on one of its paths), a row of
  length 0 (a framework that cannot take one must refuse it), and two bidirectional layers
  (the first framework alone, as the stacks);

plus the checks that mutation testing itself asked for (docs/mutation-testing.md): the float32
cases computed in float32 throughout, the loss stable for logits far from 0, a saturating sigmoid
silent, the cell clip's gradient at its boundary. Cells come from the registry, never by name.
Also part of the normal suite (a few seconds).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import replace
from functools import partial

import numpy as np
import pytest

from gradparity.api import case as api_case
from gradparity.catalog import all_cells
from gradparity.checks import compare_case
from gradparity.core.cases import Case, make_problem
from gradparity.core.errors import InputError, OracleUnavailable
from gradparity.core.loop import run_reference
from gradparity.core.net import Net, identity
from gradparity.core.registry import CellSpec, Option
from gradparity.core.stacking import stack_nets
from gradparity.frameworks import all_frameworks
from gradparity.reference_impl.activations import sigmoid
from gradparity.reference_impl.loss import log_softmax, softmax_cross_entropy
from gradparity.reference_impl.peephole_lstm import _clip
from helpers import example_modules, frameworks_running, installed_frameworks

FRAMEWORK_ENV = "GRADPARITY_MUTATION_FRAMEWORK"
SIZES = {"input_size": 3, "hidden_size": 4, "seq_len": 5, "batch": 2}
STACKED_SIZES = {"input_size": 2, "hidden_size": 3, "seq_len": 3, "batch": 2}
STACKS = (
    {"layers": 2},
    {"bidirectional": True},
    {"layers": 2, "bidirectional": True},
    {"layers": 3, "bidirectional": True},  # a layer after the second: unit indices k · D
)


def variant_values(option: Option, hidden: int) -> list[object]:
    """Non-default settings of ``option`` that take other code paths: every other choice; a
    flag flipped; a float at 0.5 (or at 0 when its default is not 0: e.g. a bias term or a
    clip that is off at 0 and, at 0.5, active on states drawn from U(-1, 1)); a size (an int
    option, e.g. a projection width) at half the hidden size."""
    default = option.default
    if option.choices:
        return [choice for choice in option.choices if choice != default]
    if isinstance(default, bool):
        return [not default]
    if isinstance(default, float):
        return [0.5 if default == 0 else 0.0]
    if isinstance(default, int):
        return [hidden // 2]
    return []


def option_variants(spec: CellSpec) -> list[dict[str, object]]:
    return [
        {option.name: value}
        for option in spec.options
        for value in variant_values(option, SIZES["hidden_size"])
    ]


def first_framework(spec: CellSpec) -> list[str]:
    """The first installed framework (table order) that runs ``spec``: a forward bug shows. A
    mutation run over one framework's converters (``.ci/mutation.py --framework NAME``) names
    it in ``GRADPARITY_MUTATION_FRAMEWORK``: then that framework, where it runs the cell."""
    running = frameworks_running(spec)
    chosen = os.environ.get(FRAMEWORK_ENV)
    if not chosen:
        return running[:1]
    if chosen not in installed_frameworks():
        raise AssertionError(f"{FRAMEWORK_ENV}={chosen}: not an installed framework")
    return [chosen] if chosen in running else []


def dtype() -> str:
    """float64; float32 when the framework of a mutation run refuses float64 (its reason is in
    the frameworks table), so that its converters run on every case, not on the float32 one
    alone."""
    chosen = os.environ.get(FRAMEWORK_ENV)
    if chosen in all_frameworks() and "float64" in all_frameworks()[chosen].refuses:
        return "float32"
    return "float64"


def mutation_cases(spec: CellSpec) -> list[tuple[Case, bool]]:
    """The cases of one cell, each with whether complex step runs on it."""
    make = partial(Case.make, dtype=dtype())
    cases = [(make(spec, dtype=dtype, **SIZES), True) for dtype in ("float64", "float32")]
    cases += [(make(spec, options=variant, **SIZES), True) for variant in option_variants(spec)]
    cases.append((make(spec, head="none", probes=False, **SIZES), True))
    if spec.recurrent:
        numerical = not first_framework(spec)
        cases += [(make(spec, options=stack, **STACKED_SIZES), numerical) for stack in STACKS]
        ragged = {**SIZES, "batch": 3, "lengths": (4, 2, 1)}  # no row of all T steps
        cases.append((make(spec, **ragged), True))
        variants = option_variants(spec)
        cases += [(make(spec, options=variant, **ragged), True) for variant in variants]
        cases.append((make(spec, **{**ragged, "lengths": (4, 0, 2)}), True))  # refused by some
        stacked = {**STACKED_SIZES, "batch": 3, "lengths": (3, 1, 2)}
        bidirectional = {"layers": 2, "bidirectional": True}
        cases.append((make(spec, options=bidirectional, **stacked), numerical))
    return cases


def _params():
    for spec in all_cells().values():
        for case, numerical in mutation_cases(spec):
            yield pytest.param(case, numerical, id=case.id)


@pytest.mark.parametrize(("case", "numerical"), list(_params()))
def test_reference_agrees(case, numerical):
    oracles = (["numerical"] if numerical else []) + first_framework(case.spec)
    try:
        report = compare_case(case, oracles)
    except OracleUnavailable:  # the framework refuses the case (its reason): complex step alone
        report = compare_case(case, ["numerical"])
    failures = report.failures()
    assert report.agree, "\n".join(c.message(case.id, case.command(c.oracle)) for c in failures)


def test_the_variants_take_other_paths():
    """Every cell option gets a variant, and a variant changes the reference's outputs."""
    for spec in all_cells().values():
        variants = option_variants(spec)
        assert {name for variant in variants for name in variant} == {
            option.name for option in spec.options
        }
        base = run_reference(spec, make_problem(Case.make(spec, **SIZES)))["outputs"]
        for variant in variants:
            case = Case.make(spec, options=variant, **SIZES)
            outputs = run_reference(spec, make_problem(case))["outputs"]
            assert outputs.shape != base.shape or not np.allclose(outputs, base), case.id


@pytest.mark.parametrize("cell", list(all_cells()))
def test_float32_cases_are_computed_in_float32(cell):
    """Every tensor of a float32 case is float32: the reference must not compute a float32 case
    in float64 (it would agree with the frameworks' float32 better than float32 can, and hide
    float32 behaviour). The float32 versions of every case above, reference only."""
    spec = all_cells()[cell]
    for case, _ in mutation_cases(spec):
        case = replace(case, dtype="float32")
        tensors = run_reference(spec, make_problem(case))
        wrong = {name: str(np.asarray(v).dtype) for name, v in tensors.items()}
        wrong = {name: dtype for name, dtype in wrong.items() if dtype != "float32"}
        assert not wrong, f"{case.id}: {wrong}"


def test_log_softmax_is_shift_invariant_per_row_far_from_zero():
    """log softmax(v + c) = log softmax(v) for a constant c per row, also where exp(v + c)
    overflows or underflows: rows of logits near 0 and near ±1000 in one batch. (Adding 1000
    rounds a logit by up to 1000 ulp(1) / 2 ≈ 1.1e-13, hence the absolute 1e-12.)"""
    logits = np.random.default_rng(0).uniform(-1, 1, (3, 5))
    shifts = np.array([[0.0], [1000.0], [-1000.0]])
    expected = log_softmax(logits)
    np.testing.assert_allclose(log_softmax(logits + shifts), expected, rtol=0, atol=1e-12)
    targets = np.array([0, 3, 4])
    loss, dlogits = softmax_cross_entropy(logits, targets)
    loss_far, dlogits_far = softmax_cross_entropy(logits + shifts, targets)
    np.testing.assert_allclose(loss_far, loss, rtol=1e-12)
    np.testing.assert_allclose(dlogits_far, dlogits, rtol=0, atol=1e-12)


def test_sigmoid_saturates_without_warnings():
    """exp(−x) overflows for x ≪ 0; σ is then exactly 0, silently, in both forms."""
    x = np.array([-1000.0, 0.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh = sigmoid(x)
        in_place = sigmoid(x.copy(), out=np.empty_like(x))
    np.testing.assert_array_equal(fresh, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(in_place, [0.0, 0.5, 1.0])


def test_cell_clip_passes_the_gradient_at_the_boundary():
    """The clip's derivative is 1 inside and on the boundary (TF's clip_by_value), 0 outside;
    the complex-step mask comes from the real part."""
    c = np.array([-0.7, -0.5, -0.2, 0.5, 0.7]) + 1e-30j
    clipped, mask = _clip(c, 0.5)
    np.testing.assert_array_equal(mask, [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(clipped.real, [-0.5, -0.5, -0.2, 0.5, 0.5])
    np.testing.assert_array_equal(clipped.imag, [0.0, 1e-30, 1e-30, 1e-30, 0.0])


@pytest.mark.parametrize("cell", [s.name for s in all_cells().values() if s.recurrent])
def test_per_example_lengths_in_one_direction_are_not_refused(cell):
    """The first framework runs a one-layer, one-direction case with per-example lengths itself:
    a refusal spread to every case (``refuses_lengths``) must not hide behind complex step."""
    spec = all_cells()[cell]
    frameworks = first_framework(spec)
    if not frameworks:
        pytest.skip(f"no installed framework runs {cell}")
    declared = all_frameworks()[frameworks[0]].builder_for(spec).without_lengths
    if declared:
        pytest.skip(f"{frameworks[0]} declares that {cell} takes no lengths: {declared}")
    case = Case.make(spec, dtype=dtype(), **{**SIZES, "batch": 3, "lengths": (4, 2, 1)})
    report = compare_case(case, frameworks)
    assert report.agree and not report.skipped, report.messages() or report.skipped


@pytest.mark.parametrize("cell", [s.name for s in all_cells().values() if s.recurrent])
def test_one_network_serves_other_batch_sizes_and_lengths(cell):
    """A network is built (and a framework's compiled or exported graph kept) per cell, sizes of
    the parameters and options, not per batch or sequence length: the first framework runs a
    case, then one of the same network with another batch size and length, and both agree."""
    spec = all_cells()[cell]
    frameworks = first_framework(spec)
    if not frameworks:
        pytest.skip(f"no installed framework runs {cell}")
    for batch, steps in ((2, 5), (3, 2)):
        sizes = {**SIZES, "batch": batch, "seq_len": steps}
        report = compare_case(Case.make(spec, dtype=dtype(), **sizes), frameworks)
        assert report.agree and not report.skipped, report.messages() or report.skipped


@pytest.mark.parametrize("cell", list(all_cells()))
def test_the_first_framework_runs_every_cells_default_case_itself(cell):
    """``test_reference_agrees`` falls back on complex step where the framework refuses a
    case; a refusal spread to a cell's default options (a misspelt option value, say) must not
    hide there."""
    spec = all_cells()[cell]
    frameworks = first_framework(spec)
    if not frameworks:
        pytest.skip(f"no installed framework runs {cell}")
    report = compare_case(Case.make(spec, dtype=dtype(), **SIZES), frameworks)
    assert report.agree and not report.skipped, report.messages() or report.skipped


def _first_frameworks_examples() -> list:
    return [
        pytest.param(framework, example, id=f"{framework}-{example.kind}")
        for framework, example in example_modules()
        if first_framework(all_cells()[example.cell]) == [framework]
    ]


@pytest.mark.parametrize(("framework", "example"), _first_frameworks_examples())
def test_a_users_module_takes_the_stock_layers_place(framework, example):
    """The first framework's example modules (``Framework.examples``, tests/test_modules.py):
    the drop-in agrees (in every unit of a stack of two bidirectional layers), the planted bug
    fails on its tensor and a misfit is broken with its reason; so the builder runs the user's
    module, not its stock layer, and checks its fit."""
    module = f"{framework}={example.target}"
    options = dict(example.options)
    if example.kind == "agrees" and all_cells()[example.cell].recurrent:
        options |= {"layers": 2, "bidirectional": True}
    try:  # the CLI's default sizes, which the misfits' messages quote
        report = compare_case(api_case(example.cell, options, dtype=dtype()), [framework], [module])
    except (InputError, OracleUnavailable) as refused:
        assert example.kind.startswith("module-") and example.expect in str(refused), refused
        return
    if example.kind == "agrees":
        assert report.agree and not report.skipped, report.messages() or report.skipped
    elif example.kind == "planted-bug":
        failed = {c.tensor for c in report.failures()}
        assert example.expect in failed, f"{module}: its planted bug passed on {example.expect}"
    else:
        found = report.broken.get(module, "")
        assert example.expect in found, f"{module} should not fit ({example.expect}); got {found!r}"


def _projected_cell() -> tuple[CellSpec, str]:
    for spec in all_cells().values():
        for option in spec.options:
            if option.below_hidden:
                return spec, option.name
    pytest.skip("no registered cell with an option kept below the hidden size")


def test_a_projection_below_the_hidden_width_agrees_and_one_as_wide_is_never_an_error():
    """The native builders compare a projection with the hidden width, not the input's; one as
    wide as the hidden state agrees, or is refused with its reason (a skip, torch's LSTM), but
    is never an error. A framework whose layer has no projection says so, in those words (a
    skip); any other refusal of a projection between the widths fails."""
    spec, name = _projected_cell()
    frameworks = first_framework(spec)
    if not frameworks:
        pytest.skip(f"no installed framework runs {spec.name}")
    sizes = {"input_size": 2, "hidden_size": 4, "seq_len": 3, "batch": 2, "dtype": dtype()}
    try:
        report = compare_case(Case.make(spec, options={name: 3}, **sizes), frameworks)
    except OracleUnavailable as refused:
        assert "no projection" in str(refused), refused
        pytest.skip(str(refused))
    assert report.agree and not report.skipped, report.messages() or report.skipped
    wide = Case.make(spec, options={name: 4}, **sizes)
    try:
        report = compare_case(wide, frameworks)
    except OracleUnavailable as refused:
        assert name in str(refused), refused
    else:
        assert report.agree and not report.skipped, report.messages() or report.skipped


def test_a_stack_takes_lengths_only_if_every_unit_does_and_refuses_what_any_refuses():
    def unit(ragged: bool, refused: str | None) -> Net:
        def refuses(lengths: np.ndarray) -> str | None:
            return refused if (lengths == 0).any() else None

        return Net(identity, None, identity, ragged=ragged, refuses_lengths=refuses)

    def stack(*nets: Net) -> Net:
        return stack_nets(dict(zip(["l0", "l0_reverse"], nets, strict=True)), None, None, None)

    assert stack(unit(True, None), unit(True, None)).ragged
    assert not stack(unit(True, None), unit(False, None)).ragged
    lengths = np.array([2, 0])
    assert stack(unit(True, None), unit(True, None)).refuses_lengths(lengths) is None
    assert stack(unit(True, None), unit(True, "no zeros")).refuses_lengths(lengths) == "no zeros"
    assert stack(unit(True, None), unit(True, "no zeros")).refuses_lengths(lengths + 1) is None
