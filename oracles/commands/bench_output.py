"""``gradparity bench`` on the terminal: the timing and memory tables."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from gradparity.commands.bench import bench, parse_cells
from gradparity.core.text import dumps, format_table


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.2f}"


def _x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    return f"{size / 2**20:.2f} MiB" if size >= 2**20 else f"{size / 2**10:.1f} KiB"


def table_rows(result: Mapping[str, Any]) -> tuple[list[list[str]], list[list[str]]]:
    """The timing table and the memory table, as rows of text (headers first)."""
    frameworks = result["frameworks"]
    readable = any(r["readable_s"] is not None for r in result["rows"])
    timing = [["cell", "B", "T", "I", "H", "dtype", "ref ms", *(f"{n} ms" for n in frameworks)]]
    timing[0] += [f"ref/{n}" for n in frameworks]
    timing[0] += [f"cpu: ref/{n}" for n in frameworks]
    timing[0] += ["readable ms"] if readable else []
    for r in result["rows"]:
        timing.append(
            [
                r["cell"],
                *(str(r[k]) for k in ("batch", "seq_len", "input_size", "hidden_size")),
                r["dtype"],
                *(_ms(r[f"{name}_s"]) for name in ("reference", *frameworks)),
                *(_x(r[f"ratio_{name}"]) for name in frameworks),
                *(_x(r[f"ratio_{name}_cpu"]) for name in frameworks),
                *([_ms(r["readable_s"])] if readable else []),
            ]
        )
    memory = [["cell", "B", "T", "H", "dtype", "cache", "without x", "readable's"]]
    memory[0] += ["forward peak", "fwd+bwd peak"]
    for m in result["memory"]:
        memory.append(
            [
                m["cell"],
                *(str(m[k]) for k in ("batch", "seq_len", "hidden_size")),
                m["dtype"],
                _size(m["cache_bytes"]),
                _size(m["cache_bytes_without_x"]),
                _size(m["readable_cache_bytes"]),
                _size(m["forward_peak_bytes"]),
                _size(m["forward_backward_peak_bytes"]),
            ]
        )
    return timing, memory


def cmd_bench(args: argparse.Namespace) -> int:
    result = bench(
        parse_cells(args.cells),
        args.repeats,
        quick=args.quick,
        threads=args.threads,
        readable=args.readable,
    )
    if args.json:
        print(dumps(result))
    else:
        env = result["environment"]
        print(f"{env['cpu']}, {env['cores']} cores; threads {env['threads']}")
        print(", ".join(f"{k} {v}" for k, v in env["versions"].items()))
        print(f"allocator: {env['allocator']}")
        print(result["method"])
        timing, memory = table_rows(result)
        print("\n" + format_table(timing))
        print("\nreference BPTT cache (arrays held for the backward pass) and tracemalloc peaks")
        print(format_table(memory))
    for entry in result["skipped"]:
        print(f"skipped {entry['oracle']}: {entry['reason']}", file=sys.stderr)
    refusals = {(n, row["dtype"]): r for row in result["rows"] for n, r in row["refused"].items()}
    for (name, dtype), reason in sorted(refusals.items()):
        print(f"not timed: {name} {dtype}: {reason}", file=sys.stderr)
    return 0
