"""``gradparity mutate``: plant every catalogued bug and check that the agreement checks kill it.

Each mutant is applied to a copy of the reference (``gradparity.mutants``) and run through the
agreement checks of the default oracles on a few small cases of its cell: float64, float32
and, for recurrent cells, two stacked bidirectional layers. It is killed by the first failing
comparison (named with its tensor, oracle and case) and survives if every comparison passes.
A harness mutant (``gradparity.harness_mutants``: a bug in the comparison machinery) is run
against the meta-checks (``gradparity.suite.meta``) instead, and killed by the first that fails.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gradparity.catalog import all_cells
from gradparity.checks import compare_case
from gradparity.commands.arguments import cells_argument
from gradparity.converter_mutants import ConverterMutant, converter_mutants
from gradparity.core.cases import Case
from gradparity.core.errors import InputError
from gradparity.core.text import dumps, format_table
from gradparity.frameworks import all_frameworks
from gradparity.harness_mutants import HARNESS_MUTANTS, HarnessMutant, run_harness_mutant
from gradparity.mutants import MUTANTS, Mutant
from gradparity.program_mutants import ProgramMutant, program_mutants


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    killed: bool
    tensor: str = ""
    oracle: str = ""
    case_id: str = ""
    cases_run: int = 0

    @property
    def where(self) -> str:
        """What the bug is in: the reference's forward or backward pass, or a converter."""
        if isinstance(self.mutant, HarnessMutant):
            return "harness"
        framework = getattr(self.mutant, "framework", None)
        if framework:
            return f"converter ({framework})"
        return "forward" if self.mutant.forward else "backward"

    @property
    def part(self) -> str:
        """What the mutant tests: "reference", "adapters" (converters) or "harness"."""
        where = self.where
        return {"harness": "harness"}.get(where, "adapters" if "(" in where else "reference")

    def to_json(self) -> dict:
        return {
            "mutant": self.mutant.name,
            "cell": self.mutant.cell,
            "part": self.part,
            "pass": self.where,
            "killed": self.killed,
            "tensor": self.tensor,
            "oracle": self.oracle,
            "case": self.case_id,
            "cases_run": self.cases_run,
        }


def mutation_cases(mutant: Mutant | ProgramMutant) -> list[Case]:
    """The mutant's small case in float64 and float32 (a converter mutant: those its framework
    computes in), and (recurrent cells) the first one's sizes in two bidirectional layers."""
    dtypes = getattr(mutant, "dtypes", ("float64", "float32"))  # a converter's framework's
    base = mutant.case(dtypes[0])
    cases = [base, *(mutant.case(d) for d in dtypes[1:])]
    if base.spec.recurrent:
        stacked = Case.make(
            base.spec,
            options={**base.options_dict, "layers": 2, "bidirectional": True},
            input_size=base.input_size,
            hidden_size=base.hidden_size,
            seq_len=base.seq_len,
            batch=base.batch,
            lengths=base.lengths,
        )
        cases.append(stacked)
    return cases


def run_mutant(mutant: Mutant | ProgramMutant, oracles: Sequence[str] | None = None) -> Verdict:
    if isinstance(mutant, HarnessMutant):
        killed, check, _ = run_harness_mutant(mutant)
        return Verdict(mutant, killed, check, "meta-checks" if killed else "", "", 1)
    cases_run = 0
    patch = mutant.patch  # a converter mutant: its framework alone
    oracles = mutant.oracles or oracles
    with mutant.applied() as cell:
        for case in mutation_cases(mutant):
            cases_run += 1
            try:
                report = compare_case(case, oracles, cell=cell, patch=patch)
            except ValueError as error:  # e.g. a gradient of the wrong shape
                return Verdict(mutant, True, f"error: {error}", "", case.id, cases_run)
            if report.errors:  # an oracle could not compute the mutated case
                oracle, error = next(iter(report.errors.items()))
                return Verdict(mutant, True, f"error: {error}", oracle, case.id, cases_run)
            failures = report.failures()
            if failures:
                first = failures[0]
                return Verdict(mutant, True, first.tensor, first.oracle, case.id, cases_run)
    return Verdict(mutant, False, cases_run=cases_run)


def selected_mutants(
    cells: Iterable[str] | None = None,
) -> list[Mutant | ProgramMutant | ConverterMutant]:
    """The catalogue's mutants, the generic program mutants and the converter mutants of the
    installed frameworks, of registered cells (of ``cells`` when given)."""
    registered = all_cells()
    wanted = set(cells) if cells is not None else set(registered)
    installed = [m for m in converter_mutants() if not all_frameworks()[m.framework].missing()]
    every = [*MUTANTS, *program_mutants(), *installed]
    return [m for m in every if m.cell in registered and m.cell in wanted]


def by_part(verdicts: Sequence[Verdict]) -> dict[str, tuple[int, int]]:
    """(killed, mutants) of the reference, the adapters' converters and the harness."""
    parts: dict[str, tuple[int, int]] = {}
    for v in verdicts:
        killed, total = parts.get(v.part, (0, 0))
        parts[v.part] = (killed + v.killed, total + 1)
    return parts


def kill_rate(verdicts: Sequence[Verdict]) -> float:
    return sum(v.killed for v in verdicts) / len(verdicts) if verdicts else 0.0


def cmd_mutate(args: argparse.Namespace) -> int:
    cells = cells_argument(args.cells) if args.cells is not None else None
    mutants = [*selected_mutants(cells), *(HARNESS_MUTANTS if cells is None else ())]
    if not mutants:
        raise InputError("no mutant in the catalogue (gradparity/mutants.py) for these cells")
    verdicts = [run_mutant(m, args.oracles) for m in mutants]
    killed = sum(v.killed for v in verdicts)
    rate = kill_rate(verdicts)
    if args.json:
        rows = [v.to_json() for v in verdicts]
        summary = {"mutants": len(verdicts), "killed": killed, "kill_rate": rate}
        summary["by_part"] = {part: list(counts) for part, counts in by_part(verdicts).items()}
        print(dumps({**summary, "results": rows}))
    else:
        rows = [["mutant", "cell", "pass", "verdict", "first failing tensor", "case"]]
        for v in verdicts:
            verdict = "killed" if v.killed else "SURVIVED"
            where = f"{v.tensor} ({v.oracle})" if v.oracle else v.tensor
            rows.append([v.mutant.name, v.mutant.cell, v.where, verdict, where, v.case_id])
        print(format_table(rows))
        parts = ", ".join(f"{p} {k}/{n}" for p, (k, n) in by_part(verdicts).items())
        print(f"\nkilled {killed}/{len(verdicts)} mutants: kill rate {100 * rate:.1f}% ({parts})")
    return 0 if killed == len(verdicts) else 1
