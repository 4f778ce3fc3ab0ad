"""Meta-checks of the cases, the oracle loop and the pairwise construction (the comparison's own
are in ``suite.meta``, which collects these too): the seeded data is what docs/determinism.md
says, a case says how to reproduce it, bad cases are one-line errors, and the loop's kinds,
dtypes and failure lists are right."""

from __future__ import annotations

import argparse
import itertools
import re
from dataclasses import replace
from operator import attrgetter

import numpy as np

from gradparity.catalog import all_cells
from gradparity.commands.arguments import add_case_arguments, case_from_args
from gradparity.core import cases, loop, pairwise, tolerances
from gradparity.core.errors import (
    InputError,
    OracleCrashed,
    OracleMisconfigured,
    OracleUnavailable,
)
from gradparity.frameworks import get_oracle


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _draw(case: cases.Case, tensor: str, shape, bound: float) -> np.ndarray:
    """A tensor as docs/determinism.md specifies it: U(-bound, bound) from
    ``default_rng([seed, *b"cell/tensor"])``."""
    rng = np.random.default_rng([case.seed, *f"{case.cell}/{tensor}".encode()])
    return rng.uniform(-bound, bound, size=shape)


def check_the_seeded_data_is_as_documented() -> None:
    """Weights U(±1/√H), the head's W_y U(±1/√H) and b_y U(±0.5), inputs, initial states and
    probes U(±1), targets uniform over the classes: each from its own documented generator."""
    spec = all_cells()["lstm"]
    case = cases.Case.make(spec, input_size=3, hidden_size=4, seq_len=5, batch=64, seed=3)
    problem = cases.make_problem(case)
    bound = 1 / np.sqrt(4)
    expected = {name: _draw(case, name, v.shape, bound) for name, v in problem.params.items()}
    expected |= {"W_y": _draw(case, "W_y", (4, 5), bound), "b_y": _draw(case, "b_y", (5,), 0.5)}
    expected |= {"x": _draw(case, "x", (64, 5, 3), 1.0)}
    expected |= {f"{s}0": _draw(case, f"{s}0", (64, 4), 1.0) for s in ("h", "c")}
    expected |= {"probe/outputs": _draw(case, "probe/outputs", (64, 5, 4), 1.0)}
    expected |= {f"probe/{s}": _draw(case, f"probe/{s}", (64, 4), 1.0) for s in ("h", "c")}
    made = {**problem.params, **problem.head, "x": problem.x}
    made |= {f"{s}0": v for s, v in problem.state0.items()}
    made |= {f"probe/{s}": v for s, v in problem.probes.items()}
    _expect(set(made) == set(expected), f"tensors {sorted(made)}")
    for name, value in expected.items():
        _expect(np.array_equal(made[name], value), f"{name} is not drawn as documented")
    rng = np.random.default_rng([3, *b"lstm/targets"])
    _expect(np.array_equal(problem.targets, rng.integers(0, 5, size=64)), "targets")
    _expect(set(problem.targets) == set(range(5)), f"targets {sorted(set(problem.targets))}")
    dense = cases.Case.make(all_cells()["dense"], seq_len=9, head="none")
    _expect(dense.seq_len == 1 and dense.cell == "dense", f"a dense case {dense}")
    headless = cases.make_problem(dense)
    _expect(not headless.head and headless.x.shape == (2, 3), f"no head: {headless.x.shape}")


def check_the_suite_grid_is_the_documented_product() -> None:
    """``grid``: T (1, 2, 7, 50) × H (1, 3, 16, 64) × B (1, 4) × dtype at input size 5, plus two
    layers, bidirectional, H 3, B 2 at T 1 and 7; the pairwise cases take their sizes in turn."""
    spec = all_cells()["gru"]
    made = [(c.seq_len, c.hidden_size, c.batch, c.dtype, c.seed) for c in cases.grid(spec)]
    product = itertools.product((0, 1), (1, 2, 7, 50), (1, 3, 16, 64), (1, 4), cases.DTYPES)
    plain = [(t, h, b, d, s) for s, t, h, b, d in product]
    stacked = [(t, 3, 2, d, 1) for t in (1, 7) for d in cases.DTYPES]
    _expect(made == stacked + plain, "the grid is not the documented product")
    grid = cases.grid(spec)
    _expect(all(c.input_size == 5 for c in grid), "input size")
    layered = [c.options_dict for c in grid[: len(stacked)]]
    _expect(all(o["layers"] == 2 and o["bidirectional"] for o in layered), f"{layered}")
    _expect(all(c.options_dict["layers"] == 1 for c in grid[len(stacked) :]), "plain cases")
    flat = cases.grid(all_cells()["dense"], seeds=(0,))
    _expect({c.seq_len for c in flat} == {1} and len(flat) == 16, "a cell without time")
    shifted = cases.grid(spec, seeds=(4,), options_by_seed={4: {"hidden_n_bias": False}})
    _expect(all(not c.options_dict["hidden_n_bias"] for c in shifted), "options_by_seed")
    rows = cases.pairwise_cases(all_cells()["lstm"], lengths=True)
    sizes = all_cells()["lstm"].pairwise_sizes
    ragged = 0
    for k, case in enumerate(rows):
        turn = [sizes[(k + shift) % len(sizes)] for shift in range(len(sizes))]
        projection = case.options_dict["proj_size"]  # below the hidden size, or 0
        turn = [size for size in turn if not projection or size[0] > projection]
        if case.lengths is not None:  # at least 3 steps and 2 rows
            turn = [size for size in turn if size[1] >= 3 and size[2] >= 2]
            top = case.seq_len - ragged % 2  # a full row, then none, in turn
            falling = list(case.lengths) == sorted(case.lengths, reverse=True)
            ends = (case.lengths[0], case.lengths[-1]) == (top, 1)
            _expect(falling and ends, f"pairwise case {k}: lengths {case.lengths}")
            ragged += 1
        got = (case.hidden_size, case.seq_len, case.batch, case.seed, case.input_size)
        _expect(got == (*turn[0], cases.PAIRWISE_SEED + k, 5), f"pairwise case {k}: {got}")
    _expect(ragged >= 2, f"{ragged} lstm cases with per-example lengths")
    for case in cases.pairwise_cases(all_cells()["dense"]):
        _expect(case.seq_len == 1, "a pairwise case of a cell without time")
    first_bad = replace(spec, pairwise_sizes=((0, 4, 2), (3, 4, 2)))
    _expect({c.hidden_size for c in cases.pairwise_cases(first_bad)} == {3}, "a bad size")
    try:
        cases.pairwise_cases(replace(spec, pairwise_sizes=((0, 4, 2),)))
    except InputError as error:
        want = r"cell gru: no pairwise size \(\(0, 4, 2\),\) suits options \{[^}]*\}: hidden_size"
        _expect(re.fullmatch(want + " must be a positive integer, got 0", str(error)), str(error))
    else:
        raise AssertionError("no size suits, and no error")
    try:  # every size is too short for lengths: no size was even tried
        cases.pairwise_cases(replace(spec, pairwise_sizes=((3, 2, 2),)), lengths=True)
    except InputError as error:
        want = "with per-example lengths"
        _expect(str(error).endswith(want) and "((3, 2, 2),)" in str(error), str(error))
    else:
        raise AssertionError("no size suits lengths, and no error")


def check_the_cases_with_per_example_lengths() -> None:
    """The ragged cases are ``RAGGED_CASES`` at the documented sizes; a case's lengths are
    checked against its default sizes and reach its problem as int64; the pairwise cases have
    lengths only when asked for."""
    lstm = all_cells()["lstm"]
    fields = ("input_size", "hidden_size", "seq_len", "batch", "seed", "dtype", "lengths")
    made = [
        (
            c.options_dict["layers"],
            c.options_dict["bidirectional"],
            *attrgetter(*fields)(c),
        )
        for c in cases.ragged_cases(lstm)
    ]
    want = [
        (2, True, 5, 3, 4, 3, 200, "float64", (4, 1, 2)),
        (1, False, 5, 3, 4, 3, 201, "float64", (4, 0, 2)),
        (1, False, 5, 3, 3, 2, 202, "float32", (3, 3)),
    ]
    _expect(made == want, f"the ragged cases {made}")
    only = [c.lengths for c in cases.ragged_cases(lstm, ("float32",))]
    _expect(only == [(3, 3)], f"the float32 ragged cases: {only}")
    wide = {c.hidden_size for c in cases.ragged_cases(all_cells()["layernorm_lstm"])}
    _expect(wide == {6}, f"the first pairwise size's width is 6, not {wide}")
    _expect(cases.ragged_cases(all_cells()["dense"]) == [], "a cell without time has none")
    case = cases.Case.make(lstm, lengths=[13, 2])  # checked against T 13 and B 2, the defaults
    _expect(case.lengths == (13, 2) and {type(n) for n in case.lengths} == {int}, f"{case}")
    lengths = cases.make_problem(case).lengths
    _expect(lengths is not None and lengths.dtype == np.int64, f"the problem's lengths {lengths}")
    _expect(lengths.tolist() == [13, 2], f"the problem's lengths {lengths}")
    _expect(cases.make_problem(cases.Case.make(lstm)).lengths is None, "lengths from nowhere")
    for spec in all_cells().values():
        plain = cases.pairwise_cases(spec)
        _expect(all(c.lengths is None for c in plain), f"{spec.name}: lengths by default")
        _expect("lengths" not in cases.pairwise_factors(spec), f"{spec.name}: a lengths factor")


def _parsed(argv: list[str]) -> cases.Case:
    parser = argparse.ArgumentParser()
    add_case_arguments(parser)
    return case_from_args(parser.parse_args(argv))


def check_a_case_says_how_to_reproduce_it() -> None:
    """Its command line gives the case back (every field), and names the oracle and module."""
    peephole = all_cells()["peephole_lstm"]
    odd = cases.Case.make(
        peephole,
        {"peepholes": "matrix", "cell_clip": 0.5, "layers": 2},
        input_size=4,
        hidden_size=6,
        seq_len=3,
        batch=5,
        seed=9,
        dtype="float32",
        head="none",
        num_classes=7,
        probes=False,
        param_fill=0.25,
        lengths=(3, 0, 2, 1, 3),
    )
    for case in (odd, cases.Case.make(all_cells()["dense"], {"activation": "relu"})):
        back = _parsed(case.cli_args())
        _expect(back == case, f"{case.cli_args()} gives {back}, not {case}")
    plain = cases.Case.make(peephole).cli_args()
    _expect(not {"--option", "--head", "--no-probes"} & set(plain), f"defaults spelled: {plain}")
    _expect(odd.command("torch").endswith(" --oracles torch"), odd.command("torch"))
    command = odd.command("torch=pkg.mod:Layer")
    _expect(command.startswith("gradparity compare --cell peephole_lstm "), command)
    _expect(command.endswith(" --oracles torch --module torch=pkg.mod:Layer"), command)
    _expect(odd.command().endswith("--param-fill 0.25 --lengths 3,0,2,1,3"), odd.command())
    data = odd.to_json()
    want = {"cell": "peephole_lstm", "seed": 9, "dtype": "float32", "param_fill": 0.25}
    _expect(want.items() <= data.items() and "spec" not in data, f"{data}")
    _expect(data["options"] == dict(odd.options) and data["probes"] is False, f"{data}")


def check_a_bad_case_is_a_one_line_error() -> None:
    spec = all_cells()["rnn"]
    bad = {
        "input_size": (0, "input_size must be a positive integer, got 0"),
        "hidden_size": (0, "hidden_size must be a positive integer, got 0"),
        "batch": (True, "batch must be a positive integer, got True"),
        "seq_len": (2.0, "seq_len must be a positive integer, got 2.0"),
        "num_classes": (-1, "num_classes must be a positive integer, got -1"),
        "dtype": ("float16", "dtype 'float16' is not supported; expected one of"),
        "head": ("conv", "head 'conv' is not supported; expected one of"),
        "param_fill": (float("nan"), "param_fill must be a finite number, got nan"),
    }
    for field, (value, message) in bad.items():
        try:
            cases.Case.make(spec, **{field: value})
        except InputError as error:
            _expect(str(error).startswith(message) and "\n" not in str(error), str(error))
        else:
            raise AssertionError(f"{field}={value!r} was accepted")
    cases.Case.make(spec, hidden_size=1, batch=1, seq_len=1, num_classes=1, param_fill=0.0)


def check_the_loop_kinds_dtypes_and_failures() -> None:
    numerical, fd = get_oracle("numerical"), get_oracle("fd")
    kinds = [loop.kind_for(o, t) for o in (numerical, fd) for t in ("grad/W", "outputs")]
    _expect(kinds == ["gradient", "value", "gradient_fd", "value"], f"kinds {kinds}")
    float32, float64 = np.zeros(2, np.float32), np.zeros(2)
    dtypes = [loop.computed_dtype("float64", float32), loop.computed_dtype("float64", float64)]
    dtypes += [loop.computed_dtype("float32", float64), loop.computed_dtype("float64", 1.0)]
    _expect(dtypes == ["float32", "float64", "float32", "float64"], f"computed dtypes {dtypes}")
    spec = all_cells()["rnn"]
    small = cases.Case.make(spec, input_size=2, hidden_size=3, seq_len=2, batch=2)
    problem = cases.make_problem(small)
    mutant = spec.module()
    doubled = type(mutant)("doubled")
    doubled.forward, doubled.backward = mutant.forward, _doubled(mutant.backward)
    planted = loop.run_reference(spec, problem, doubled)
    plain = loop.run_reference(spec, problem)
    _expect(np.allclose(planted["grad/W"], 2 * plain["grad/W"]), "run_reference ignored cell")
    runs = {"numerical": numerical.run(spec, problem)}
    names = cases.tensor_names(small)
    compared = loop.compare_runs({"numerical": numerical}, names, planted, runs, small.dtype)
    _expect(all(c.kind == "gradient" and c.baseline == "reference" for c in compared), "kinds")
    narrow = {"numerical": {k: np.float32(v) for k, v in runs["numerical"].items()}}
    named = loop.compare_runs({"numerical": numerical}, names, plain, narrow, "float64", "rec")
    _expect(all(c.baseline == "rec" for c in named), "the baseline's name")
    rtol = {c.tolerance.rtol for c in named}
    _expect(rtol == {tolerances.tolerance("float32", "gradient").rtol}, f"float32 results: {rtol}")
    report = loop.Report(comparisons=compared, case=small)
    _expect(not report.agree, "a doubled backward agreed")
    failed = {c.tensor for c in report.failures()}
    _expect(failed and all(not c.ok for c in report.failures()), f"failures {failed}")
    _expect(failed == {c.tensor for c in compared if not c.ok}, "failures() lists passes")
    messages = report.failure_messages()
    _expect(len(messages) == len(failed) and all("disagrees" in m for m in messages), "msgs")


class _Fake:
    """An oracle that returns complex step's tensors, or fails as told."""

    computes_values, computes_gradients, gradient_kind = False, True, "gradient"

    def __init__(self, name: str, fails: Exception | None = None, unsupported: str = ""):
        self.name, self.fails, self.reason = name, fails, unsupported
        self.started, self.given = False, None

    def unsupported(self, spec) -> str | None:
        return self.reason or None

    def start(self) -> None:
        self.started = True

    def run(self, spec, problem, reference=None, patch=None):
        self.given = (reference, patch)
        if self.fails is not None:
            raise self.fails
        return get_oracle("numerical").run(spec, problem, reference)


def check_the_oracle_loop_runs_skips_and_records() -> None:
    """Each oracle runs with the replaced cell and patch; one that cannot run is a skip with
    its reason, one that crashes or raises is an error, one misconfigured is broken; asked for
    by name and none can run: one error naming the first and counting the others."""
    spec = all_cells()["rnn"]
    small = cases.Case.make(spec, input_size=2, hidden_size=3, seq_len=2, batch=2)
    problem = cases.make_problem(small)
    good = _Fake("good")
    fakes = [
        good,
        _Fake("absent", unsupported="no builder"),
        _Fake("away", OracleUnavailable("not installed")),
        _Fake("crashed", OracleCrashed("died of signal SIGSEGV")),
        _Fake("broken", OracleMisconfigured("builder x cannot be imported")),
        _Fake("raising", ZeroDivisionError("boom")),
    ]
    report = loop.Report(skipped={"earlier": "kept"})
    runs = loop.run_oracles(fakes, spec, problem, report, True, spec.module(), "patch")
    _expect(list(runs) == ["good"] and good.given == (spec.module(), "patch"), f"ran {runs}")
    _expect([f.started for f in fakes] == [True, False, True, True, True, True], "start()")
    skipped = {"earlier": "kept", "absent": "no builder", "away": "not installed"}
    _expect(report.skipped == skipped, f"skipped {report.skipped}")
    errors = {
        "crashed": "died of signal SIGSEGV",
        "raising": "raising raised ZeroDivisionError: boom",
    }
    _expect(report.errors == errors, f"errors {report.errors}")
    _expect(report.broken == {"broken": "builder x cannot be imported"}, f"{report.broken}")
    said = report.messages()
    want = [f"{n} failed: {e}" for n, e in errors.items()]
    want.append("broken cannot be set up: builder x cannot be imported")
    _expect(said == want, f"messages {said}")
    for explicit in (True, False):
        nobody = loop.Report()
        none = [_Fake("a", unsupported="no a"), _Fake("b", OracleUnavailable("no b"))]
        try:
            loop.run_oracles(none, spec, problem, nobody, explicit)
        except OracleUnavailable as error:
            want = "oracle a cannot run cell rnn: no a (and 1 more oracles cannot)"
            _expect(explicit and str(error) == want, f"{explicit}: {error}")
        else:
            _expect(not explicit and nobody.skipped == {"a": "no a", "b": "no b"}, "skips")
    single = [_Fake("a", unsupported="no a")]
    try:
        loop.run_oracles(single, spec, problem, loop.Report(), True)
    except OracleUnavailable as error:
        _expect(str(error) == "oracle a cannot run cell rnn: no a", str(error))
    else:
        raise AssertionError("the one oracle asked for by name could not run, and no error")
    reference = loop.run_reference(spec, problem)
    planted = {**reference, "grad/U": reference["grad/U"] + 1.0}
    compared = loop.compare_runs(
        {"good": good}, cases.tensor_names(small), planted, runs, "float64"
    )
    by_fixture = loop.Report(comparisons=compared, fixture="my_fixture")
    (line,) = by_fixture.failure_messages()
    _expect(line.startswith("grad/U: good disagrees with reference on my_fixture\n"), line)
    _expect(line.endswith("reproduce: gradparity reproduce my_fixture"), line)
    by_case = loop.Report(comparisons=compared, case=small, errors={"crashed": "died"})
    (line,) = by_case.failure_messages()
    _expect(line.endswith(f"reproduce: {small.command('good')}") and small.id in line, line)
    _expect(by_case.messages() == [line, "crashed failed: died"], f"{by_case.messages()}")


def _doubled(backward):
    def twice(*args, **kwargs):
        grads, dx, dstate0 = backward(*args, **kwargs)
        return {k: 2 * v for k, v in grads.items()}, 2 * dx, {k: 2 * v for k, v in dstate0.items()}

    return twice


def check_the_pairwise_construction() -> None:
    """Bad factors are errors; known factor sets give their smallest covering sets."""
    for factors, message in (({"a": ()}, "factor 'a' has no values"), ({"a": (1, 1)}, "repeats")):
        try:
            pairwise.pairwise(factors)
        except ValueError as error:
            _expect(message in str(error), str(error))
        except Exception as error:
            raise AssertionError(f"{factors}: {type(error).__name__}: {error}") from None
        else:
            raise AssertionError(f"{factors} was accepted")
    _expect(pairwise.pairwise({}) == [{}], "no factors: one empty row")
    _expect(pairwise.pairwise({"a": (7, 8)}) == [{"a": 7}], "one factor: its first value")
    sizes = {3: 4, 4: 5, 5: 6}  # binary factors -> rows of the optimum, which greedy reaches
    for count, rows in sizes.items():
        factors = {f"f{k}": (0, 1) for k in range(count)}
        made = pairwise.pairwise(factors)
        _expect(len(made) <= rows + 1, f"{count} binary factors: {len(made)} rows")
    total = sum(
        len(cases.pairwise_cases(spec, lengths=True) + cases.ragged_cases(spec))
        for spec in all_cells().values()
    )
    _expect(total <= 80, f"{total} pairwise and ragged cases, over the 80 the suite's time allows")
    mixed = pairwise.pairwise({"a": ("p", "q", "r", "s"), "b": (0, 1)})
    _expect(len(mixed) == 8, f"4 × 2 values: {len(mixed)} rows, not 8")
    names = ["a", "b"]
    one = [{"a": 1}]
    _expect(not pairwise.covered_pairs(one, names), "a row without b covered a pair")
