"""gradparity's pytest plugin (entry point ``pytest11``), loaded in any pytest run where
gradparity is installed. It does nothing unless asked:

- ``--gradparity`` adds the agreement suite (``gradparity.suite.agreement``) to the run;
  ``--gradparity-cells lstm,gru`` and ``--gradparity-oracles torch,numerical`` narrow it, and
  ``--gradparity-module torch=mypkg.kernels:MyLSTM`` (repeatable) checks a module of yours in
  place of the framework's stock layer: the suite then runs the named cells (required) with the
  modules as their oracles, beside any oracles named. The ini options ``gradparity_cells``,
  ``gradparity_oracles`` and ``gradparity_modules`` (one per line) say the same in a project's
  configuration; the command line wins.
- your own tests: ``@pytest.mark.gradparity_cases("lstm", "gru")`` on a test that takes the
  ``gradparity_case`` argument runs it once per sample case of those cells (a ``Case``:
  ``gradparity.assert_agree(gradparity_case, modules=gradparity_modules)``); the
  ``gradparity_modules`` fixture holds the configured modules.
- ``--gradparity``, or the ini option ``gradparity_pin = true``, pins the process settings that
  change result bits (``core.process.pin_process``) before the test modules import NumPy;
- ``--gradparity-shard K/N`` keeps the K-th of N deterministic parts of the collected tests
  (``gradparity.suite.sharding``);
- the ``results_log`` fixture appends each comparison as a JSON line to the directory in
  ``GRADPARITY_RESULTS_DIR`` (``gradparity certify`` sets it), one file per worker; the
  controller then also reports progress and each test that did not pass (``suite.progress``).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from gradparity.core.errors import InputError
from gradparity.core.layers import split_module_argument
from gradparity.core.process import pin_process
from gradparity.core.text import comma_list, dumps
from gradparity.suite.progress import Progress
from gradparity.suite.sharding import parse_shard, select_shard

RESULTS_ENV = "GRADPARITY_RESULTS_DIR"
SUITE = Path(__file__).with_name("agreement.py")
MARKER = "gradparity_cases"


def _argument_type(parse):
    """``parse`` as an option's type: its ``InputError`` becomes pytest's usage message."""

    def checked(text: str):
        try:
            return parse(text)
        except InputError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    checked.__name__ = parse.__name__
    return checked


def _cells(text: str) -> tuple[str, ...]:
    return comma_list(text, "--gradparity-cells", expected="a comma-separated list of cells")


def _oracles(text: str) -> tuple[str, ...]:
    return comma_list(text, "--gradparity-oracles", expected="a comma-separated list of oracles")


def _module(text: str) -> str:
    framework, target = split_module_argument(text, "--gradparity-module")
    return f"{framework}={target}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradparity", "gradparity: certify gradients against frameworks")
    group.addoption(
        "--gradparity", action="store_true", help="run gradparity's agreement suite as well"
    )
    group.addoption(
        "--gradparity-cells",
        type=_argument_type(_cells),
        default=None,
        metavar="CELL,CELL",
        help="only these cells in the agreement suite (ini: gradparity_cells)",
    )
    group.addoption(
        "--gradparity-oracles",
        type=_argument_type(_oracles),
        default=None,
        metavar="ORACLE,ORACLE",
        help="only these oracles in the agreement suite (ini: gradparity_oracles)",
    )
    group.addoption(
        "--gradparity-module",
        action="append",
        type=_argument_type(_module),
        default=None,
        metavar="FRAMEWORK=MODULE:ATTR",
        help="your module in place of FRAMEWORK's stock layer (repeatable; ini:"
        " gradparity_modules)",
    )
    group.addoption(
        "--gradparity-shard",
        type=_argument_type(parse_shard),
        default=None,
        metavar="K/N",
        help="run the K-th of N deterministic parts of the collected tests (gradparity.suite."
        "sharding)",
    )
    parser.addini("gradparity_cells", "cells of the agreement suite (comma-separated)")
    parser.addini("gradparity_oracles", "oracles of the agreement suite (comma-separated)")
    parser.addini(
        "gradparity_modules", "FRAMEWORK=MODULE:ATTR modules, one per line", type="linelist"
    )
    parser.addini(
        "gradparity_pin",
        "pin threads, oneDNN and the allocator before NumPy loads (gradparity.core.process)",
        type="bool",
        default=False,
    )


@dataclass(frozen=True)
class Selection:
    """What the agreement suite runs: cells and oracles (None: every one), modules."""

    cells: tuple[str, ...] | None
    oracles: tuple[str, ...] | None
    modules: tuple[str, ...]

    def oracle_names(self, every: tuple[str, ...]) -> tuple[str, ...]:
        """The oracles: those named (every one when none are), each framework of a module
        replaced by it; with modules and no oracles named, the modules alone."""
        from gradparity.frameworks import with_modules

        if self.modules and self.oracles is None:
            return with_modules((), self.modules)
        return with_modules(every if self.oracles is None else self.oracles, self.modules)


def selection(config: pytest.Config) -> Selection:
    """The command line's choices, else the ini file's; bad input is a usage error."""
    try:
        cells = config.getoption("gradparity_cells", None)
        if cells is None and config.getini("gradparity_cells"):
            cells = _cells(config.getini("gradparity_cells"))
        oracles = config.getoption("gradparity_oracles", None)
        if oracles is None and config.getini("gradparity_oracles"):
            oracles = _oracles(config.getini("gradparity_oracles"))
        modules = config.getoption("gradparity_module", None)
        if modules is None:
            modules = [_module(line) for line in config.getini("gradparity_modules")]
    except InputError as error:
        raise pytest.UsageError(str(error)) from None
    if modules and cells is None:
        raise pytest.UsageError(
            "--gradparity-module needs --gradparity-cells (or gradparity_cells): the cells your"
            " module implements, e.g. lstm"
        )
    return Selection(cells, oracles, tuple(modules))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    if early_config.known_args_namespace.gradparity or early_config.getini("gradparity_pin"):
        pin_process()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "xdist_group(name): tests of one framework network run on one worker"
    )
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*cells): run the test once per sample case of these cells, as its"
        " gradparity_case argument",
    )
    results = os.environ.get(RESULTS_ENV)
    if results and not hasattr(config, "workerinput"):  # certify: the controller reports
        config.pluginmanager.register(Progress(Path(results)), "gradparity-progress")
    if config.getoption("gradparity"):
        _check(selection(config))
        if str(SUITE) not in config.args:
            config.args.append(str(SUITE))


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    shard = config.getoption("gradparity_shard", None)
    if shard is not None:
        kept, dropped = select_shard(items, shard)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _check(chosen: Selection) -> None:
    """Unknown cells, oracles or frameworks are a usage error before anything is collected."""
    from gradparity.catalog import get_cell
    from gradparity.frameworks import all_oracles, get_oracle

    try:
        for cell in chosen.cells or ():
            get_cell(cell)
        for oracle in chosen.oracle_names(tuple(all_oracles())):
            get_oracle(oracle)
    except InputError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gradparity_case" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker(MARKER)
    cells = marker.args if marker is not None else selection(metafunc.config).cells
    if not cells:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid} takes gradparity_case: mark it"
            f" @pytest.mark.{MARKER}('lstm', ...) or pass --gradparity-cells"
        )
    from gradparity.catalog import get_cell

    cases = []
    for name in cells:
        try:
            spec = get_cell(name)
        except InputError as error:
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: {error}") from None
        cases += list(spec.sample_cases(spec))
    metafunc.parametrize("gradparity_case", cases, ids=[case.id for case in cases])


@pytest.fixture(scope="session")
def gradparity_modules(pytestconfig: pytest.Config) -> tuple[str, ...]:
    """The ``FRAMEWORK=MODULE:ATTR`` modules given to ``--gradparity-module`` (or the ini)."""
    return selection(pytestconfig).modules


@pytest.fixture(scope="session")
def results_log():
    """``log(row)`` appends a JSON line to this worker's results file when certify asked."""
    directory = os.environ.get(RESULTS_ENV)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if not directory:
        yield lambda row: None
        return
    with (Path(directory) / f"{worker}.jsonl").open("a") as handle:
        yield lambda row: handle.write(dumps(row) + "\n")
