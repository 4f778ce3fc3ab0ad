"""Meta-checks: the comparison machinery checked by itself. Each check raises ``AssertionError``
with what it found when the machinery is wrong; ``tests/test_harness.py`` runs them, and
``gradparity mutate`` runs them against the harness mutants (``gradparity.harness_mutants``),
each of which must make one of them fail.

They reach the machinery through its modules (``compare.compare_tensor``, not an imported
name), so that a harness mutant swapped into a module is what they exercise. Only NumPy and the
numerical oracles run: no framework is needed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from gradparity import checks
from gradparity.catalog import all_cells
from gradparity.core import cases, compare, loop, pairwise, tolerances
from gradparity.core.errors import InputError
from gradparity.core.validate import DTYPES
from gradparity.frameworks import get_oracle
from gradparity.suite import meta_cases

SIZE = 1_000_003  # a prime: no reshaping or blocking hides an element

PINNED = {
    ("float64", "value"): (1e-13, 1e-15),
    ("float64", "gradient"): (1e-12, 1e-14),
    ("float64", "gradient_fd"): (1e-7, 1e-9),
    ("float32", "value"): (1e-5, 5e-7),
    ("float32", "gradient"): (1e-4, 1e-6),
    ("float32", "gradient_fd"): (1e-4, 1e-6),
}
"""(rtol, atol) by (dtype, kind), as docs/tolerances.md documents them."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _compare(reference, candidate, dtype: str = "float64", kind: str = "gradient"):
    tol = tolerances.tolerance(dtype, kind)
    return compare.compare_tensor("oracle", "t", kind, reference, candidate, tol)


def check_the_scale_is_the_largest_reference_magnitude() -> None:
    """On a tensor of a million elements (a scale that grows with the size shows), and on one
    where the oracle's largest magnitude is not the reference's."""
    reference = np.linspace(-0.5, 0.5, SIZE)
    reference[123_457] = -2.0  # the largest magnitude, negative, away from the largest diff
    candidate = reference.copy()
    candidate[999_999] += 3e-12
    found = _compare(reference, candidate)
    _expect(found.scale == 2.0, f"scale {found.scale}, expected max|reference| = 2.0")
    _expect(found.index == (999_999,), f"largest diff at {found.index}, expected (999999,)")
    _expect(abs(found.max_abs_err - 3e-12) < 1e-15, f"max_abs_err {found.max_abs_err}")
    _expect(abs(found.max_rel_err - 1.5e-12) < 1e-15, f"max_rel_err {found.max_rel_err}")
    _expect(not found.ok, "3e-12 passed a tolerance of 1e-14 + 1e-12 * 2")
    values = (found.reference_value, found.oracle_value)
    _expect(values == (reference[999_999], candidate[999_999]), f"values {values}")
    message = found.message("case-id", "gradparity compare ...")
    for part in ("largest |diff| = 3.000e-12 at index (999999,)", "relative to scale 2.000e+00"):
        _expect(part in message, f"the message lacks {part!r}: {message}")
    found = _compare(np.array([1.0, -4.0, 2.0]), np.array([1.0, -4.5, 2.0]))
    _expect(found.scale == 4.0, f"scale {found.scale}: the oracle's magnitude, not the reference's")
    _expect(found.max_rel_err == 0.125 and found.index == (1,), f"{found}")


def check_a_diff_just_inside_passes_and_just_outside_fails() -> None:
    reference = np.full(SIZE, 0.25)
    allowed = 1e-14 + 1e-12 * 0.25  # float64 gradients: atol + rtol * scale
    for factor, ok in ((0.99, True), (1.01, False)):
        candidate = reference.copy()
        candidate[-1] += factor * allowed
        found = _compare(reference, candidate)
        _expect(found.ok is ok, f"{factor} × the allowed difference: ok = {found.ok}")
    atol = tolerances.tolerance("float64", "gradient").atol  # exactly at the tolerance: passes
    found = _compare(np.zeros(3), np.array([0.0, atol, -atol]))
    _expect(found.ok and found.max_abs_err == atol, f"|diff| = atol exactly failed: {found}")


def check_a_nan_on_either_side_fails() -> None:
    reference = np.zeros(5)
    candidate = reference.copy()
    candidate[2] = np.nan
    for ref, cand in ((reference, candidate), (candidate, reference)):
        found = compare.compare_tensor(
            "oracle", "t", "value", ref, cand, tolerances.Tolerance(rtol=1.0, atol=1.0)
        )
        _expect(not found.ok and found.index == (2,), f"a NaN passed: {found}")


def check_the_comparison_reports_what_it_found() -> None:
    """Empty tensors, a zero scale, float32 inputs (compared in float64), a wrong shape, a
    projected gradient, and the JSON row and messages word for word."""
    tol = tolerances.Tolerance(rtol=1e-3, atol=1e-6)
    empty = compare.compare_tensor("o", "t", "value", np.zeros((0, 2)), np.zeros((0, 2)), tol)
    fields = (empty.ok, empty.index, empty.max_abs_err, empty.scale, empty.max_rel_err)
    _expect(fields == (True, (), 0.0, 0.0, 0.0), f"empty tensors: {fields}")
    values = (empty.reference_value, empty.oracle_value, empty.projected, empty.baseline)
    _expect(values == (0.0, 0.0, False, "reference"), f"empty tensors: {values}")
    zero = compare.compare_tensor("o", "t", "value", np.zeros(2), np.array([0.0, 1e-9]), tol)
    _expect(zero.max_rel_err == np.inf and zero.ok, f"zero scale, tiny diff: {zero}")
    same = compare.compare_tensor("o", "t", "value", np.zeros(2), np.zeros(2), tol)
    _expect(same.max_rel_err == 0.0, f"zero scale, no diff: {same.max_rel_err}")
    wide = compare.compare_tensor(
        "o", "t", "value", np.float32([1e8]), np.float32([1.0]), tol, baseline="b"
    )
    _expect(wide.max_abs_err == 99999999.0, f"float32 difference {wide.max_abs_err!r}")
    try:
        compare.compare_tensor("o", "grad/W", "gradient", np.zeros(3), np.zeros(4), tol)
    except ValueError as error:
        _expect(str(error) == "grad/W: o returned shape (4,), reference has (3,)", str(error))
    else:
        raise AssertionError("a shape mismatch was compared")
    u = np.array([1.0, -1.0])
    projected = compare.compare_tensor(
        "o", "grad/b", "gradient", np.array([2.0, 1.0]), compare.Projected(1.5, u), tol
    )
    got = (projected.projected, projected.index, projected.scale, projected.max_abs_err)
    _expect(got == (True, (), 3.0, 0.5), f"projected: {got}")
    found = compare.compare_tensor(
        "torch", "grad/U", "gradient", np.array([[1.0, -2.0]]), np.array([[1.0, -2.5]]), tol
    )
    row = {
        "oracle": "torch",
        "tensor": "grad/U",
        "max_abs_err": 0.5,
        "max_rel_err": 0.25,
        "atol": 1e-6,
        "rtol": 1e-3,
        "ok": False,
        "tolerance_used": 0.5 / (1e-6 + 1e-3 * 2.0),
        "kind": "gradient",
        "index": [0, 1],
        "reference_value": -2.0,
        "oracle_value": -2.5,
        "projected": False,
    }
    _expect(found.to_json() == row, f"JSON row {found.to_json()}")
    message = found.message("case-1", "gradparity compare --cell c")
    want = (
        "grad/U: torch disagrees with reference on case-1\n"
        "  largest |diff| = 5.000e-01 at index (0, 1): reference = -2.0, torch = -2.5\n"
        "  max_rel_err = 2.500e-01 (relative to scale 2.000e+00); tolerance rtol = 0.001,"
        " atol = 1e-06 (gradient)\n"
        "  reproduce: gradparity compare --cell c"
    )
    _expect(message == want, f"message {message!r}")
    _expect("o agrees with reference" in same.message("c", "x"), same.message("c", "x"))
    along = projected.message("c", "x")
    _expect("along a random direction:" in along and "at index" not in along, along)


def check_the_tolerance_table_is_pinned_both_ways() -> None:
    """A looser or a tighter entry, or a missing or an extra one, fails."""
    table = {key: (t.rtol, t.atol) for key, t in tolerances.TOLERANCES.items()}
    _expect(table == PINNED, f"tolerance table {table}, documented {PINNED}")
    for key, (rtol, atol) in table.items():
        _expect(0 < atol <= rtol, f"{key}: the floor atol {atol} dominates rtol {rtol}")
    try:
        tolerances.tolerance("float16", "value")
    except InputError as error:
        known = ", ".join(f"{d}/{k}" for d, k in PINNED)
        _expect(str(error).endswith(f"(known: {known})"), f"unknown dtype: {error}")
    else:
        raise AssertionError("float16 got a tolerance")


def duplicated_values(tensors: dict[str, np.ndarray]) -> list[str]:
    """Names of tensors sharing a value with another element (of any of them)."""
    values = np.concatenate([np.ravel(v) for v in tensors.values()])
    owners = np.concatenate([[name] * np.size(v) for name, v in tensors.items()])
    _, first, counts = np.unique(values, return_index=True, return_counts=True)
    repeated = set(values[first[counts > 1]])
    return sorted({owners[i] for i, v in enumerate(values) if v in repeated})


def _small(spec, stacked: bool, **sizes) -> cases.Case:
    options = {"layers": 2, "bidirectional": True} if stacked and spec.recurrent else {}
    fields = {"hidden_size": 4, "input_size": 3} | sizes
    return cases.Case.make(spec, options, **fields)


def check_seeded_parameters_are_distinct() -> None:
    """Across gates, families, layers, directions and elements, on every cell; a constant fill
    (for reproducing reported examples) is caught by the same test."""
    for spec in all_cells().values():
        for stacked in (False, True):
            problem = cases.make_problem(_small(spec, stacked))
            same = duplicated_values({**problem.params, **problem.head})
            _expect(not same, f"{spec.name} (stacked: {stacked}): {same} share values")
        filled = cases.make_problem(_small(spec, False, param_fill=0.1))
        _expect(bool(duplicated_values(filled.params)), f"{spec.name}: a constant fill passed")


def check_every_output_and_final_state_carries_a_probe() -> None:
    for spec in all_cells().values():
        small = _small(spec, stacked=True)
        problem = cases.make_problem(small)
        finals = [n.removesuffix("_T") for n in cases.tensor_names(small) if n.endswith("_T")]
        wanted = {"outputs", *finals}
        _expect(set(problem.probes) == wanted, f"{spec.name}: probes {sorted(problem.probes)}")
        zero = [k for k, v in problem.probes.items() if not np.all(v != 0)]
        _expect(not zero, f"{spec.name}: probes {zero} have zeros")


def check_every_reference_tensor_is_compared() -> None:
    """By complex step, on a stacked case of every cell: every gradient the reference computes,
    each against the reference, none of the reference against itself."""
    for spec in all_cells().values():
        small = _small(spec, stacked=True, hidden_size=3, input_size=2, seq_len=2, batch=2)
        reference = loop.run_reference(spec, cases.make_problem(small))
        gradients = {name for name in reference if name.startswith("grad/")}
        report = checks.compare_case(small, ["numerical"])
        compared = {c.tensor for c in report.comparisons if c.oracle == "numerical"}
        _expect(compared == gradients, f"{spec.name}: not compared {sorted(gradients - compared)}")
        names = {c.oracle for c in report.comparisons} | {c.baseline for c in report.comparisons}
        _expect(names == {"numerical", "reference"}, f"{spec.name}: compared {sorted(names)}")
        _expect(report.agree, f"{spec.name}: the unmutated reference disagrees")


def check_an_oracle_is_never_compared_with_itself() -> None:
    """The oracle loop compares each oracle with the reference: an error planted in one
    reference tensor fails that tensor alone, showing the reference's value."""
    spec = all_cells()["gru"]
    small = cases.Case.make(spec, input_size=3, hidden_size=4, seq_len=3, batch=2)
    problem = cases.make_problem(small)
    reference = loop.run_reference(spec, problem)
    oracle = get_oracle("numerical")
    runs = {"numerical": oracle.run(spec, problem)}
    planted = {**reference, "grad/U_z": reference["grad/U_z"] * (1 + 1e-6)}
    names = cases.tensor_names(small)
    found = loop.compare_runs({"numerical": oracle}, names, planted, runs, small.dtype)
    failed = [c.tensor for c in found if not c.ok]
    _expect(failed == ["grad/U_z"], f"a planted reference error failed {failed}, not grad/U_z")
    bad = next(c for c in found if not c.ok)
    value = planted["grad/U_z"][bad.index]
    _expect(bad.reference_value == value, f"the reference side shows {bad.reference_value}")
    _expect(all(c.oracle == "numerical" and c.baseline == "reference" for c in found), "sides")


def check_a_projected_comparison_catches_a_planted_error() -> None:
    """On a case large enough that complex step projects each gradient on one direction: the
    reference's gradients pass, and each one with a single element moved by 1e-8 relative
    (to its largest magnitude) fails."""
    spec = all_cells()["lstm"]
    large = cases.Case.make(spec, input_size=24, hidden_size=32, seq_len=30, batch=3)
    reference = loop.run_reference(spec, cases.make_problem(large))
    oracle = get_oracle("numerical")
    theirs = oracle.run(spec, cases.make_problem(large))
    projected = [n for n, v in theirs.items() if isinstance(v, compare.Projected)]
    _expect(len(projected) >= 3, f"complex step projected only {projected}")
    for name in projected:
        ref = np.asarray(reference[name], dtype=np.float64)
        _expect(_compare(ref, theirs[name]).ok, f"{name}: the unmutated gradient fails")
        planted = ref.copy()
        k = int(np.argmax(np.abs(theirs[name].direction)))
        planted.flat[k] += 1e-8 * np.abs(ref).max()
        found = _compare(planted, theirs[name])
        _expect(not found.ok, f"{name}: an error of 1e-8 at element {k} passed, {found}")


def check_the_pairwise_cases_cover_every_pair() -> None:
    """Counted here, independently of ``core.pairwise``'s own bookkeeping."""
    for spec in all_cells().values():
        for dtypes, lengths in itertools.product((DTYPES, ("float32",), ("float64",)), (0, 1)):
            factors = cases.pairwise_factors(spec, dtypes, bool(lengths))
            ragged = bool(lengths and spec.recurrent)
            _expect(("lengths" in factors) == ragged, f"{spec.name}: factors {list(factors)}")
            rows = pairwise.pairwise(factors)
            made = cases.pairwise_cases(spec, dtypes, bool(lengths))
            built = [
                {**c.options_dict, "dtype": c.dtype}
                | ({"lengths": ("none", "per-example")[c.lengths is not None]} if ragged else {})
                for c in made
            ]
            _expect(built == rows, f"{spec.name}: the cases are not the pairwise rows")
            if ragged:
                labelled = [cases.factor_values(c) for c in made]
                _expect(labelled == rows, f"{spec.name}: factor_values mislabels {labelled}")
            for a, b in itertools.combinations(factors, 2):
                for u in factors[a]:
                    for v in factors[b]:
                        met = any(row[a] == u and row[b] == v for row in rows)
                        _expect(met, f"{spec.name} {dtypes}: {a}={u} never meets {b}={v}")


META_CHECKS: dict[str, Callable[[], None]] = {
    name.removeprefix("check_"): check
    for name, check in sorted(
        (n, c) for n, c in [*globals().items(), *vars(meta_cases).items()] if n.startswith("check_")
    )
}
