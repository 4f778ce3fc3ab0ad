"""What ``gradparity certify`` says first when it fails, and about cells over their time budget:
from the suite's result rows and the outcomes of the tests that did not pass, so that a merged
run of shards says the same as one run."""

from __future__ import annotations

from collections import defaultdict

from gradparity.core.text import percent


def _test_id(case: str, oracle: str) -> str:
    return f"test_agreement[{case}-{oracle}]"


def failure_summary(rows: list[dict], outcomes: list[dict]) -> str:
    """Failing cells, the worst tensor of each, every failing test with a ``reproduce:``
    command; then the tests that failed without a comparison (an oracle that crashed, a strict
    xfail that passed). Empty when nothing failed."""
    bad = [r for r in rows if "ok" in r and not r["ok"] and not r["known_discrepancy"]]
    tests: dict[str, dict[str, dict]] = defaultdict(dict)  # cell -> test id -> worst row
    for row in bad:
        test = _test_id(row["case"], row["oracle"])
        worst = tests[row["cell"]].get(test)
        if worst is None or row["tolerance_used"] > worst["tolerance_used"]:
            tests[row["cell"]][test] = row
    compared = {test for by_test in tests.values() for test in by_test}
    others: dict[str, list[dict]] = defaultdict(list)
    for outcome in outcomes:
        name = outcome["test"].rpartition("::")[2]
        if name not in compared:
            others[outcome["cell"]].append(outcome | {"name": name})
    if not tests and not others:
        return ""
    count = sum(len(t) for t in tests.values()) + sum(len(o) for o in others.values())
    cells = sorted(set(tests) | set(others))
    lines = [
        f"CERTIFICATION FAILED: {count} failing tests in {len(cells)} cells ({', '.join(cells)})"
    ]
    for cell in cells:
        lines.append("")
        by_test = tests.get(cell, {})
        if by_test:
            worst = max(by_test.values(), key=lambda r: r["tolerance_used"])
            lines.append(
                f"{cell}: worst {worst['tensor']} of {worst['oracle']} on {worst['case']}:"
                f" max_rel_err {worst['max_rel_err']:.2e}, tolerance used"
                f" {percent(worst['tolerance_used'])}"
            )
        else:
            lines.append(f"{cell}:")
        for test, row in sorted(by_test.items()):
            lines.append(f"  FAILED {test}: worst {row['tensor']}")
            lines.append(f"    reproduce: {row['command']}")
        for outcome in others.get(cell, []):
            lines.append(f"  {outcome['outcome'].upper()} {outcome['name']}: {outcome['message']}")
            lines.append(f"    rerun: gradparity certify -- -k '{_param(outcome['name'])}'")
    return "\n".join(lines)


def _param(name: str) -> str:
    return name.partition("[")[2].rstrip("]") or name


def budget_warnings(seconds: dict[str, float], budget: float) -> list[str]:
    """One warning per cell over ``budget``, saying what to do."""
    return [
        f"cell {cell} spent {spent:.0f} s computing in the agreement suite, over its"
        f" {budget:.0f} s budget: give it fewer sample cases (its CellSpec.sample_cases: fewer"
        " seeds, sequence lengths, hidden sizes or option sets; see docs/adding-a-cell.md,"
        " 'Time budget')"
        for cell, spent in sorted(seconds.items())
        if spent > budget
    ]
