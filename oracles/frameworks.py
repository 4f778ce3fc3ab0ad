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

from gradparity.catalog import all_cells, get_cell, load_entry_points
from gradparity.core.edits import SourcePatch
from gradparity.core.errors import InputError, OracleUnavailable
from gradparity.core.framework import Framework, Runner
from gradparity.core.isolation import worker
from gradparity.core.layers import split_module_argument
from gradparity.core.loop import Oracle
from gradparity.core.registry import CellSpec
from gradparity.numerical.oracles import ComplexStepOracle, FiniteDifferenceOracle
from gradparity.reference_impl.equations import Eq
from gradparity.reference_impl.network import Problem

BUILTIN_FRAMEWORKS = (
    "gradparity.torch",
    "gradparity.tf",
    "gradparity.jax",
    "gradparity.mlx",
    "gradparity.paddle",
    "gradparity.onnx",
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
    process (or here, for a framework that is not isolated). With ``layer`` (``MODULE:ATTR``),
    a user's module takes the place of the stock layer of the framework's native builder; the
    oracle is then named ``FRAMEWORK=MODULE:ATTR``."""

    gradient_kind = "gradient"
    computes_values = True

    def __init__(self, framework: Framework, layer: str | None = None):
        self.framework = framework
        self.layer = layer
        self.name = f"{framework.name}={layer}" if layer else framework.name
        self.computes_gradients = framework.gradients
        self.suite = framework.suite

    def unsupported(self, spec: CellSpec) -> str | None:
        builder = self.framework.builder_for(spec)
        if builder is None:
            return f"{self.framework.name} has no builder for cell {spec.name}"
        if self.layer and not builder.replaces:
            return (
                f"{self.framework.name} builds cell {spec.name} from its ops, with no stock layer"
                f" that module {self.layer} could replace; {self.framework.name}'s stock layers:"
                f" {stock_layers(self.framework)}"
            )
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
        self._refuse(str(problem.x.dtype))
        request = ("cell", spec.name, problem, self.layer, patch)
        return self.call(request, f"running {spec.name}")

    def run_program(self, program: Sequence[Eq], inputs: dict, output: str) -> Tensors:
        missing = self.framework.missing()
        if missing:
            raise OracleUnavailable(missing)
        if not self.framework.gradients:  # a program runs on the framework's ops and autodiff
            raise OracleUnavailable(f"{self.name} computes values only (no autodiff)")
        for value in inputs.values():
            self._refuse(str(value.dtype))
        return self.call(("program", tuple(program), inputs, output), "running a program")

    def _refuse(self, dtype: str) -> None:
        if dtype in self.framework.refuses:
            raise OracleUnavailable(
                f"{self.framework.name} refuses {dtype}: {self.framework.refuses[dtype]}"
            )

    def isolated(self) -> bool:
        return self.framework.isolated and os.environ.get(IN_PROCESS_ENV) != "1"

    def start(self) -> None:
        """Let the worker load its framework while other work goes on."""
        if self.isolated() and not self.framework.missing():
            worker(self.framework.name, self.framework.environment).start()

    def ready(self) -> None:
        """Wait until the framework has loaded (in its worker, or here)."""
        missing = self.framework.missing()
        if missing:
            raise OracleUnavailable(missing)
        self.call(("ready",), "loading its framework")

    def call(self, request: tuple, what: str) -> Any:
        name = self.framework.name
        if self.isolated():
            return worker(name, self.framework.environment).call(request, what)
        return serve(name, request)


def stock_layers(framework: Framework) -> str:
    """``cell (stock layer), …`` for the framework's builders a user's module may replace."""
    listed = []
    for spec in all_cells().values():
        builder = framework.builder_for(spec)
        if builder is not None and builder.replaces:
            listed.append(f"{spec.name} ({builder.replaces})")
    return ", ".join(listed) or "none"


NUMERICAL = {"numerical": ComplexStepOracle, "fd": FiniteDifferenceOracle}


@cache
def all_oracles() -> dict[str, Oracle]:
    oracles: dict[str, Oracle] = {n: FrameworkOracle(f) for n, f in all_frameworks().items()}
    return oracles | {name: cls() for name, cls in NUMERICAL.items()}


def default_oracles() -> tuple[str, ...]:
    """What ``compare`` runs when no oracle is named: every framework and complex step."""
    return (*all_frameworks(), "numerical")


@cache
def get_oracle(name: str) -> Oracle:
    """The oracle of that name: a framework, a numerical oracle, or ``FRAMEWORK=MODULE:ATTR``
    (the framework with a user's module in place of its stock layer)."""
    oracles = all_oracles()
    if "=" in name:
        framework, layer = split_module_argument(name, "oracle")
        if framework not in all_frameworks():
            known = ", ".join(all_frameworks())
            raise InputError(
                f"--module {name!r}: unknown framework {framework!r}; expected one of {known}"
            )
        return FrameworkOracle(all_frameworks()[framework], layer)
    if name not in oracles:
        raise InputError(f"unknown oracle {name!r}; expected one of {', '.join(oracles)}")
    return oracles[name]


def with_modules(names: Sequence[str], modules: Sequence[str]) -> tuple[str, ...]:
    """The oracle names with each ``FRAMEWORK=MODULE:ATTR`` of ``modules`` in place of its
    framework (added when the list lacks it); one module per framework."""
    replaced = {}
    for text in modules:
        framework, layer = split_module_argument(text)
        get_oracle(f"{framework}={layer}")
        if framework in replaced:
            raise InputError(f"--module {text!r}: framework {framework} has a module already")
        replaced[framework] = f"{framework}={layer}"
    result = [replaced.pop(n, n) for n in names]
    return (*result, *replaced.values())


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
    ``("bench_time", token)`` (one call's wall and CPU seconds, measured here); for the tests,
    ``("repeat", cell, problem)`` (one prepared call's ``(aux, grads)`` on two calls)."""
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
    if kind == "repeat":  # one prepared call, called twice: eager and compiled paths agree
        cell, problem = arguments
        spec = get_cell(cell)
        _, thunk = run.prepare_cell(spec, all_frameworks()[name].builder_for(spec), problem)
        return [run.adapter.to_numpy(thunk()) for _ in range(2)]
    if kind == "bench_time":
        thunk = _timed[arguments[0]]
        start_cpu, start = time.process_time(), time.perf_counter()
        thunk()
        return time.perf_counter() - start, time.process_time() - start_cpu
    raise ValueError(f"unknown request {kind!r}")
