"""Planted bugs in the harness itself: the comparison, the tolerance table, the seeding, the
probes, the oracle loop and the pairwise cases. Each is a textual edit of one module of
``gradparity.core`` (``find`` occurs exactly once), swapped into that module while the
meta-checks (``gradparity.suite.meta``) run; it is killed when one of them fails, and
``caught_by`` names the check that must. ``gradparity mutate`` runs them beside the reference's
and the converters' mutants.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from gradparity.core.edits import load_edited


@dataclass(frozen=True)
class HarnessMutant:
    name: str
    module: str
    find: str
    replace: str
    caught_by: str  # the meta-check (``suite.meta.META_CHECKS``) that must fail
    cell = ""  # no cell: it edits the machinery every cell goes through
    forward = False
    framework = ""

    @contextmanager
    def applied(self) -> Iterator[None]:
        """The edited definition (the top-level one that holds ``find``) in place of the
        module's own, restored after. Everything else of the edited copy is the original's
        objects, so that its classes are the classes the rest of gradparity makes."""
        original = importlib.import_module(self.module)
        edited = load_edited(original, self.find, self.replace, f"harness mutant {self.name}")
        changed = _defined_at(inspect.getsource(original), self.find)
        for name, value in vars(original).items():
            if name not in changed and not name.startswith("__"):
                setattr(edited, name, value)
        with ExitStack() as undo:
            for name in changed:
                mine, theirs = getattr(original, name), getattr(edited, name)
                if isinstance(mine, type):  # its methods, so that existing instances have them
                    for attribute, value in vars(theirs).items():
                        if callable(value) and not attribute.startswith("__"):
                            undo.enter_context(_swapped(mine, attribute, value))
                else:
                    undo.enter_context(_swapped(original, name, theirs))
            yield


@contextmanager
def _swapped(owner: object, name: str, value: object) -> Iterator[None]:
    saved = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, saved)


def _defined_at(source: str, find: str) -> list[str]:
    """The names bound by the top-level statement of ``source`` that contains ``find``."""
    line = source[: source.index(find)].count("\n") + 1
    node = next(n for n in ast.parse(source).body if n.lineno <= line <= n.end_lineno)
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return [node.name]
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return [t.id for t in targets if isinstance(t, ast.Name)]


def run_harness_mutant(mutant: HarnessMutant) -> tuple[bool, str, str]:
    """(killed, the first meta-check that failed, its message): ``caught_by`` first."""
    from gradparity.suite.meta import META_CHECKS

    order = [mutant.caught_by, *(name for name in META_CHECKS if name != mutant.caught_by)]
    with mutant.applied():
        for name in order:
            try:
                META_CHECKS[name]()
            except Exception as error:  # an error in a check is a kill too: it did not pass
                return True, name, f"{type(error).__name__}: {error}"
    return False, "", ""


COMPARE = "gradparity.core.compare"
TOLERANCES = "gradparity.core.tolerances"
CASES = "gradparity.core.cases"
LOOP = "gradparity.core.loop"
PAIRWISE = "gradparity.core.pairwise"
SCALE = "the_scale_is_the_largest_reference_magnitude"

HARNESS_MUTANTS = (
    HarnessMutant(
        "scale-is-a-sum",
        COMPARE,
        "scale = float(np.abs(reference).max())",
        "scale = float(np.abs(reference).sum())",
        SCALE,
    ),
    HarnessMutant(
        "scale-from-the-oracle",
        COMPARE,
        "scale = float(np.abs(reference).max())",
        "scale = float(np.abs(candidate).max())",
        SCALE,
    ),
    HarnessMutant(
        "nan-counts-as-agreement",
        COMPARE,
        "diff = np.where(np.isnan(diff), np.inf, diff)",
        "diff = np.where(np.isnan(diff), 0.0, diff)",
        "a_nan_on_either_side_fails",
    ),
    HarnessMutant(
        "mean-instead-of-largest-difference",
        COMPARE,
        "abs_err = float(diff.flat[flat]) if diff.size else 0.0",
        "abs_err = float(diff.mean()) if diff.size else 0.0",
        SCALE,
    ),
    HarnessMutant(
        "smallest-difference-reported",
        COMPARE,
        "flat = int(np.argmax(diff)) if diff.size else 0",
        "flat = int(np.argmin(diff)) if diff.size else 0",
        SCALE,
    ),
    HarnessMutant(
        "projected-error-divided-by-size",
        COMPARE,
        "abs_err = abs(cand_value - ref_value)",
        "abs_err = abs(cand_value - ref_value) / terms.size",
        "a_projected_comparison_catches_a_planted_error",
    ),
    HarnessMutant(
        "float64-gradients-100x-looser",
        TOLERANCES,
        '("float64", "gradient"): Tolerance(rtol=1e-12, atol=1e-14)',
        '("float64", "gradient"): Tolerance(rtol=1e-10, atol=1e-14)',
        "the_tolerance_table_is_pinned_both_ways",
    ),
    HarnessMutant(
        "float64-value-floor-loose",
        TOLERANCES,
        '("float64", "value"): Tolerance(rtol=1e-13, atol=1e-15)',
        '("float64", "value"): Tolerance(rtol=1e-13, atol=1e-9)',
        "the_tolerance_table_is_pinned_both_ways",
    ),
    HarnessMutant(
        "tolerance-scale-times-ten",
        TOLERANCES,
        "return abs_err <= self.atol + self.rtol * scale",
        "return abs_err <= self.atol + self.rtol * scale * 10",
        "a_diff_just_inside_passes_and_just_outside_fails",
    ),
    HarnessMutant(
        "seed-ignores-the-tensor",
        CASES,
        'return np.random.default_rng([case.seed, *f"{case.cell}/{tensor}".encode()])',
        "return np.random.default_rng([case.seed])",
        "seeded_parameters_are_distinct",
    ),
    HarnessMutant(
        "seed-ignores-the-unit",
        CASES,
        'return np.random.default_rng([case.seed, *f"{case.cell}/{tensor}".encode()])',
        'return np.random.default_rng([case.seed, *tensor.split("/")[-1].encode()])',
        "seeded_parameters_are_distinct",
    ),
    HarnessMutant(
        "final-state-probes-dropped",
        CASES,
        'probes |= {s: _uniform(case, f"probe/{s}", (batch, w), 1.0) for s, w in states.items()}',
        'probes |= {s: _uniform(case, f"probe/{s}", (batch, w), 1.0) for s, w in {}.items()}',
        "every_output_and_final_state_carries_a_probe",
    ),
    HarnessMutant(
        "oracle-skips-initial-state-gradients",
        LOOP,
        "return [n for n in names if wanted[tensor_kind(n)]]",
        'return [n for n in names if wanted[tensor_kind(n)] and not n.endswith("0")]',
        "every_reference_tensor_is_compared",
    ),
    HarnessMutant(
        "oracle-compared-with-itself",
        LOOP,
        "baseline[tensor],",
        "tensors[tensor],",
        "an_oracle_is_never_compared_with_itself",
    ),
    HarnessMutant(
        "pairwise-drops-needed-rows",
        PAIRWISE,
        "if others and not missing_pairs(others, factors):",
        "if others and len(others) > 2:",
        "the_pairwise_cases_cover_every_pair",
    ),
    HarnessMutant(
        "size-zero-accepted",
        CASES,
        "if isinstance(value, bool) or not isinstance(value, int) or value < 1:",
        "if isinstance(value, bool) or not isinstance(value, int) or value < 0:",
        "a_bad_case_is_a_one_line_error",
    ),
    HarnessMutant(
        "problem-forgets-lengths",
        CASES,
        "lengths=None if case.lengths is None else np.asarray(case.lengths, dtype=np.int64),",
        "lengths=None,",
        "the_cases_with_per_example_lengths",
    ),
    HarnessMutant(
        "pairwise-without-lengths",
        CASES,
        "    if lengths and spec.recurrent:\n        factors[LENGTHS_FACTOR] = LENGTHS",
        "    if lengths and not spec.recurrent:\n        factors[LENGTHS_FACTOR] = LENGTHS",
        "the_pairwise_cases_cover_every_pair",
    ),
    HarnessMutant(
        "command-forgets-no-probes",
        CASES,
        'args.append("--no-probes")',
        "args += []",
        "a_case_says_how_to_reproduce_it",
    ),
    HarnessMutant(
        "float32-results-judged-as-float64",
        LOOP,
        'return "float32" if getattr(tensor, "dtype", None) == np.float32 else dtype',
        "return dtype",
        "the_loop_kinds_dtypes_and_failures",
    ),
    HarnessMutant(
        "empty-factor-accepted",
        PAIRWISE,
        'raise ValueError(f"factor {name!r} has no values")',
        "continue",
        "the_pairwise_construction",
    ),
    HarnessMutant(
        "weights-twice-as-large",
        CASES,
        "scale = 1.0 / math.sqrt(hidden)",
        "scale = 2.0 / math.sqrt(hidden)",
        "the_seeded_data_is_as_documented",
    ),
    HarnessMutant(
        "no-single-step-stacked-case",
        CASES,
        "for steps in (1, 7)",
        "for steps in (2, 7)",
        "the_suite_grid_is_the_documented_product",
    ),
    HarnessMutant(
        "json-index-a-tuple",
        COMPARE,
        '"index": list(self.index),',
        '"index": self.index,',
        "the_comparison_reports_what_it_found",
    ),
    HarnessMutant(
        "earlier-skips-forgotten",
        LOOP,
        "report.skipped |= unavailable",
        "report.skipped = unavailable",
        "the_oracle_loop_runs_skips_and_records",
    ),
)
