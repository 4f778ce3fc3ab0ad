"""gradparity's pytest plugin (entry point ``pytest11``), loaded in any pytest run where
gradparity is installed. It does nothing unless asked:

- ``--gradparity`` adds the agreement suite (``gradparity.suite.agreement``) to the run;
  ``--gradparity-cells lstm,gru`` and ``--gradparity-oracles torch,numerical`` narrow it;
- ``--gradparity``, or the ini option ``gradparity_pin = true``, pins the process settings that
  change result bits (``core.process.pin_process``) before the test modules import NumPy;
- the ``results_log`` fixture appends each comparison as a JSON line to the directory in
  ``GRADPARITY_RESULTS_DIR`` (``gradparity certify`` sets it), one file per worker.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gradparity.core.process import pin_process
from gradparity.core.text import comma_list, dumps

RESULTS_ENV = "GRADPARITY_RESULTS_DIR"
SUITE = Path(__file__).with_name("agreement.py")


def _cells(text: str) -> tuple[str, ...]:
    return comma_list(text, "--gradparity-cells", expected="a comma-separated list of cells")


def _oracles(text: str) -> tuple[str, ...]:
    return comma_list(text, "--gradparity-oracles", expected="a comma-separated list of oracles")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradparity", "gradparity: certify gradients against frameworks")
    group.addoption(
        "--gradparity", action="store_true", help="run gradparity's agreement suite as well"
    )
    group.addoption(
        "--gradparity-cells",
        type=_cells,
        default=None,
        metavar="CELL,CELL",
        help="only these cells in the agreement suite",
    )
    group.addoption(
        "--gradparity-oracles",
        type=_oracles,
        default=None,
        metavar="ORACLE,ORACLE",
        help="only these oracles in the agreement suite",
    )
    parser.addini(
        "gradparity_pin",
        "pin threads, oneDNN and the allocator before NumPy loads (gradparity.core.process)",
        type="bool",
        default=False,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    if early_config.known_args_namespace.gradparity or early_config.getini("gradparity_pin"):
        pin_process()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "xdist_group(name): tests of one framework network run on one worker"
    )
    if config.getoption("gradparity") and str(SUITE) not in config.args:
        config.args.append(str(SUITE))


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
