"""Generic planted bugs of a step program, for every cell whose registered reference is its
program's (a cell declared only as a program): each is made from the program itself, so a new
cell gets them with no line written for it.

- ``drop-fork-term``: the backward pass forgets one ``+=`` term: the cotangent that the last
  reader of a forking previous state (``h_prev`` read by several equations) sends back is
  dropped. Caught by the initial state's gradient.
- ``swap-operands``: the forward pass swaps the operands of the first non-commutative op
  (``matmul``, ``subtract``, ``divide``) whose swapped form still fits; the mutant's case is
  square (I = H = B = 4) so that ``matmul(h_prev, U)`` has a swapped form. A forward bug:
  invisible to the numerical oracles, caught by every framework oracle.
- ``wrong-rule``: the backward pass differentiates the first ``sigmoid`` with ``tanh``'s rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from gradparity.catalog import all_cells, get_cell
from gradparity.core.cases import Case
from gradparity.reference_impl.equations import Eq, vjp_of
from gradparity.reference_impl.primitives import PRIMITIVES
from gradparity.reference_impl.program_cell import ProgramCell
from gradparity.reference_impl.step_program import ProgramError, StepProgram, check_shapes

SQUARE = {"input_size": 4, "hidden_size": 4, "seq_len": 5, "batch": 4}
NON_COMMUTATIVE = ("matmul", "subtract", "divide")


@dataclass(frozen=True)
class ProgramMutant:
    name: str
    cell: str
    kind: str  # drop-fork-term, swap-operands, wrong-rule
    equation: int  # the index of the equation the bug is in
    caught_by: str
    forward: bool = False
    argument: int = 0  # drop-fork-term: the argument whose cotangent is dropped
    options: tuple = ()
    patch = None  # it edits the reference (a converter mutant: its builder module)
    oracles: tuple[str, ...] = ()  # any oracle may catch it

    def case(self, dtype: str = "float64", **sizes: int) -> Case:
        fields = SQUARE | sizes
        return Case.make(get_cell(self.cell), options=dict(self.options), dtype=dtype, **fields)

    def program(self, options) -> StepProgram:
        program = get_cell(self.cell).program(options)
        if self.kind != "swap-operands":
            return program
        equations = list(program.equations)
        eq = equations[self.equation]
        equations[self.equation] = Eq(eq.out, eq.op, tuple(reversed(eq.args)))
        return replace(program, equations=tuple(equations))

    def vjp(self, index: int, eq: Eq, dz, out, inputs) -> tuple:
        if index != self.equation:
            return vjp_of(index, eq, dz, out, inputs)
        if self.kind == "wrong-rule":
            return PRIMITIVES["tanh"].vjp(dz, out, *inputs)
        cotangents = list(vjp_of(index, eq, dz, out, inputs))
        cotangents[self.argument] = None  # the += that never happens
        return tuple(cotangents)

    @contextmanager
    def applied(self) -> Iterator[ProgramCell]:
        yield ProgramCell(self.program, self.vjp)


def _mutants_of(cell: str) -> list[ProgramMutant]:
    spec = get_cell(cell)
    options = spec.resolve_options({})
    program = spec.program(options)
    found = []
    readers: dict[str, list[tuple[int, int]]] = {}
    for index, eq in enumerate(program.equations):
        for position, arg in enumerate(eq.args):
            if isinstance(arg, str):
                readers.setdefault(arg, []).append((index, position))
    for state in program.states:
        reads = readers.get(f"{state}_prev", [])
        if len(reads) >= 2:
            index, position = reads[-1]
            found.append(
                ProgramMutant(
                    f"{cell}-program-drop-fork-term-{state}_prev",
                    cell,
                    "drop-fork-term",
                    index,
                    f"grad/{state}0",
                    argument=position,
                )
            )
            break
    for index, eq in enumerate(program.equations):
        if eq.op in NON_COMMUTATIVE and all(isinstance(a, str) for a in eq.args):
            mutant = ProgramMutant(
                f"{cell}-program-swap-operands-{eq.out}",
                cell,
                "swap-operands",
                index,
                "outputs",
                forward=True,
            )
            try:
                check_shapes(mutant.program(options), options, 4, 4, 4)
            except ProgramError:
                continue
            found.append(mutant)
            break
    sigmoid = next((i for i, eq in enumerate(program.equations) if eq.op == "sigmoid"), None)
    if sigmoid is not None:
        name = f"{cell}-program-wrong-rule-{program.equations[sigmoid].out}"
        found.append(ProgramMutant(name, cell, "wrong-rule", sigmoid, "grad/x"))
    return found


def program_mutants() -> list[ProgramMutant]:
    """The generic mutants of every cell whose registered reference is its step program."""
    return [
        mutant
        for name, spec in all_cells().items()
        if spec.has_program and not hasattr(spec.module(), "forward")
        for mutant in _mutants_of(name)
    ]
