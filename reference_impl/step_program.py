"""A recurrent cell's step program: the equations of one time step over the primitive table, in
the slides' notation (``equations.parse``: ``out = op(arg, ...)``, ``#`` comments), with header
lines that declare its parameters and states. Parsed and validated here, and only here.

    # params: W_f[I,H] U_f[H,H] b_f[H] W_n[I,H] U_n[H,H] b_n[H]
    # states: h[H]
    # output: h                    (optional; the first state by default)
    f = sigmoid(...)
    ...
    h = add(keep, new)             # every state is assigned once: its value after the step

An equation may read the parameters, ``x_t`` (the step's input, [B, I]), ``<state>_prev``
(each state before the step, [B, width]), the cell's options by name (numbers: constants, as
the second argument of ``add_const``, ``mul_const`` or ``clip``), number literals, and the
values of earlier equations. Shapes follow the row-vector convention (``z = matmul(x_t, W)``
with ``W`` [I, H]); a dimension is ``I``, ``H``, a number or the name of an integer option.
The step's output is one of the states (``h``).

``parse_step`` checks the program as far as it can without numbers: names defined before they
are read, ops and their arities, every parameter used, every state assigned once, the output a
state. ``check_shapes`` then runs it once on small arrays, so a shape that does not fit is
reported at its equation. Every error is a ``ProgramError``: one line that names the program,
the equation's line and text, and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from .equations import Eq, parse
from .primitives import PRIMITIVES

_DECLARATION = re.compile(r"([A-Za-z_]\w*)\[([^\]]*)\]")
CONSTANT_OPS = {"add_const", "mul_const", "clip"}  # their second argument is a constant


class ProgramError(ValueError):
    """A step program that is not well formed; the message is one line."""


@dataclass(frozen=True)
class StepProgram:
    cell: str
    params: dict[str, tuple[str, ...]]  # name -> dims (symbolic)
    states: dict[str, str]  # name -> width (symbolic)
    output: str
    equations: tuple[Eq, ...]
    lines: tuple[tuple[int, str], ...]  # each equation's line number and text

    def where(self, index: int) -> str:
        number, text = self.lines[index]
        return f"step program of {self.cell}, line {number} {text!r}"

    def bound(self, options: Mapping[str, Any]) -> tuple[Eq, ...]:
        """The equations with each option's name replaced by its value (a float constant)."""
        return tuple(
            Eq(eq.out, eq.op, tuple(float(options[a]) if a in options else a for a in eq.args))
            for eq in self.equations
        )

    def dims(self, input_size: int, hidden: int, options: Mapping[str, Any]) -> dict:
        return {"I": input_size, "H": hidden, **{k: v for k, v in options.items() if _int(v)}}

    def param_shapes(self, input_size: int, hidden: int, options: Mapping[str, Any]) -> dict:
        dims = self.dims(input_size, hidden, options)
        return {name: tuple(_dim(d, dims) for d in shape) for name, shape in self.params.items()}

    def widths(
        self, hidden: int, options: Mapping[str, Any], input_size: int = 0
    ) -> dict[str, int]:
        dims = self.dims(input_size, hidden, options)
        widths = {name: _dim(width, dims) for name, width in self.states.items()}
        return {"outputs": widths[self.output], **widths}


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dim(token: str, dims: Mapping[str, int]) -> int:
    return int(token) if token.isdigit() else int(dims[token])


def _declarations(text: str, cell: str, header: str) -> dict[str, tuple[str, ...]]:
    found = {}
    for token in text.split():
        match = _DECLARATION.fullmatch(token)
        if match is None:
            raise ProgramError(
                f"step program of {cell}: '# {header}:' {token!r}; expected NAME[DIM,...]"
                " with dims I, H, numbers or integer options, e.g. W[I,H] b[H]"
            )
        found[match[1]] = tuple(d.strip() for d in match[2].split(",") if d.strip())
    return found


@cache
def parse_step(text: str, cell: str, options: tuple[str, ...] = ()) -> StepProgram:
    """The program in ``text`` (header and equations), checked; ``options``: the cell's option
    names, which equations may read as constants."""
    params: dict[str, tuple[str, ...]] = {}
    states: dict[str, tuple[str, ...]] = {}
    output = None
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        code, _, comment = raw.partition("#")
        header = comment.strip()
        if code.strip():
            lines.append((number, code.strip()))
        elif header.startswith("params:"):
            params |= _declarations(header[len("params:") :], cell, "params")
        elif header.startswith("states:"):
            states |= _declarations(header[len("states:") :], cell, "states")
        elif header.startswith("output:"):
            output = header[len("output:") :].strip()
    try:
        equations = tuple(parse(text))
    except ValueError as error:
        raise ProgramError(f"step program of {cell}: {error}") from None
    if not states:
        raise ProgramError(f"step program of {cell}: no '# states:' line; expected e.g. h[H]")
    widths = {}
    for name, dims in states.items():
        if len(dims) != 1:
            raise ProgramError(f"step program of {cell}: state {name} needs one width, e.g. h[H]")
        widths[name] = dims[0]
    program = StepProgram(
        cell, params, widths, output or next(iter(widths)), equations, tuple(lines)
    )
    _check_names(program, set(options))
    return program


def _check_names(program: StepProgram, options: set[str]) -> None:
    cell = program.cell
    readable = {*program.params, "x_t", *(f"{s}_prev" for s in program.states), *options}
    defined: set[str] = set()
    used: set[str] = set()
    for index, eq in enumerate(program.equations):
        where = program.where(index)
        if eq.op not in PRIMITIVES:
            known = ", ".join(sorted(PRIMITIVES))
            raise ProgramError(f"{where}: unknown op {eq.op!r}; known ops: {known}")
        arity = PRIMITIVES[eq.op].arity
        if len(eq.args) != arity:
            raise ProgramError(f"{where}: {eq.op} takes {arity} arguments, got {len(eq.args)}")
        for position, arg in enumerate(eq.args):
            constant = eq.op in CONSTANT_OPS and position == 1
            if constant and not (isinstance(arg, float) or arg in options):
                raise ProgramError(
                    f"{where}: the second argument of {eq.op} must be a number or an option"
                    f" ({', '.join(sorted(options)) or 'this cell has none'})"
                )
            if isinstance(arg, str) and not constant:
                if arg in options:
                    raise ProgramError(
                        f"{where}: option {arg!r} is a constant; use it as the second"
                        " argument of add_const, mul_const or clip"
                    )
                if arg not in readable and arg not in defined:
                    raise ProgramError(
                        f"{where}: {arg!r} is not defined (parameters, x_t,"
                        f" {', '.join(f'{s}_prev' for s in program.states)} and earlier"
                        " equations' names are)"
                    )
                used.add(arg)
        if eq.out in readable or eq.out in defined:
            raise ProgramError(f"{where}: {eq.out!r} is assigned again; every name once")
        defined.add(eq.out)
    unused = [p for p in program.params if p not in used]
    if unused:
        raise ProgramError(
            f"step program of {cell}: parameter {unused[0]} is never used by an equation"
        )
    missing = [s for s in program.states if s not in defined]
    if missing:
        raise ProgramError(
            f"step program of {cell}: state {missing[0]} is never updated; assign its new value"
            f" ({missing[0]} = ...), reading its old one as {missing[0]}_prev"
        )
    if program.output not in program.states:
        raise ProgramError(
            f"step program of {cell}: '# output: {program.output}' is not a state"
            f" ({', '.join(program.states)})"
        )


def check_shapes(
    program: StepProgram,
    options: Mapping[str, Any],
    batch: int = 2,
    input_size: int = 3,
    hidden: int = 5,
) -> None:
    """Run the program once on small arrays (B=2, I=3, H=5 by default: all distinct), so that a
    shape that does not fit fails at its equation, and every state comes out [B, width]."""
    sizes = f"I={input_size}, H={hidden}, B={batch}"
    rng = np.random.default_rng(0)
    shapes = program.param_shapes(input_size, hidden, options)
    widths = program.widths(hidden, options, input_size)
    values: dict[str, Any] = {n: rng.uniform(0.5, 1.0, s) for n, s in shapes.items()}
    values["x_t"] = rng.uniform(0.5, 1.0, (batch, input_size))
    values |= {f"{s}_prev": rng.uniform(0.5, 1.0, (batch, widths[s])) for s in program.states}
    for index, eq in enumerate(program.bound(options)):
        args = [values[a] if isinstance(a, str) else a for a in eq.args]
        described = ", ".join(
            f"{a} {list(np.shape(v))}"
            for a, v in zip(eq.args, args, strict=True)
            if isinstance(a, str)
        )
        try:
            with np.errstate(all="ignore"):
                values[eq.out] = np.asarray(PRIMITIVES[eq.op].forward(*args))
        except ValueError:
            raise ProgramError(
                f"{program.where(index)}: the shapes do not fit ({described}; {sizes})"
            ) from None
    for state, width in widths.items():
        if state in program.states and np.shape(values[state]) != (batch, width):
            raise ProgramError(
                f"step program of {program.cell}: state {state} comes out"
                f" {list(np.shape(values[state]))}, expected [B, {program.states[state]}]"
                f" = [{batch}, {width}] ({sizes})"
            )
