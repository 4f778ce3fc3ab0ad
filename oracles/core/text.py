"""Plain text for the command line: tables, and comma-separated lists given as arguments."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from gradparity.core.errors import InputError

T = TypeVar("T")


def strict(value: Any) -> Any:
    """``value`` made strict JSON: a non-finite float (NaN, ±Infinity, which JSON has no words
    for) becomes ``null``, and its dict gets ``"<key>_nonfinite": "nan" | "inf" | "-inf"``
    saying what it was."""
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, float) and not math.isfinite(item):
                cleaned[key] = None
                cleaned[f"{key}_nonfinite"] = _nonfinite_word(item)
            else:
                cleaned[key] = strict(item)
        return cleaned
    if isinstance(value, list | tuple):
        return [None if isinstance(v, float) and not math.isfinite(v) else strict(v) for v in value]
    return value


def _nonfinite_word(value: float) -> str:
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def dumps(value: Any, **options: Any) -> str:
    """Strict JSON of ``value`` (``strict``), never ``NaN`` or ``Infinity``."""
    return json.dumps(strict(value), allow_nan=False, **options)


def percent(fraction: float) -> str:
    """A share as a percentage, capped: ``>1000%`` past ten times (a tolerance used by a wrong
    gradient can be 10^15)."""
    if not math.isfinite(fraction) or fraction > 10:
        return ">1000%"
    return f"{fraction:.0%}"


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
