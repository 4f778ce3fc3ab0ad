"""The forward file of ``gradparity derivation``: a program in ``equations`` syntax with header
comments ``# inputs: W[3,2] x[2] b[3] P[1,3]`` (``[N]`` is an N×1 column, ``[]`` a 1×1 scalar)
and ``# output: L``; inputs are seeded per name, ``default_rng(zlib.adler32(name))``, U(-1, 1).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from gradparity.core.errors import InputError
from gradparity.reference_impl.equations import Eq, parse


@dataclass(frozen=True)
class ForwardSpec:
    program: list[Eq]
    lines: list[int]
    """The file line of each equation."""
    shapes: dict[str, tuple[int, ...]]
    """Declared input shapes, as stored: ``[N]`` → (N, 1), ``[]`` → (1, 1)."""
    output: str | None


_DECL = re.compile(r"([A-Za-z_]\w*)\[([\d\s,]*)\]")
_OUTPUT = re.compile(r"output:\s*([A-Za-z_]\w*)\s*")
_DECL_FORM = "expected NAME[N] (an N x 1 column), NAME[N,M] or NAME[] (a scalar), e.g. x[2] W[3,2]"


def parse_shapes(text: str, where: str = "--inputs") -> dict[str, tuple[int, ...]]:
    """``"x_t[2] W[3,2] s[]"`` → ``{"x_t": (2, 1), "W": (3, 2), "s": (1, 1)}``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for token in re.findall(r"[^\s\[;]*\[[^\]]*\]?|[^\s;]+", text):
        match = _DECL.fullmatch(token)
        dims = [d.strip() for d in match[2].split(",")] if match else []
        if match is None or any(not d.isdigit() or int(d) < 1 for d in dims if d) or len(dims) > 2:
            raise InputError(f"{where}: bad input declaration {token!r}; {_DECL_FORM}")
        sizes = tuple(int(d) for d in dims if d)
        shapes[match[1]] = (*sizes, 1) if len(sizes) == 1 else sizes or (1, 1)
    return shapes


def read_forward(text: str) -> ForwardSpec:
    """An ``equations`` program plus its ``# inputs:`` and ``# output:`` header comments."""
    shapes: dict[str, tuple[int, ...]] = {}
    output = None
    lines = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        code, _, comment = raw.partition("#")
        if code.strip():
            lines.append(lineno)
        header = comment.strip()
        if not code.strip() and header.startswith("inputs:"):
            shapes.update(parse_shapes(header[len("inputs:") :], f"line {lineno}"))
        elif not code.strip() and (match := _OUTPUT.fullmatch(header)):
            output = match[1]
    try:
        program = parse(text)
    except ValueError as error:
        raise InputError(f"forward {error}") from None
    return ForwardSpec(program, lines, shapes, output)


def seeded_inputs(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """U(-1, 1) values, seeded by the name: distinct per element, the same in every run."""
    return {
        name: np.random.default_rng(zlib.adler32(name.encode())).uniform(-1.0, 1.0, shape)
        for name, shape in shapes.items()
    }
