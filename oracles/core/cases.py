"""Cases: the sizes, seed, dtype and options of one comparison, and the seeded tensors they imply.

Every tensor is drawn from its own generator seeded by the case seed and the bytes of the cell
and tensor names (``"cell/tensor"``, all of them: NumPy's ``SeedSequence`` mixes the whole
list), so values are distinct per gate, per unit and per element, identical across processes,
and adding a tensor to a cell does not change the others. (A checksum of the name is not
enough: ``zlib.adler32`` gives ``cifg_lstm/l0/W_f`` and ``cifg_lstm/l1/U_g`` the same value,
which seeded two tensors alike; ``tests/test_harness.py`` checks every cell.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from gradparity.core.errors import InputError
from gradparity.core.pairwise import pairwise
from gradparity.core.registry import CellSpec
from gradparity.core.validate import DTYPES, check_lengths
from gradparity.reference_impl.network import Problem

HEADS = ("dense", "none")


@dataclass(frozen=True)
class Case:
    """One comparison's sizes, seed, dtype and options; ``spec`` is the cell's registry entry
    (not part of the case's identity, which is the cell's name)."""

    spec: CellSpec = field(compare=False, repr=False)
    cell: str
    input_size: int = 3
    hidden_size: int = 7
    seq_len: int = 13
    batch: int = 2
    seed: int = 0
    dtype: str = "float64"
    options: tuple[tuple[str, Any], ...] = ()
    head: str = "dense"  # "dense": logits = last @ W_y + b_y; "none": logits = last
    num_classes: int = 5
    probes: bool = True  # random cotangents on every output and final state
    param_fill: float | None = None  # a constant for every parameter instead of seeded values
    lengths: tuple[int, ...] | None = None  # per batch row: valid steps (reference_impl.ragged)

    @classmethod
    def make(cls, spec: CellSpec, options: Mapping[str, Any] | None = None, **sizes: Any) -> Case:
        """A validated case of ``spec``: options resolved (defaults filled in, typed)."""
        resolved = spec.resolve_options(options or {})
        if not spec.recurrent:
            sizes["seq_len"] = 1
        if sizes.get("lengths") is not None:
            steps, batch = sizes.get("seq_len", cls.seq_len), sizes.get("batch", cls.batch)
            sizes["lengths"] = tuple(map(int, check_lengths(spec, sizes["lengths"], batch, steps)))
        case = cls(spec=spec, cell=spec.name, options=tuple(sorted(resolved.items())), **sizes)
        case.validate(spec)
        return case

    @property
    def options_dict(self) -> dict[str, Any]:
        return dict(self.options)

    @property
    def id(self) -> str:
        spec = self.spec
        parts = [self.cell, f"I{self.input_size}", f"H{self.hidden_size}"]
        if spec.recurrent:
            parts.append(f"T{self.seq_len}")
        parts += [f"B{self.batch}", f"s{self.seed}", self.dtype]
        defaults = {o.name: o.default for o in spec.all_options}
        parts += [f"{k}={v}" for k, v in self.options if defaults.get(k) != v]
        if self.head != "dense":
            parts.append(f"head={self.head}")
        if self.param_fill is not None:
            parts.append(f"fill={self.param_fill}")
        if self.lengths is not None:
            parts.append("len=" + ".".join(map(str, self.lengths)))
        return "-".join(parts)

    def cli_args(self) -> list[str]:
        spec = self.spec
        args = ["--cell", self.cell, "--input-size", str(self.input_size)]
        args += ["--hidden-size", str(self.hidden_size)]
        if spec.recurrent:
            args += ["--seq-len", str(self.seq_len)]
        args += ["--batch", str(self.batch), "--seed", str(self.seed), "--dtype", self.dtype]
        defaults = {o.name: o.default for o in spec.all_options}
        args += [
            a for k, v in self.options if defaults.get(k) != v for a in ("--option", f"{k}={v}")
        ]
        if self.head != "dense":
            args += ["--head", self.head]
        if self.num_classes != Case.num_classes:
            args += ["--num-classes", str(self.num_classes)]
        if not self.probes:
            args.append("--no-probes")
        if self.param_fill is not None:
            args += ["--param-fill", repr(self.param_fill)]
        if self.lengths is not None:
            args += ["--lengths", ",".join(map(str, self.lengths))]
        return args

    def command(self, oracle: str | None = None) -> str:
        """The one-line command that compares this case (with ``oracle`` alone: a name, or
        ``FRAMEWORK=MODULE:ATTR`` for a user's module)."""
        extra = []
        if oracle:
            framework, replaced, _ = oracle.partition("=")
            extra = ["--oracles", framework] + (["--module", oracle] if replaced else [])
        return " ".join(["gradparity", "compare", *self.cli_args(), *extra])

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "spec"}
        data["options"] = self.options_dict
        return data

    def validate(self, spec: CellSpec) -> None:
        sizes = {"input_size": self.input_size, "hidden_size": self.hidden_size}
        sizes |= {"batch": self.batch, "num_classes": self.num_classes}
        if spec.recurrent:
            sizes["seq_len"] = self.seq_len
        for name, value in sizes.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name} must be a positive integer, got {value!r}")
        if self.dtype not in DTYPES:
            raise InputError(f"dtype {self.dtype!r} is not supported; expected one of {DTYPES}")
        if self.head not in HEADS:
            raise InputError(f"head {self.head!r} is not supported; expected one of {HEADS}")
        if self.param_fill is not None and not math.isfinite(self.param_fill):
            raise InputError(f"param_fill must be a finite number, got {self.param_fill!r}")
        if self.lengths is not None:
            check_lengths(spec, self.lengths, self.batch, self.seq_len)


def _generator(case: Case, tensor: str) -> np.random.Generator:
    return np.random.default_rng([case.seed, *f"{case.cell}/{tensor}".encode()])


def _uniform(case: Case, tensor: str, shape: tuple[int, ...], bound: float) -> np.ndarray:
    return _generator(case, tensor).uniform(-bound, bound, size=shape)


def make_problem(case: Case) -> Problem:
    """The seeded tensors of ``case``, in float64 cast to the case's dtype."""
    spec = case.spec
    options = case.options_dict
    batch, hidden = case.batch, case.hidden_size
    scale = 1.0 / math.sqrt(hidden)
    shapes = spec.shapes(case.input_size, hidden, options)
    if case.param_fill is None:
        params = {name: _uniform(case, name, shape, scale) for name, shape in shapes.items()}
    else:
        params = {name: np.full(shape, case.param_fill) for name, shape in shapes.items()}

    x_shape = (batch, case.seq_len, case.input_size) if spec.recurrent else (batch, case.input_size)
    width = spec.output_width(hidden, options)
    states = spec.state_widths(hidden, options)
    classes = case.num_classes if case.head == "dense" else width
    head = {}
    if case.head == "dense":
        head = {
            "W_y": _uniform(case, "W_y", (width, classes), scale),
            "b_y": _uniform(case, "b_y", (classes,), 0.5),
        }
    state0 = {s: _uniform(case, f"{s}0", (batch, w), 1.0) for s, w in states.items()}
    probes = {}
    if case.probes:
        out_shape = (*x_shape[:-1], width)
        probes = {"outputs": _uniform(case, "probe/outputs", out_shape, 1.0)}
        probes |= {s: _uniform(case, f"probe/{s}", (batch, w), 1.0) for s, w in states.items()}
    problem = Problem(
        params=params,
        x=_uniform(case, "x", x_shape, 1.0),
        state0=state0,
        targets=_generator(case, "targets").integers(0, classes, size=batch),
        options=options,
        head=head,
        probes=probes,
        lengths=None if case.lengths is None else np.asarray(case.lengths, dtype=np.int64),
    )
    return problem.astype(case.dtype)


def tensor_names(case: Case) -> list[str]:
    """Every tensor the comparison of ``case`` covers, values first, in a stable order."""
    spec = case.spec
    options = case.options_dict
    states = spec.state_widths(case.hidden_size, options)
    values = ["outputs", *(f"{s}_T" for s in states), "loss"]
    shapes = spec.shapes(case.input_size, case.hidden_size, options)
    grads = [*(f"grad/{p}" for p in shapes), "grad/x", *(f"grad/{s}0" for s in states)]
    if case.head == "dense":
        grads += ["grad/W_y", "grad/b_y"]
    return values + grads


def tensor_kind(tensor: str) -> str:
    return "gradient" if tensor.startswith("grad/") else "value"


def grid(
    spec: CellSpec,
    seeds: tuple[int, ...] = (0, 1),
    seq_lens: tuple[int, ...] = (1, 2, 7, 50),
    hidden_sizes: tuple[int, ...] = (1, 3, 16, 64),
    batches: tuple[int, ...] = (1, 4),
    dtypes: tuple[str, ...] = DTYPES,
    input_size: int = 5,
    options_by_seed: Mapping[int, Mapping[str, Any]] | None = None,
    stacked: bool = True,
) -> list[Case]:
    """The standard agreement grid: seeds × T × H × B × dtype (T only for recurrent cells).

    ``input_size`` differs from every hidden size so that a transposed weight cannot pass.
    ``options_by_seed`` varies the options with the seed, covering them without a new axis.
    A recurrent cell also gets a few stacked cases (2 layers, bidirectional): every layer's
    and direction's parameters and states compared.
    """
    options_by_seed = options_by_seed or {}
    lengths = seq_lens if spec.recurrent else (1,)
    extra = []
    if stacked and spec.recurrent:
        extra = [
            Case.make(
                spec,
                options={**options_by_seed.get(seeds[-1], {}), "layers": 2, "bidirectional": True},
                input_size=input_size,
                hidden_size=3,
                seq_len=steps,
                batch=2,
                seed=seeds[-1],
                dtype=dtype,
            )
            for steps in (1, 7)
            for dtype in dtypes
        ]
    return extra + [
        Case.make(
            spec,
            options=options_by_seed.get(seed, {}),
            input_size=input_size,
            hidden_size=hidden,
            seq_len=steps,
            batch=batch,
            seed=seed,
            dtype=dtype,
        )
        for seed in seeds
        for steps in lengths
        for hidden in hidden_sizes
        for batch in batches
        for dtype in dtypes
    ]


PAIRWISE_SEED = 100
"""Pairwise case k has seed PAIRWISE_SEED + k (the grids use seeds below it)."""


LENGTHS_FACTOR = "lengths"
LENGTHS = ("none", "per-example")
"""The values of the pairwise factor ``lengths``: a case without per-example lengths, or with
``per_example_lengths``. A recurrent cell has it for an oracle that takes lengths."""


def pairwise_factors(
    spec: CellSpec, dtypes: tuple[str, ...] = DTYPES, lengths: bool = False
) -> dict[str, tuple]:
    """The factors the suite covers pairwise for ``spec``: each option's covered values
    (``Option.covered_values``; ``layers`` and ``bidirectional`` for a recurrent cell), the
    dtypes and, with ``lengths``, for a recurrent cell, ``LENGTHS``."""
    factors = {o.name: o.covered_values for o in spec.all_options} | {"dtype": tuple(dtypes)}
    if lengths and spec.recurrent:
        factors[LENGTHS_FACTOR] = LENGTHS
    return factors


def factor_values(case: Case) -> dict[str, Any]:
    """The case's value of every pairwise factor (``pairwise_factors``) it has."""
    values = {**case.options_dict, "dtype": case.dtype}
    if case.spec.recurrent:
        values[LENGTHS_FACTOR] = LENGTHS[case.lengths is not None]
    return values


def per_example_lengths(steps: int, batch: int, k: int) -> tuple[int, ...]:
    """The lengths of the ``k``-th case with per-example lengths: falling from the longest row
    to 1 over the batch (``batch`` ≥ 2); the longest row is ``steps`` long for an even ``k``,
    one step shorter for an odd one (padding at every row's end)."""
    longest = steps - k % 2
    return tuple(longest - round(i * (longest - 1) / (batch - 1)) for i in range(batch))


def pairwise_cases(
    spec: CellSpec, dtypes: tuple[str, ...] = DTYPES, lengths: bool = False
) -> list[Case]:
    """Cases in which every pair of values of two factors (``pairwise_factors``) appears
    together, at small sizes (``spec.pairwise_sizes`` in turn, the first valid one per row; a
    row with per-example lengths takes one of at least 3 steps and 2 rows, and lengths
    ``per_example_lengths``)."""
    rows = pairwise(pairwise_factors(spec, dtypes, lengths))
    sizes = spec.pairwise_sizes
    cases = []
    for k, row in enumerate(rows):
        dtype = row.pop("dtype")
        ragged = row.pop(LENGTHS_FACTOR, LENGTHS[0]) == LENGTHS[1]
        ragged_so_far = sum(case.lengths is not None for case in cases)
        errors = []
        for shift in range(len(sizes)):
            hidden, steps, batch = sizes[(k + shift) % len(sizes)]
            if any(row[o.name] >= hidden for o in spec.all_options if o.below_hidden):
                continue
            if ragged and (steps < 3 or batch < 2):
                continue
            try:
                case = Case.make(
                    spec,
                    options=row,
                    input_size=5,
                    hidden_size=hidden,
                    seq_len=steps if spec.recurrent else 1,
                    batch=batch,
                    seed=PAIRWISE_SEED + k,
                    dtype=dtype,
                    lengths=per_example_lengths(steps, batch, ragged_so_far) if ragged else None,
                )
            except InputError as error:
                errors.append(str(error))
                continue
            cases.append(case)
            break
        else:
            found = f": {errors[-1]}" if errors else ""
            raise InputError(
                f"cell {spec.name}: no pairwise size {sizes} suits options {row}"
                f"{' with per-example lengths' if ragged else ''}{found}"
            )
    return cases


RAGGED_SEED = 200
"""Ragged case k has seed RAGGED_SEED + k."""

RAGGED_CASES = (
    # (dtype, layers, bidirectional, seq_len, lengths): ragged with a length-1 row through a
    # stack of two bidirectional layers; a length-0 row; every length equal. Lengths with each
    # option, layers, directions and dtype: the pairwise cases (``pairwise_cases``).
    ("float64", 2, True, 4, (4, 1, 2)),
    ("float64", 1, False, 4, (4, 0, 2)),
    ("float32", 1, False, 3, (3, 3)),
)


def ragged_cases(spec: CellSpec, dtypes: tuple[str, ...] = DTYPES) -> list[Case]:
    """The suite's per-example-lengths cases of a recurrent cell (``RAGGED_CASES``, at the
    cell's first pairwise size's hidden width), with the cell's default options."""
    if not spec.recurrent:
        return []
    hidden = max(3, spec.pairwise_sizes[0][0])
    return [
        Case.make(
            spec,
            options={"layers": layers, "bidirectional": bidirectional},
            input_size=5,
            hidden_size=hidden,
            seq_len=steps,
            batch=len(lengths),
            seed=RAGGED_SEED + k,
            dtype=dtype,
            lengths=lengths,
        )
        for k, (dtype, layers, bidirectional, steps, lengths) in enumerate(RAGGED_CASES)
        if dtype in dtypes
    ]
