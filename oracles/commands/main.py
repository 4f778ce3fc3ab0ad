"""gradparity: a NumPy reference's gradients checked against every framework and numerics.

Commands: compare, reproduce, record, mutate, cells, new-cell, certify, report, derivation,
bench.

Exit status: 0 everything agrees (``report``: the report is written), 1 something disagrees,
2 bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from gradparity import __version__
from gradparity.commands.arguments import (
    ORACLES,
    Parser,
    add_case_arguments,
    add_module_argument,
    add_oracles_and_json,
    positive,
    shard_argument,
)
from gradparity.commands.bench_output import cmd_bench
from gradparity.commands.certify import cmd_certify
from gradparity.commands.compare import (
    EXIT_BAD_INPUT,
    cmd_cells,
    cmd_compare,
    cmd_record,
    cmd_reproduce,
)
from gradparity.commands.mutate import cmd_mutate
from gradparity.commands.new_cell import cmd_new_cell
from gradparity.core.errors import InputError, OracleUnavailable
from gradparity.derivation.render import cmd_derivation
from gradparity.io.record import recorders
from gradparity.report.render import DEFAULT_OUT
from gradparity.report.sweep import add_report_arguments, cmd_report


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="gradparity", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"gradparity {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    compare = commands.add_parser("compare", help="every oracle against the reference on one case")
    add_case_arguments(compare)
    add_module_argument(compare)
    compare.set_defaults(run=cmd_compare)

    reproduce = commands.add_parser("reproduce", help="reproduce a fixture's reported values")
    reproduce.add_argument("fixture", metavar="FIXTURE", help="a fixture file, or a shipped name")
    reproduce.add_argument(
        "--oracle",
        "--oracles",
        dest="oracles",
        type=ORACLES,
        default=None,
        help="comma-separated oracles beside the reference (default: all available)",
    )
    reproduce.add_argument("--json", action="store_true", help="print one JSON object")
    reproduce.set_defaults(run=cmd_reproduce)

    record = commands.add_parser(
        "record", help="run one case with one implementation and write it as a fixture"
    )
    add_case_arguments(record, oracles=False)
    record.add_argument("--out", required=True, metavar="FIXTURE.json", help="the file to write")
    record.add_argument(
        "--implementation",
        default="reference",
        choices=recorders(),
        help="what computes the recorded tensors (default reference)",
    )
    record.add_argument("--force", action="store_true", help="overwrite an existing file")
    record.set_defaults(run=cmd_record)

    mutate = commands.add_parser(
        "mutate",
        help="plant each catalogued bug (reference, converters, and without --cells the"
        " harness) and check it is caught",
    )
    mutate.add_argument("--cells", default=None, help="comma-separated (default: every cell)")
    add_oracles_and_json(mutate)
    mutate.set_defaults(run=cmd_mutate)

    cells = commands.add_parser("cells", help="registered cells and the oracles that run each")
    cells.set_defaults(run=cmd_cells)

    new = commands.add_parser(
        "new-cell", help="write a package of a new cell: its step program and registry entry"
    )
    new.add_argument("name", metavar="NAME", help="the cell's name, a lowercase identifier")
    new.add_argument(
        "--dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where (default: gradparity-cell-NAME)",
    )
    new.set_defaults(run=cmd_new_cell)

    certify = commands.add_parser(
        "certify", help="the agreement suite on the default configuration"
    )
    certify.add_argument("--workers", default="auto", help="pytest-xdist workers")
    certify.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help="where to write the report"
    )
    certify.add_argument(
        "--shard",
        type=shard_argument,
        default=None,
        metavar="K/N",
        help="run the K-th of N deterministic parts of the suite (for a CI matrix)",
    )
    certify.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        default=None,
        metavar="DIR",
        help="combine the report directories of --shard runs into one summary and report",
    )
    certify.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    certify.set_defaults(run=cmd_certify)

    report = commands.add_parser(
        "report", help="worst error per tensor group against sequence length, as plots"
    )
    add_report_arguments(report)
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
        "bench", help="forward+backward time of the reference and every framework; cache memory"
    )
    bench.add_argument(
        "--cells", default=None, help="comma-separated (default: cells with a fast reference)"
    )
    bench.add_argument("--repeats", type=positive, default=7, help="rounds per row (default 7)")
    bench.add_argument("--threads", type=positive, default=1, help="threads of every library")
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
        if getattr(args, "module", None) and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # --module my_kernels:MyLSTM, as python -m finds it
        return args.run(args)
    except (InputError, OracleUnavailable) as error:
        print(f"gradparity: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
