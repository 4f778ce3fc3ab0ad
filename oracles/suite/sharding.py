"""Splitting a pytest run into N shards, deterministically: ``--gradparity-shard K/N`` keeps the
K-th of N parts of the collected tests, so that a CI matrix can run them on N machines and
``gradparity certify --merge`` combine the results.

Tests are split by group, never within one: the tests of one framework network (their
``xdist_group`` mark) stay together, so each shard builds or traces a network once. Groups are
dealt largest first to the shard with the fewest tests so far (ties: the lower shard, then the
group's name), which depends only on the collected test ids: every machine computes the same
split, and the N shards together run each test exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from gradparity.core.errors import InputError


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` as ``(2, 4)``: shard K of N, 1 ≤ K ≤ N."""
    index, sep, count = text.partition("/")
    try:
        k, n = int(index), int(count)
    except ValueError:
        k = n = 0
    if not sep or n < 1 or not 1 <= k <= n:
        raise InputError(f"shard {text!r}: expected K/N with 1 <= K <= N, e.g. 1/2")
    return k, n


def assign_shards(groups: Sequence[str], count: int) -> dict[str, int]:
    """Each group name (one entry per test, in collection order) → its shard, 1..count."""
    sizes: dict[str, int] = defaultdict(int)
    for group in groups:
        sizes[group] += 1
    loads = [0] * count
    shard_of = {}
    for group in sorted(sizes, key=lambda g: (-sizes[g], g)):
        shard = min(range(count), key=lambda i: (loads[i], i))
        loads[shard] += sizes[group]
        shard_of[group] = shard + 1
    return shard_of


def test_group(item) -> str:
    """The item's ``xdist_group`` name, else its own node id."""
    marker = item.get_closest_marker("xdist_group")
    if marker is not None:
        return str(marker.args[0] if marker.args else marker.kwargs.get("name"))
    return item.nodeid


def select_shard(items: list, shard: tuple[int, int]) -> tuple[list, list]:
    """(kept, deselected) items of shard ``(k, n)``."""
    k, n = shard
    groups = [test_group(item) for item in items]
    shard_of = assign_shards(groups, n)
    kept = [item for item, group in zip(items, groups, strict=True) if shard_of[group] == k]
    dropped = [item for item, group in zip(items, groups, strict=True) if shard_of[group] != k]
    return kept, dropped
