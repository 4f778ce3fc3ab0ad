"""The registry's types: a cell is declared once, as data (``CellSpec``), with its options.

A ``CellSpec`` names the cell's reference module (which states the canonical parameter layout
and its shapes, ``param_shapes``), its states, its options, its sample cases for the agreement
suite and its known discrepancies. The catalogue (``gradparity.cells``, plus cells of other
packages: ``gradparity.catalog``) holds the entries; everything else reads them and never names
a cell. Framework builders live in each framework's folder; a cell from another package may
bring its own (``builders``).
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

from gradparity.core.errors import InputError, OracleMisconfigured
from gradparity.reference_impl.program_cell import ProgramCell
from gradparity.reference_impl.stack import Stack, is_stacked, qualify, unit_names
from gradparity.reference_impl.step_program import (
    ProgramError,
    StepProgram,
    check_shapes,
    parse_step,
)

Shapes = dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    choices: tuple[Any, ...] = ()
    help: str = ""
    minimum: float | None = None
    below_hidden: bool = False
    """The suite's cases keep a nonzero value below the hidden size (where a framework refuses
    more: torch's LSTM, ``proj_size < hidden_size``); other values stay valid elsewhere."""
    suite_values: tuple[Any, ...] = ()
    """The values the agreement suite covers pairwise with every other option's (with the
    default among them). Unset: the choices, or both values of a bool, or the default only."""

    @property
    def covered_values(self) -> tuple[Any, ...]:
        if self.suite_values:
            return self.suite_values
        if self.choices:
            return self.choices
        if isinstance(self.default, bool):
            return (self.default, not self.default)
        return (self.default,)

    def coerce(self, value: Any) -> Any:
        """``value`` (text from the CLI or a JSON value) converted to the default's type."""
        kind = type(self.default)
        try:
            if kind is bool and isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                converted = value.lower() in ("true", "1")
            elif kind is float and isinstance(value, bool):
                raise ValueError(value)
            else:
                converted = kind(value)
        except (TypeError, ValueError):
            raise InputError(
                f"option {self.name}={value!r} is not a {kind.__name__}"
                f" (expected e.g. {self.name}={self.default})"
            ) from None
        if kind is float and converted != converted:
            raise InputError(f"option {self.name} is NaN; expected a finite number")
        if self.minimum is not None and converted < self.minimum:
            raise InputError(f"option {self.name}={converted} must be at least {self.minimum}")
        if self.choices and converted not in self.choices:
            allowed = ", ".join(map(str, self.choices))
            raise InputError(f"option {self.name}={converted!r} is not one of {allowed}")
        return converted


@dataclass(frozen=True)
class Builder:
    """An oracle's builder for a cell: ``module:function``, imported only when used."""

    target: str
    kind: str = "native"  # "native": the framework's own layer; "composed": from its primitives
    stacks: bool = False  # True: handles the layers/bidirectional options itself (natively);
    # False: the oracle stacks single-layer nets from this builder
    replaces: str = ""
    """The stock layer it builds (``torch.nn.LSTM``): a user's module claiming to be a drop-in
    for it may take its place (the builder's ``layer`` argument, ``core.layers``)."""
    without_lengths: str = ""
    """Why its networks take no per-example lengths: a case with lengths is refused with this
    reason, before anything is built. Empty: the network says (``Net.ragged``), so that a
    builder that stops passing lengths is seen as one (a refusal it did not declare)."""

    def load(self) -> Callable[..., Any]:
        module, _, function = self.target.partition(":")
        try:
            return getattr(importlib.import_module(module), function)
        except (ImportError, AttributeError) as error:
            raise OracleMisconfigured(
                f"builder {self.target} cannot be imported: {type(error).__name__}: {error}"
            ) from None


@dataclass(frozen=True)
class Discrepancy:
    """A known disagreement: the matching comparisons are strict xfails with this reason."""

    oracle: str
    tensors: str  # fnmatch pattern over tensor names, e.g. "grad/*"
    reason: str
    dtype: str | None = None

    def matches(self, oracle: str, tensor: str, dtype: str) -> bool:
        return (
            oracle == self.oracle
            and fnmatch.fnmatchcase(tensor, self.tensors)
            and self.dtype in (None, dtype)
        )


PAIRWISE_SIZES = ((3, 4, 2), (4, 1, 3), (1, 6, 1), (2, 3, 2), (16, 20, 4))


@dataclass(frozen=True)
class CellSpec:
    name: str
    summary: str
    reference: str
    """The reference module. Its docstring states the canonical layout, and it has either or
    both of:

    - ``step_equations(options) -> str``: the cell's step program (``reference_impl/
      step_program.py``), which gives the parameters' shapes, the states' widths, the readable
      reference (``reference_impl/program_cell.py``) and a composed builder in every framework;
    - ``forward``, ``backward`` (hand-written, fused: the registered reference when present)
      and, without a program, ``param_shapes(I, H, options)`` (``{name: shape}`` of one layer
      and direction; its order is the order of comparisons) and optionally ``widths(H,
      options)`` (the width of "outputs" and of each state when not all H)."""
    sample_cases: Callable[[CellSpec], Iterable[Any]]  # -> gradparity.core.cases.Case
    states: tuple[str, ...] = ()
    recurrent: bool = True  # False: x is [B, I] and there is no time axis
    options: tuple[Option, ...] = ()
    builders: Mapping[str, Builder] = field(default_factory=dict)
    """Builders this cell brings for frameworks (framework name -> builder): for cells of other
    packages. The frameworks' own builders for this repository's cells live in their folders."""
    discrepancies: tuple[Discrepancy, ...] = ()
    pairwise_sizes: tuple[tuple[int, int, int], ...] = PAIRWISE_SIZES
    """(hidden size, time steps, batch) of the pairwise option cases (``core.cases``), taken in
    turn: the first that suits a row's options (``Option.below_hidden``)."""

    def module(self) -> ModuleType:
        return importlib.import_module(self.reference)

    def reference_module(self) -> Any:
        """The registered reference: the hand-written module, or the program's readable one."""
        module = self.module()
        return module if hasattr(module, "forward") else self.program_reference()

    def program_reference(self) -> ProgramCell:
        """The readable reference generated from the step program."""
        return ProgramCell(self.program)

    @property
    def has_program(self) -> bool:
        return hasattr(self.module(), "step_equations")

    def program(self, options: Mapping[str, Any]) -> StepProgram:
        """The step program for ``options``, checked (names, ops, shapes); a program that is
        not well formed is an ``InputError`` naming the equation."""
        text = self.module().step_equations(options)
        names = tuple(option.name for option in self.all_options)
        return _checked_program(text, self.name, names, tuple(sorted(options.items())))

    def param_shapes(self, input_size: int, hidden: int, options: Mapping[str, Any]) -> Shapes:
        """The parameters of one layer and direction reading ``input_size`` features."""
        if self.has_program:
            return self.program(options).param_shapes(input_size, hidden, options)
        return dict(self.module().param_shapes(input_size, hidden, options))

    @property
    def all_options(self) -> tuple[Option, ...]:
        """The cell's options, plus ``layers`` and ``bidirectional`` for every recurrent cell."""
        return self.options + (STACK_OPTIONS if self.recurrent else ())

    def reference_for(self, options: Mapping[str, Any], cell: ModuleType | None = None):
        """The reference (``cell`` replacing the registered module), stacked when asked."""
        cell = cell or self.reference_module()
        if is_stacked(options):
            return Stack(cell, options["layers"], options["bidirectional"])
        return cell

    def units(self, options: Mapping[str, Any]) -> list[str]:
        return unit_names(options.get("layers", 1), options.get("bidirectional", False))

    def unit_widths(self, hidden: int, options: Mapping[str, Any]) -> dict[str, int]:
        if self.has_program:
            return self.program(options).widths(hidden, options)
        widths = getattr(self.module(), "widths", None)
        if widths is not None:
            return dict(widths(hidden, options))
        return {"outputs": hidden, **dict.fromkeys(self.states, hidden)}

    def output_width(self, hidden: int, options: Mapping[str, Any]) -> int:
        directions = 2 if options.get("bidirectional", False) else 1
        return directions * self.unit_widths(hidden, options)["outputs"]

    def shapes(self, input_size: int, hidden: int, options: Mapping[str, Any]) -> Shapes:
        """Every parameter's shape, of every layer and direction (``param_shapes`` per unit)."""
        shapes: Shapes = {}
        for unit in self.units(options):
            layer = int(unit[1:].split("_")[0]) if unit else 0
            width = input_size if layer == 0 else self.output_width(hidden, options)
            unit_shapes = self.param_shapes(width, hidden, options)
            shapes |= {qualify(unit, name): shape for name, shape in unit_shapes.items()}
        return shapes

    def state_widths(self, hidden: int, options: Mapping[str, Any]) -> dict[str, int]:
        """Every state of every unit (``l0/h``, ``l0_reverse/h``, … or ``h``) and its width."""
        widths = self.unit_widths(hidden, options)
        return {qualify(u, s): widths[s] for u in self.units(options) for s in self.states}

    def resolve_options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every option with its default filled in; unknown or mistyped options are errors."""
        known = {option.name: option for option in self.all_options}
        unknown = sorted(set(given) - set(known))
        if unknown:
            expected = ", ".join(known) or "none"
            raise InputError(
                f"cell {self.name} has no option {unknown[0]!r} (its options: {expected})"
            )
        return {
            name: option.coerce(given.get(name, option.default)) for name, option in known.items()
        }

    def discrepancy(self, oracle: str, tensor: str, dtype: str) -> Discrepancy | None:
        return next((d for d in self.discrepancies if d.matches(oracle, tensor, dtype)), None)


@cache
def _checked_program(text: str, cell: str, names: tuple[str, ...], options: tuple) -> StepProgram:
    try:
        program = parse_step(text, cell, names)
        check_shapes(program, dict(options))
    except ProgramError as error:
        raise InputError(str(error)) from None
    return program


STACK_OPTIONS = (
    Option(
        "layers",
        1,
        minimum=1,
        help="stacked layers; layer k >= 1 reads layer k-1's outputs",
        suite_values=(1, 2),
    ),
    Option("bidirectional", False, help="a reverse direction per layer, outputs concatenated"),
)
