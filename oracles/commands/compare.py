"""``gradparity compare``, ``reproduce``, ``record`` and ``cells``: one case or one fixture,
printed as a table (or one JSON object), each failure with its full message."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from gradparity.catalog import all_cells
from gradparity.checks import compare_case, reproduce_fixture
from gradparity.commands.arguments import case_from_args
from gradparity.core.compare import Comparison
from gradparity.core.loop import Report
from gradparity.core.text import dumps, format_table
from gradparity.frameworks import all_frameworks, all_oracles

EXIT_AGREE, EXIT_DISAGREE, EXIT_BAD_INPUT = 0, 1, 2


def comparison_rows(comparisons: Sequence[Comparison]) -> list[list[str]]:
    rows = [["oracle", "tensor", "max_abs_err", "max_rel_err", "rtol", "ok"]]
    for c in comparisons:
        rel = f"{c.max_rel_err:.2e}" + (" (u)" if c.projected else "")
        ok = "ok" if c.ok else "FAIL"
        rows.append([c.oracle, c.tensor, f"{c.max_abs_err:.2e}", rel, f"{c.tolerance.rtol:g}", ok])
    return rows


def print_skipped(report: Report) -> None:
    for name, reason in report.skipped.items():
        print(f"skipped {name}: {reason}", file=sys.stderr)
    for name, error in report.errors.items():
        print(f"error {name}: {error}", file=sys.stderr)
    for error in report.broken.values():
        print(f"gradparity: error: {error}", file=sys.stderr)


def report_json(report: Report) -> dict:
    return {
        "results": [c.to_json() for c in report.comparisons],
        "skipped": [{"oracle": k, "reason": v} for k, v in report.skipped.items()],
        "errors": [{"oracle": k, "error": v} for k, v in report.errors.items()],
        "broken": [{"oracle": k, "error": v} for k, v in report.broken.items()],
    }


def cmd_compare(args: argparse.Namespace) -> int:
    case = case_from_args(args)
    report = compare_case(case, args.oracles, args.module)
    if args.json:
        print(dumps({"agree": report.agree, "case": case.to_json(), **report_json(report)}))
    elif report.comparisons or not report.broken:
        print(f"case {case.id}")
        print(format_table(comparison_rows(report.comparisons)))
        for message in report.failure_messages():
            print("\n" + message)
        failed = len(report.failures())
        verdict = "agree" if report.agree else "DISAGREE"
        print(
            f"\n{verdict}: {len(report.comparisons)} comparisons, {failed} failed"
            "  ((u): checked along one random direction)"
        )
    print_skipped(report)
    return exit_status(report)


def exit_status(report: Report) -> int:
    """2 when an oracle could not be set up (bad input), else 0 agree or 1 disagree."""
    if report.broken:
        return EXIT_BAD_INPUT
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
    from gradparity.io.fixtures import find_fixture, load_fixture

    fixture = load_fixture(find_fixture(args.fixture))
    report = reproduce_fixture(fixture, args.oracles)
    summary = reproduction_summary(fixture, report)
    if args.json:
        print(
            dumps(
                {
                    "agree": summary["reference"],
                    "as_expected": summary["as_expected"],
                    "reproduced_by": summary["reproduced_by"],
                    "xfail": fixture.xfail,
                    "case": fixture.describe(),
                    **report_json(report),
                }
            )
        )
    else:
        _print_reproduction(fixture, report, summary)
    print_skipped(report)
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
    from gradparity.io.record import record

    record(case_from_args(args), args.implementation, Path(args.out), force=args.force)
    return EXIT_AGREE


def cmd_cells(args: argparse.Namespace) -> int:
    """Every cell, and for every oracle whether it runs it: native, composed, reference (the
    numerical oracles differentiate the reference), "-" (no builder)."""
    oracles = list(all_oracles())
    frameworks = all_frameworks()
    rows = [["cell", "states", "options", *oracles, "summary"]]
    for spec in all_cells().values():
        support = []
        for name in oracles:
            framework = frameworks.get(name)
            if framework is None:
                support.append("reference")
                continue
            builder = framework.builder_for(spec)
            if builder is None:
                support.append("-")
            else:
                support.append(builder.kind + (" (not installed)" if framework.missing() else ""))
        options = ",".join(f"{o.name}={o.default}" for o in spec.options) or "-"
        rows.append([spec.name, ",".join(spec.states) or "-", options, *support, spec.summary])
    print(format_table(rows))
    return EXIT_AGREE
