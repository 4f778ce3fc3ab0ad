"""The table of frameworks, and the table of oracles it implies.

A framework is one folder of this package that exports ``FRAMEWORK`` (``core.framework``), or
``FRAMEWORKS`` for a folder that serves several (Keras on two backends), and one row of
``BUILTIN_FRAMEWORKS``; a framework of another package registers through the
entry-point group ``gradparity.frameworks`` instead (docs/adding-a-framework.md). Every command,
report and test takes its list of frameworks from here.

The oracles are the frameworks' (in table order), then the numerical ones: ``numerical``
(complex step) and ``fd`` (central differences, on request).
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Sequence
from functools import cache
from types import ModuleType
from typing import Any

from gradparity.catalog import get_cell, load_entry_points
from gradparity.core.edits import SourcePatch
from gradparity.core.errors import InputError, OracleUnavailable
from gradparity.core.framework import Framework, Runner
from gradparity.core.isolation import worker
from gradparity.core.loop import Oracle
from gradparity.core.registry import CellSpec
from gradparity.numerical.oracles import ComplexStepOracle, FiniteDifferenceOracle
from gradparity.reference_impl.equations import Eq
from gradparity.reference_impl.network import Problem

BUILTIN_FRAMEWORKS = (
    "gradparity.torch",
    "gradparity.tf",
    "gradparity.keras",
)
ENTRY_POINT_GROUP = "gradparity.frameworks"
IN_PROCESS_ENV = "GRADPARITY_IN_PROCESS"
"""Set to 1 to run every framework in the calling process (debugging; no crash isolation)."""

Tensors = dict[str, Any]


@cache
def all_frameworks() -> dict[str, Framework]:
    found: dict[str, Framework] = {}
    builtin = []
    for path in BUILTIN_FRAMEWORKS:
        module = importlib.import_module(path)
        described = getattr(module, "FRAMEWORKS", None) or (module.FRAMEWORK,)
        builtin += [(path, framework) for framework in described]
    for origin, framework in builtin + load_entry_points(ENTRY_POINT_GROUP, Framework):
        if framework.name in found or framework.name in NUMERICAL:
            raise InputError(f"framework {framework.name!r} from {origin} is registered twice")
        found[framework.name] = framework
    return found


class FrameworkOracle:
    """A framework's oracle as the harness sees it: the work happens in the framework's worker
    process (or here, for a framework that is not isolated)."""

    gradient_kind = "gradient"
    computes_values = True

    def __init__(self, framework: Framework):
        self.framework = framework
        self.name = framework.name
        self.computes_gradients = framework.gradients

    def unsupported(self, spec: CellSpec) -> str | None:
        if self.framework.builder_for(spec) is None:
            return f"{self.name} has no builder for cell {spec.name}"
        return self.framework.missing()

    def run(
        self,
        spec: CellSpec,
        problem: Problem,
        reference: ModuleType | None = None,
        patch: SourcePatch | None = None,
    ) -> Tensors:
        """The framework's tensors; ``reference`` (a planted bug in the reference) does not
        concern it; ``patch`` (a planted bug in one of its builders) is applied in its worker."""
        return self.call(("cell", spec.name, problem, None, patch), f"running {spec.name}")

    def run_program(self, program: Sequence[Eq], inputs: dict, output: str) -> Tensors:
        missing = self.framework.missing()
        if missing:
            raise OracleUnavailable(missing)
        return self.call(("program", tuple(program), inputs, output), "running a program")

    def isolated(self) -> bool:
        return self.framework.isolated and os.environ.get(IN_PROCESS_ENV) != "1"

    def start(self) -> None:
        """Let the worker load its framework while other work goes on."""
        if self.isolated() and not self.framework.missing():
            worker(self.name, self.framework.environment).start()

    def call(self, request: tuple, what: str) -> Any:
        if self.isolated():
            return worker(self.name, self.framework.environment).call(request, what)
        return serve(self.name, request)


NUMERICAL = {"numerical": ComplexStepOracle, "fd": FiniteDifferenceOracle}


@cache
def all_oracles() -> dict[str, Oracle]:
    oracles: dict[str, Oracle] = {n: FrameworkOracle(f) for n, f in all_frameworks().items()}
    return oracles | {name: cls() for name, cls in NUMERICAL.items()}


def default_oracles() -> tuple[str, ...]:
    """What ``compare`` runs when no oracle is named: every framework and complex step."""
    return (*all_frameworks(), "numerical")


def get_oracle(name: str) -> Oracle:
    oracles = all_oracles()
    if name not in oracles:
        raise InputError(f"unknown oracle {name!r}; expected one of {', '.join(oracles)}")
    return oracles[name]


# --- the framework's side: what a worker process (or this one) computes ------------------


@cache
def runner(name: str) -> Runner:
    adapter = all_frameworks()[name].load_adapter()
    adapter.setup()
    return Runner(adapter)


_timed: dict[int, Callable[[], Any]] = {}


def serve(name: str, request: tuple) -> Any:
    """Answer one request for framework ``name``: ``("ready",)``, ``("cell", cell, problem,
    layer)``, ``("program", program, inputs, output)``; for ``gradparity bench``:
    ``("bench_prepare", token, cell, problem)`` (returns the framework's threads) and
    ``("bench_time", token)`` (one call's wall and CPU seconds, measured here)."""
    kind, *arguments = request
    run = runner(name)
    if kind == "ready":
        return None
    if kind == "cell":
        cell, problem, layer, patch = arguments
        spec = get_cell(cell)
        builder = all_frameworks()[name].builder_for(spec)
        return run.run_cell(spec, builder, problem, layer, patch)
    if kind == "program":
        program, inputs, output = arguments
        return run.run_program(program, inputs, output)
    if kind == "bench_prepare":
        token, cell, problem = arguments
        spec = get_cell(cell)
        _, _timed[token] = run.prepare_cell(spec, all_frameworks()[name].builder_for(spec), problem)
        return run.adapter.threads()
    if kind == "bench_time":
        thunk = _timed[arguments[0]]
        start_cpu, start = time.process_time(), time.perf_counter()
        thunk()
        return time.perf_counter() - start, time.process_time() - start_cpu
    raise ValueError(f"unknown request {kind!r}")
