"""gradparity: a NumPy reference's gradients checked against PyTorch, TensorFlow and numerics.

Commands: compare, reproduce, record, mutate, cells, certify, report, derivation, bench.

Exit status: 0 everything agrees (``report``: the report is written), 1 something disagrees,
2 bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from oracles.base import DEFAULT_ORACLES, ORACLE_CLASSES, get_oracle
from oracles.cases import DTYPES, HEADS, Case
from oracles.compare import Comparison
from oracles.errors import InputError, OracleUnavailable
from oracles.harness import Report, compare_case, reproduce_fixture
from oracles.registry import all_cells, get_cell
from oracles.report import (
    DEFAULT_OUT,
    Clock,
    ReportData,
    check_out,
    summary_json,
    summary_rows,
    write_report,
)
from oracles.sweep import HIDDEN_SIZES, SEQ_LENS, Sweep, run_sweep
from oracles.tables import format_table

EXIT_AGREE, EXIT_DISAGREE, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse prints usage; we print one line and exit 2
        raise InputError(f"{self.prog}: {message}")


def _oracle_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ORACLE_CLASSES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"--oracles {text!r}: expected a comma-separated list of {', '.join(ORACLE_CLASSES)}"
        )
    return names


def _positive_ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(dict.fromkeys(int(v) for v in text.split(",")))
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected positive integers, e.g. 1,10,100")
    return values


def _names(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list")
    return names


def _dtype_list(text: str) -> tuple[str, ...]:
    names = _names(text)
    if set(names) - set(DTYPES):
        raise argparse.ArgumentTypeError(f"{text!r}: expected some of {','.join(DTYPES)}")
    return names


def _option(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise InputError(f"--option {text!r}: expected NAME=VALUE, e.g. --option forget_bias=1.0")
    return name.strip(), value.strip()


def _case_arguments(parser: argparse.ArgumentParser, oracles: bool = True) -> None:
    parser.add_argument("--cell", default="lstm", help="a registered cell (see `gradparity cells`)")
    parser.add_argument("--input-size", type=int, default=3, metavar="I")
    parser.add_argument("--hidden-size", type=int, default=7, metavar="H")
    parser.add_argument("--seq-len", type=int, default=None, metavar="T", help="default 13")
    parser.add_argument("--batch", type=int, default=2, metavar="B")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", default="float64", choices=DTYPES)
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--layers", type=int, default=None, metavar="N", help="stacked layers")
    parser.add_argument("--bidirectional", action="store_true", help="two directions per layer")
    parser.add_argument("--head", default="dense", choices=HEADS)
    parser.add_argument("--num-classes", type=int, default=Case.num_classes, metavar="K")
    parser.add_argument("--no-probes", action="store_true", help="differentiate the loss alone")
    parser.add_argument(
        "--param-fill",
        type=float,
        default=None,
        metavar="VALUE",
        help="fill every parameter with VALUE instead of seeded values",
    )
    if oracles:
        _oracles_and_json(parser)


def _oracles_and_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--oracles",
        type=_oracle_list,
        default=None,
        help=f"comma-separated (default: {','.join(DEFAULT_ORACLES)})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def case_from_args(args: argparse.Namespace) -> Case:
    spec = all_cells().get(args.cell)
    if spec is not None and not spec.recurrent and args.seq_len is not None:
        raise InputError(f"cell {args.cell} has no time axis; omit --seq-len")
    options = dict(_option(text) for text in args.option)
    if args.layers is not None:
        options["layers"] = args.layers
    if args.bidirectional:
        options["bidirectional"] = True
    return Case.make(
        args.cell,
        options=options,
        input_size=args.input_size,
        hidden_size=args.hidden_size,
        seq_len=13 if args.seq_len is None else args.seq_len,
        batch=args.batch,
        seed=args.seed,
        dtype=args.dtype,
        head=args.head,
        num_classes=args.num_classes,
        probes=not args.no_probes,
        param_fill=args.param_fill,
    )


def _comparison_rows(comparisons: Sequence[Comparison]) -> list[list[str]]:
    rows = [["oracle", "tensor", "max_abs_err", "max_rel_err", "rtol", "ok"]]
    for c in comparisons:
        rel = f"{c.max_rel_err:.2e}" + (" (u)" if c.projected else "")
        ok = "ok" if c.ok else "FAIL"
        rows.append([c.oracle, c.tensor, f"{c.max_abs_err:.2e}", rel, f"{c.tolerance.rtol:g}", ok])
    return rows


def _print_skipped(report: Report) -> None:
    for name, reason in report.skipped.items():
        print(f"skipped {name}: {reason}", file=sys.stderr)


def cmd_compare(args: argparse.Namespace) -> int:
    case = case_from_args(args)
    report = compare_case(case, args.oracles)
    if args.json:
        print(
            json.dumps(
                {
                    "agree": report.agree,
                    "case": case.to_json(),
                    "results": [c.to_json() for c in report.comparisons],
                    "skipped": [{"oracle": k, "reason": v} for k, v in report.skipped.items()],
                }
            )
        )
    else:
        print(f"case {case.id}")
        print(format_table(_comparison_rows(report.comparisons)))
        for failure in report.failures():
            print("\n" + failure.message(case.id, case.command(failure.oracle)))
        failed = len(report.failures())
        verdict = "agree" if report.agree else "DISAGREE"
        print(
            f"\n{verdict}: {len(report.comparisons)} comparisons, {failed} failed"
            "  ((u): checked along one random direction)"
        )
    _print_skipped(report)
    return EXIT_AGREE if report.agree else EXIT_DISAGREE


def reproduction_summary(fixture, report: Report) -> dict:
    """Who reproduces the fixture, and whether that is what the fixture expects."""
    by_implementation: dict[str, bool] = {}
    for c in report.comparisons:
        by_implementation[c.oracle] = by_implementation.get(c.oracle, True) and c.ok
    reproduced_by = [name for name, ok in by_implementation.items() if ok]
    reference = by_implementation.get("reference", False)
    as_expected = not reproduced_by if fixture.xfail else reference
    return {"reproduced_by": reproduced_by, "reference": reference, "as_expected": as_expected}


def cmd_reproduce(args: argparse.Namespace) -> int:
    from oracles.fixtures import load_fixture

    fixture = load_fixture(args.fixture)
    report = reproduce_fixture(fixture, args.oracles)
    summary = reproduction_summary(fixture, report)
    if args.json:
        print(
            json.dumps(
                {
                    "agree": summary["reference"],
                    "as_expected": summary["as_expected"],
                    "reproduced_by": summary["reproduced_by"],
                    "xfail": fixture.xfail,
                    "case": fixture.describe(),
                    "results": [c.to_json() for c in report.comparisons],
                    "skipped": [{"oracle": k, "reason": v} for k, v in report.skipped.items()],
                }
            )
        )
    else:
        _print_reproduction(fixture, report, summary)
    _print_skipped(report)
    return EXIT_AGREE if summary["as_expected"] else EXIT_DISAGREE


def _print_reproduction(fixture, report: Report, summary: dict) -> None:
    print(f"fixture {fixture.name}\n  source: {fixture.source}")
    groups: dict[str, list[str]] = {}
    for name, t in fixture.tolerances.items():
        groups.setdefault(f"rtol {t.rtol:g}, atol {t.atol:g}", []).append(name)
    special = "".join(f"; {', '.join(names)}: {tol}" for tol, names in groups.items())
    print(f"  tolerance: rtol {fixture.rtol:g}, atol {fixture.atol:g}{special}")
    print(reproduction_table(report))
    print("  (ok/no: reproduced within the tolerance; the number is the largest |deviation|)")
    command = f"gradparity reproduce {fixture.path}"
    for failure in (c for c in report.comparisons if c.oracle == "reference" and not c.ok):
        if not fixture.xfail:
            print("\n" + failure.message(fixture.name, command))
    others = [n for n in summary["reproduced_by"] if n != "reference"]
    if fixture.xfail:
        if summary["as_expected"]:
            print(f"\nnot reproduced, as expected (xfail: {fixture.xfail})")
        else:
            print(
                f"\nUNEXPECTEDLY REPRODUCED by {', '.join(summary['reproduced_by'])}: the fixture"
                f" is marked xfail ({fixture.xfail}); remove the mark if this is now correct"
            )
    elif summary["reference"]:
        print("\nreproduced by the reference" + (f" and {', '.join(others)}" if others else ""))
    else:
        also = f" (reproduced by {', '.join(others)})" if others else ""
        print(f"\nNOT REPRODUCED by the reference{also}")


def reproduction_table(report: Report) -> str:
    """Rows: expected tensors; columns: implementations, each 'ok'/'no' with its max |dev|."""
    implementations = list(dict.fromkeys([*report.ran, *(c.oracle for c in report.comparisons)]))
    implementations += [name for name in report.skipped if name not in implementations]
    tensors = list(dict.fromkeys(c.tensor for c in report.comparisons))
    cells = {(c.tensor, c.oracle): c for c in report.comparisons}
    rows = [["tensor", *implementations]]
    for tensor in tensors:
        row = [tensor]
        for impl in implementations:
            c = cells.get((tensor, impl))
            if impl in report.skipped:
                row.append("skipped")
            elif c is None:
                row.append("-")
            else:
                row.append(f"{'ok' if c.ok else 'no'} {c.max_abs_err:.1e}")
        rows.append(row)
    return format_table(rows)


def cmd_record(args: argparse.Namespace) -> int:
    from pathlib import Path

    from oracles.record import record

    record(case_from_args(args), args.implementation, Path(args.out), force=args.force)
    return EXIT_AGREE


def cmd_mutate(args: argparse.Namespace) -> int:
    from oracles.mutate import kill_rate, run_mutant, selected_mutants

    cells = None
    if args.cells is not None:
        cells = [c.strip() for c in args.cells.split(",") if c.strip()]
        unknown = [c for c in cells if c not in all_cells()]
        if unknown or not cells:
            known = ", ".join(all_cells())
            raise InputError(f"--cells {args.cells!r}: expected registered cells ({known})")
    mutants = selected_mutants(cells)
    if not mutants:
        raise InputError("no mutant in the catalogue (oracles/mutants.py) for these cells")
    verdicts = [run_mutant(m, args.oracles) for m in mutants]
    killed = sum(v.killed for v in verdicts)
    rate = kill_rate(verdicts)
    if args.json:
        rows = [v.to_json() for v in verdicts]
        print(
            json.dumps(
                {"mutants": len(verdicts), "killed": killed, "kill_rate": rate, "results": rows}
            )
        )
    else:
        rows = [["mutant", "cell", "pass", "verdict", "first failing tensor", "case"]]
        for v in verdicts:
            verdict = "killed" if v.killed else "SURVIVED"
            where = f"{v.tensor} ({v.oracle})" if v.oracle else v.tensor
            rows.append(
                [v.mutant.name, v.mutant.cell, v.to_json()["pass"], verdict, where, v.case_id]
            )
        print(format_table(rows))
        print(f"\nkilled {killed}/{len(verdicts)} mutants: kill rate {100 * rate:.1f}%")
    return EXIT_AGREE if killed == len(verdicts) else EXIT_DISAGREE


def cmd_cells(args: argparse.Namespace) -> int:
    rows = [["cell", "states", "options", *ORACLE_CLASSES, "summary"]]
    for spec in all_cells().values():
        support = []
        for name in ORACLE_CLASSES:
            builder = spec.builders.get(name)
            if name in ("numerical", "fd"):
                support.append("reference")
            elif builder is None:
                support.append("-")
            else:
                missing = get_oracle(name).unsupported(spec)
                support.append(builder.kind + (" (not installed)" if missing else ""))
        options = ",".join(f"{o.name}={o.default}" for o in spec.options) or "-"
        rows.append([spec.name, ",".join(spec.states) or "-", options, *support, spec.summary])
    print(format_table(rows))
    return EXIT_AGREE


def cmd_certify(args: argparse.Namespace) -> int:
    from oracles.certify import certify

    return certify(workers=args.workers, extra=args.pytest_args, out=args.out)


def cmd_report(args: argparse.Namespace) -> int:
    clock = Clock()
    cells = args.cells or tuple(all_cells())
    for cell in cells:
        get_cell(cell)
    out = args.out
    check_out(out)
    sweep = Sweep(cells, args.seq_lens, args.hidden_sizes, args.dtypes, args.oracles)
    points, skipped = run_sweep(sweep, sweep.cases())
    data = ReportData("gradparity report", sweep.describe(), points, skipped, clock)
    files = write_report(data, out)
    if args.json:
        print(json.dumps(summary_json(data, out, files)))
    else:
        wall, cpu = clock.elapsed()
        print(format_table(summary_rows(points)))
        plots = len(files) - 1
        print(f"\nwrote {out / files[0]} and {plots} plots ({wall:.0f} s, {cpu:.0f} s CPU)")
    for (cell, oracle), reasons in skipped.items():
        for reason in reasons:
            print(f"skipped {oracle} on {cell}: {reason}", file=sys.stderr)
    return EXIT_AGREE


def cmd_derivation(args: argparse.Namespace) -> int:
    from oracles.derivations import derivation_command

    return derivation_command(args.forward, args.backward, args.output, args.inputs, args.json)


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    def listed(values: Sequence) -> str:
        return ",".join(map(str, values))

    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help=f"default: {DEFAULT_OUT}"
    )
    parser.add_argument("--cells", type=_names, default=None, help="default: every cell")
    parser.add_argument("--seq-lens", type=_positive_ints, default=SEQ_LENS, metavar="T,T")
    parser.add_argument("--hidden-sizes", type=_positive_ints, default=HIDDEN_SIZES, metavar="H,H")
    parser.add_argument("--dtypes", type=_dtype_list, default=DTYPES, metavar="DTYPE,DTYPE")
    parser.add_argument(
        "--oracles",
        type=lambda text: tuple(_oracle_list(text)),
        default=DEFAULT_ORACLES,
        help=f"comma-separated (default: {listed(DEFAULT_ORACLES)})",
    )
    parser.add_argument("--json", action="store_true", help="print a summary as one JSON object")
    parser.epilog = (
        f"defaults: --seq-lens {listed(SEQ_LENS)} --hidden-sizes {listed(HIDDEN_SIZES)};"
        " exit 0 once the report is written (errors above the tolerance are marked in it)"
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def cmd_bench(args: argparse.Namespace) -> int:
    from oracles.bench import bench, parse_cells, table_rows

    result = bench(
        parse_cells(args.cells),
        args.repeats,
        quick=args.quick,
        threads=args.threads,
        readable=args.readable,
    )
    if args.json:
        print(json.dumps(result))
        return EXIT_AGREE
    env = result["environment"]
    print(f"{env['cpu']}, {env['cores']} cores; threads {env['threads']}")
    print(", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    print(f"allocator: {env['allocator']}")
    print(result["method"])
    timing, memory = table_rows(result)
    print("\n" + format_table(timing))
    print("\nreference BPTT cache (arrays held for the backward pass) and tracemalloc peaks")
    print(format_table(memory))
    _print_skipped_list(result["skipped"])
    return EXIT_AGREE


def _print_skipped_list(skipped: Sequence[dict[str, str]]) -> None:
    for entry in skipped:
        print(f"skipped {entry['oracle']}: {entry['reason']}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradparity", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    compare = commands.add_parser("compare", help="every oracle against the reference on one case")
    _case_arguments(compare)
    compare.set_defaults(run=cmd_compare)

    reproduce = commands.add_parser("reproduce", help="reproduce a fixture's reported values")
    reproduce.add_argument("fixture", metavar="FIXTURE.json")
    reproduce.add_argument(
        "--oracle",
        "--oracles",
        dest="oracles",
        type=_oracle_list,
        default=None,
        help="comma-separated oracles beside the reference (default: all available)",
    )
    reproduce.add_argument("--json", action="store_true")
    reproduce.set_defaults(run=cmd_reproduce)

    record = commands.add_parser(
        "record", help="run one case with one implementation and write it as a fixture"
    )
    _case_arguments(record, oracles=False)
    record.add_argument("--out", required=True, metavar="FIXTURE.json", help="the file to write")
    record.add_argument(
        "--implementation",
        default="reference",
        choices=("reference", "torch", "tf"),
        help="what computes the recorded tensors (default reference)",
    )
    record.add_argument("--force", action="store_true", help="overwrite an existing file")
    record.set_defaults(run=cmd_record)

    mutate = commands.add_parser(
        "mutate", help="plant each catalogued bug in the reference and check it is caught"
    )
    mutate.add_argument("--cells", default=None, help="comma-separated (default: every cell)")
    _oracles_and_json(mutate)
    mutate.set_defaults(run=cmd_mutate)

    cells = commands.add_parser("cells", help="registered cells and the oracles that run each")
    cells.set_defaults(run=cmd_cells)

    certify = commands.add_parser(
        "certify", help="the agreement suite on the default configuration"
    )
    certify.add_argument("--workers", default="auto", help="pytest-xdist workers (default auto)")
    certify.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help="where to write the report"
    )
    certify.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    certify.set_defaults(run=cmd_certify)

    report = commands.add_parser(
        "report", help="worst error per tensor group against sequence length, as plots"
    )
    _report_arguments(report)
    report.set_defaults(run=cmd_report)

    derivation = commands.add_parser(
        "derivation", help="check a hand-written backward pass in the slides' deriv() notation"
    )
    derivation.add_argument("forward", metavar="FORWARD.txt", help="equations, '# inputs:' header")
    derivation.add_argument("backward", metavar="BACKWARD.txt", help="[dA, dB] += deriv(...) lines")
    derivation.add_argument("--output", default=None, metavar="NAME", help="the 1x1 loss")
    derivation.add_argument(
        "--inputs", action="append", default=[], metavar="SHAPES", help="e.g. 'x[2] W[3,2]'"
    )
    derivation.add_argument("--json", action="store_true", help="print one JSON object")
    derivation.set_defaults(run=cmd_derivation)

    bench = commands.add_parser(
        "bench", help="forward+backward time of the reference, torch and tf; cache memory"
    )
    bench.add_argument(
        "--cells", default=None, help="comma-separated (default: cells with a fast reference)"
    )
    bench.add_argument("--repeats", type=_positive, default=7, help="rounds per row (default 7)")
    bench.add_argument("--threads", type=_positive, default=1, help="for every library (1)")
    bench.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    bench.add_argument(
        "--readable", action="store_true", help="also time the reference's readable form"
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.set_defaults(run=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except (InputError, OracleUnavailable) as error:
        print(f"gradparity: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
