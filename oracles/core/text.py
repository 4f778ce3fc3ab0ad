"""Plain text for the command line: tables, and comma-separated lists given as arguments."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TypeVar

from gradparity.core.errors import InputError

T = TypeVar("T")


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; the first row is the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def comma_list(
    text: str,
    what: str,
    convert: Callable[[str], T] = str,  # type: ignore[assignment]
    choices: Collection[str] | None = None,
    expected: str | None = None,
) -> tuple[T, ...]:
    """The distinct items of a comma-separated argument, in order, converted by ``convert``.

    An empty list, an item ``convert`` rejects or one outside ``choices`` is an ``InputError``
    that names ``what`` was given and what was expected."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if expected is None:
        expected = "a comma-separated list" + (f" of {', '.join(choices)}" if choices else "")
    if not items:
        raise InputError(f"{what} {text!r}: expected {expected}")
    converted = []
    for item in items:
        if choices is not None and item not in choices:
            raise InputError(f"{what} {text!r}: unknown {item!r}; expected {expected}")
        try:
            converted.append(convert(item))
        except (TypeError, ValueError):
            raise InputError(
                f"{what} {text!r}: {item!r} is not valid; expected {expected}"
            ) from None
    return tuple(dict.fromkeys(converted))


def positive_int(text: str) -> int:
    """An integer >= 1 from text; ``ValueError`` otherwise."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value
