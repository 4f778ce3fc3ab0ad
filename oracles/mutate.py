"""``gradparity mutate``: plant every catalogued bug and check that the agreement checks kill it.

Each mutant is applied to a copy of the reference (``oracles.mutants``) and run through the
agreement checks of the default oracles on a few small cases of its cell: float64, float32
and, for recurrent cells, two stacked bidirectional layers. It is killed by the first failing
comparison (named with its tensor, oracle and case) and survives if every comparison passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from oracles.cases import Case
from oracles.harness import compare_case
from oracles.mutants import MUTANTS, Mutant
from oracles.registry import all_cells


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    killed: bool
    tensor: str = ""
    oracle: str = ""
    case_id: str = ""
    cases_run: int = 0

    def to_json(self) -> dict:
        return {
            "mutant": self.mutant.name,
            "cell": self.mutant.cell,
            "pass": "forward" if self.mutant.forward else "backward",
            "killed": self.killed,
            "tensor": self.tensor,
            "oracle": self.oracle,
            "case": self.case_id,
            "cases_run": self.cases_run,
        }


def mutation_cases(mutant: Mutant) -> list[Case]:
    cases = [mutant.case("float64"), mutant.case("float32")]
    if mutant.case().spec.recurrent:
        stacked = Case.make(
            mutant.cell,
            options={**dict(mutant.options), "layers": 2, "bidirectional": True},
            input_size=3,
            hidden_size=4,
            seq_len=5,
            batch=2,
        )
        cases.append(stacked)
    return cases


def run_mutant(mutant: Mutant, oracles: Sequence[str] | None = None) -> Verdict:
    cases_run = 0
    with mutant.applied() as cell:
        for case in mutation_cases(mutant):
            cases_run += 1
            try:
                failures = compare_case(case, oracles, cell=cell).failures()
            except ValueError as error:  # e.g. a gradient of the wrong shape
                return Verdict(mutant, True, f"error: {error}", "", case.id, cases_run)
            if failures:
                first = failures[0]
                return Verdict(mutant, True, first.tensor, first.oracle, case.id, cases_run)
    return Verdict(mutant, False, cases_run=cases_run)


def selected_mutants(cells: Iterable[str] | None = None) -> list[Mutant]:
    """The catalogue's mutants of registered cells (of ``cells`` when given)."""
    registered = all_cells()
    wanted = set(cells) if cells is not None else set(registered)
    return [m for m in MUTANTS if m.cell in registered and m.cell in wanted]


def kill_rate(verdicts: Sequence[Verdict]) -> float:
    return sum(v.killed for v in verdicts) / len(verdicts) if verdicts else 0.0
