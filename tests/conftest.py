"""Shared test fixtures: the certify results log. Its import of ``oracles`` comes before any
NumPy import, which pins the settings that change result bits (``oracles.determinism``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from oracles.certify import RESULTS_ENV


@pytest.fixture(scope="session")
def results_log():
    """``log(row)`` appends a JSON line to this worker's results file when certify asked."""
    directory = os.environ.get(RESULTS_ENV)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if not directory:
        yield lambda row: None
        return
    with (Path(directory) / f"{worker}.jsonl").open("a") as handle:
        yield lambda row: handle.write(json.dumps(row) + "\n")
