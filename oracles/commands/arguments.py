"""Arguments shared by the commands: a case's flags, oracle lists, and list-valued options
(one parser for every comma-separated list: ``core.text.comma_list``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection

from gradparity.catalog import all_cells, get_cell
from gradparity.core.cases import HEADS, Case
from gradparity.core.errors import InputError
from gradparity.core.layers import split_module_argument
from gradparity.core.text import comma_list, positive_int
from gradparity.core.validate import DTYPES
from gradparity.frameworks import all_oracles, default_oracles
from gradparity.suite.sharding import parse_shard


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Defaults shown in ``--help`` (none for flags, lists and options without one)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if "default" in text or default is None or default is False or default == []:
            return text
        if default == argparse.SUPPRESS:
            return text
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # argparse prints usage; we print one line and exit 2
        raise InputError(f"{message} (see {self.prog} --help)")


def listed(
    what: str,
    convert: Callable = str,
    choices: Callable[[], Collection[str]] | None = None,
    expected: str | None = None,
) -> Callable[[str], tuple]:
    """An argparse ``type`` for a comma-separated list (``choices`` is read when parsing)."""

    def parse(text: str) -> tuple:
        try:
            return comma_list(text, what, convert, choices() if choices else None, expected)
        except InputError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def positive(text: str) -> int:
    try:
        return positive_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None


ORACLES = listed("--oracles", choices=lambda: list(all_oracles()))
POSITIVE_INTS = listed("list", positive_int, expected="positive integers, e.g. 1,10,100")
DTYPE_LIST = listed("--dtypes", choices=lambda: DTYPES)
NAMES = listed("list")


def add_oracles_and_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--oracles",
        type=ORACLES,
        default=None,
        help=f"comma-separated (default: {','.join(default_oracles())}; also fd)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def shard_argument(text: str) -> str:
    try:
        k, n = parse_shard(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return f"{k}/{n}"


def module_argument(text: str) -> str:
    """``FRAMEWORK=MODULE:ATTR`` checked for its form (the module is imported by the oracle)."""
    try:
        framework, target = split_module_argument(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return f"{framework}={target}"


def add_module_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--module",
        action="append",
        type=module_argument,
        default=[],
        metavar="FRAMEWORK=MODULE:ATTR",
        help="your own module in place of FRAMEWORK's stock layer, e.g."
        " torch=mypkg.kernels:MyLSTM (repeatable, one per framework; docs/api.md)",
    )


def add_case_arguments(parser: argparse.ArgumentParser, oracles: bool = True) -> None:
    parser.add_argument("--cell", default="lstm", help="a registered cell (see `gradparity cells`)")
    parser.add_argument("--input-size", type=int, default=3, metavar="I", help="input width")
    parser.add_argument("--hidden-size", type=int, default=7, metavar="H", help="hidden width")
    parser.add_argument(
        "--seq-len", type=int, default=None, metavar="T", help="time steps (default: 13)"
    )
    parser.add_argument("--batch", type=int, default=2, metavar="B", help="batch size")
    parser.add_argument("--seed", type=int, default=0, help="seeds every tensor of the case")
    parser.add_argument("--dtype", default="float64", choices=DTYPES, help="computed in")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a cell option (repeatable; `gradparity cells` lists them)",
    )
    parser.add_argument("--layers", type=int, default=None, metavar="N", help="stacked layers")
    parser.add_argument("--bidirectional", action="store_true", help="two directions per layer")
    parser.add_argument(
        "--head", default="dense", choices=HEADS, help="a dense layer on the last output, or none"
    )
    parser.add_argument(
        "--num-classes", type=int, default=Case.num_classes, metavar="K", help="the head's width"
    )
    parser.add_argument("--no-probes", action="store_true", help="differentiate the loss alone")
    parser.add_argument(
        "--param-fill",
        type=float,
        default=None,
        metavar="VALUE",
        help="fill every parameter with VALUE instead of seeded values",
    )
    parser.add_argument(
        "--lengths",
        type=lengths_argument,
        default=None,
        metavar="N,N,...",
        help="valid steps of each batch row, e.g. 9,4,1 (one per row, each in [0, T];"
        " steps past a row's length are padding: docs/variable-length.md)",
    )
    if oracles:
        add_oracles_and_json(parser)


def _option(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise InputError(f"--option {text!r}: expected NAME=VALUE, e.g. --option forget_bias=1.0")
    return name.strip(), value.strip()


def lengths_argument(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected comma-separated integers, one per batch row (e.g. 9,4,1)"
        ) from None


def case_from_args(args: argparse.Namespace) -> Case:
    options = dict(_option(text) for text in args.option)
    spec = get_cell(args.cell)
    if not spec.recurrent and args.seq_len is not None:
        raise InputError(f"cell {args.cell} has no time axis; omit --seq-len")
    if args.layers is not None:
        options["layers"] = args.layers
    if args.bidirectional:
        options["bidirectional"] = True
    return Case.make(
        spec,
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
        lengths=args.lengths,
    )


def cells_argument(text: str | None, what: str = "--cells") -> tuple[str, ...]:
    """Registered cell names from a comma-separated list (every cell when ``text`` is None)."""
    if text is None:
        return tuple(all_cells())
    known = ", ".join(all_cells())
    names = comma_list(text, what, expected=f"a comma-separated list of registered cells ({known})")
    for name in names:
        if name not in all_cells():
            raise InputError(
                f"{what} {text!r}: unknown cell {name!r}; expected registered cells ({known})"
            )
    return names
