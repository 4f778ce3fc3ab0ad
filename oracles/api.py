"""The public API's functions that are not a module's own (see ``gradparity.__doc__`` and
docs/api.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gradparity.catalog import get_cell
from gradparity.checks import compare_case, reproduce_fixture
from gradparity.core.cases import Case
from gradparity.core.errors import OracleMisconfigured
from gradparity.core.loop import Report
from gradparity.io.fixtures import find_fixture, load_fixture


def case(cell: str, options: Mapping[str, Any] | None = None, **sizes: Any) -> Case:
    """A case of a registered cell: ``case("lstm", {"forget_bias": 1.0}, seq_len=4)``; sizes
    are ``input_size``, ``hidden_size``, ``seq_len``, ``batch``, ``seed``, ``dtype``, ``head``,
    ``num_classes``, ``probes``, ``param_fill``, ``lengths`` (``Case``'s fields and defaults)."""
    return Case.make(get_cell(cell), options, **sizes)


def sample_cases(cell: str) -> list[Case]:
    """The cell's sample cases: what the agreement suite runs for it."""
    spec = get_cell(cell)
    return list(spec.sample_cases(spec))


def reproduce(fixture: str | Path, oracles: Iterable[str] | None = None) -> Report:
    """A fixture (a file, or the name of one gradparity ships) against the reference and every
    available oracle (``oracles`` restricts them)."""
    return reproduce_fixture(load_fixture(find_fixture(str(fixture))), oracles)


def disagreement(case: Case, failures: Sequence[str], compared: int) -> str:
    """The message of a failed agreement check, as the suite's: how many of how many tensors
    disagree on which case, then each failure's full message."""
    return f"{len(failures)} of {compared} tensors disagree on {case.id}:\n\n" + "\n\n".join(
        failures
    )


def assert_agree(
    case: Case, oracles: Iterable[str] | None = None, modules: Sequence[str] = ()
) -> Report:
    """``compare_case(case, oracles, modules)``, raising ``AssertionError`` unless it agrees:
    the message names every tensor that disagrees with both sides, the case, the largest
    difference with its index and values, the tolerance and the command that reproduces it
    (an oracle that failed says so; one that compared nothing is no agreement). A module that
    does not fit is bad input: ``OracleMisconfigured``."""
    report = compare_case(case, oracles, modules)
    if report.broken:
        raise OracleMisconfigured("; ".join(report.broken.values()))
    if report.agree:
        return report
    if not report.comparisons:
        skipped = "; ".join(f"{name}: {why}" for name, why in report.skipped.items())
        raise AssertionError(f"nothing was compared on {case.id} ({skipped or 'no oracle'})")
    failures = report.failure_messages()
    failures += [f"{name} failed on {case.id}: {error}" for name, error in report.errors.items()]
    raise AssertionError(disagreement(case, failures, len(report.comparisons)))
