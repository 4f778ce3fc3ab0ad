"""Frameworks as oracles: the descriptor a framework's folder exports, the adapter contract, and
the one flow that turns an adapter and a cell's builder into every tensor of a problem.

A framework is one folder (``gradparity.torch``, ``gradparity.tf``, …; or a module of another
package, entry point group ``gradparity.frameworks``) whose ``FRAMEWORK`` is a ``Framework``.
Its adapter is the framework's whole contract with gradparity:

    setup()                     import the framework, pin its threads (once per process)
    ops                         the primitive table (``reference_impl.primitives``) in the
                                framework's functions, plus "flip_time", "concat" and
                                "scan(step, xs, state0, output)" (stepping a step program:
                                ``xs`` a dict of batch-first [B, T, ·] tensors; ``step(states,
                                {name: [B, ·] at t})`` returns the states; ``output`` names the
                                state stacked into the outputs)
    prepare(f, leaves, constants, key, open_axes) -> thunk
                                a call of ``thunk()`` returns ``(aux, grads)``: ``f(L, C)``
                                returns ``(J, aux)``; ``grads`` are dJ/dL for every leaf.
                                ``key`` names a network (None: run eagerly) so that a framework
                                may compile ``f`` once per key (from a thunk's first call or,
                                where a compile costs more than one eager call, from its
                                second: the comparisons call each thunk once, ``bench`` more);
                                ``open_axes[name]`` leading axes of a leaf or constant vary
                                between calls of one key (batch, time)
    to_numpy(tree)              framework tensors (nested in dicts) as NumPy arrays
    threads()                   the thread counts in effect, for ``gradparity bench``

Everything else is written once, here: building and caching networks, stacking units
(``core.stacking``), the objective (``core.objective``), naming the gradients, and programs.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from gradparity.core.edits import SourcePatch
from gradparity.core.errors import OracleMisconfigured, OracleUnavailable
from gradparity.core.layers import check_parameters, check_results, fitting, load_layer
from gradparity.core.net import Net
from gradparity.core.objective import objective, target_weights
from gradparity.core.program_net import PROGRAM_BUILDER, program_net
from gradparity.core.registry import Builder, CellSpec
from gradparity.core.sequences import PREFIX, lengths_of, sequence_constants
from gradparity.core.stacking import stack_nets
from gradparity.core.validate import hidden_size, logit_width
from gradparity.reference_impl.equations import Eq, differentiated, evaluate
from gradparity.reference_impl.network import Problem
from gradparity.reference_impl.stack import is_stacked, of_unit

Arrays = dict[str, np.ndarray]

REBUILD_ENV = "GRADPARITY_REBUILD_NETWORKS"
"""Set to 1 to build every network anew on each call instead of once per key: the mutation run
(``.ci/mutation.py``) forks mutmut's workers from a process that already built the unmutated
networks, and a mutated converter must be the one that builds them; and mutmut gives a mutant
only the tests that reached its function, which a cached network hides from all but the first.
A builder that keeps a cache of its own (an exported graph) asks ``rebuilding()``."""


def rebuilding() -> bool:
    """Whether every network is built anew on each call (``REBUILD_ENV``)."""
    return os.environ.get(REBUILD_ENV) == "1"


class Adapter(Protocol):
    name: str
    ops: Mapping[str, Callable[..., Any]]

    def setup(self) -> None: ...

    def prepare(
        self,
        f: Callable[[dict[str, Any], dict[str, Any]], tuple[Any, Any]],
        leaves: Mapping[str, np.ndarray],
        constants: Mapping[str, np.ndarray],
        key: Hashable | None,
        open_axes: Mapping[str, int],
    ) -> Callable[[], tuple[Any, dict[str, Any]]]: ...

    def to_numpy(self, tree: Any) -> Any: ...

    def threads(self) -> dict[str, int]: ...


@dataclass(frozen=True)
class Framework:
    """One framework oracle, described without importing the framework."""

    name: str  # the oracle's name
    summary: str
    requires: tuple[str, ...]  # import names that must be installed
    extra: str  # the pip extra of gradparity that installs them
    distributions: tuple[tuple[str, ...], ...]  # whose versions reports print (alternatives)
    adapter: str  # "module:attribute" of the adapter class
    builders: Mapping[str, Builder] = field(default_factory=dict)  # cell name -> builder
    environment: Mapping[str, str] = field(default_factory=dict)  # for its worker process
    isolated: bool = True  # run in a worker process of its own (core.isolation)
    composes: bool = True  # its ops have "scan": it runs cells' step programs (core.program_net)
    gradients: bool = True  # False: values only (an inference runtime has no autodiff)
    mutants: str = ""  # "module:attribute" of its planted converter bugs (ConverterMutant)
    facts: str = ""  # "module:attribute" of its layout facts (core.facts.Fact)
    examples: str = ""  # "module:attribute" of its example modules (core.layers.ExampleModule)
    refuses: Mapping[str, str] = field(default_factory=dict)
    """dtype → why the framework cannot be certified in it (a skip with that reason)."""
    suite: str = "grid"
    """Which of the agreement suite's cases this framework runs: "grid", the registry's sample
    cases (sizes × seeds) and the pairwise option cases; "pairwise", only the pairwise option
    cases (``core.cases.pairwise_cases``: a few small cases per cell, every pair of option
    values together), for a framework that compiles once per network and input shape (XLA:
    about 1 s each), where the size grid would cost a compile per case."""

    def missing(self) -> str | None:
        """Why the framework cannot be imported (without importing it), or None."""
        for module in self.requires:
            if importlib.util.find_spec(module) is None:
                return f"{module} is not installed (pip install 'gradparity[{self.extra}]')"
        return None

    def builder_for(self, spec: CellSpec) -> Builder | None:
        """The cell's own builder for this framework, else the framework's, else the composed
        network of the cell's step program."""
        builder = spec.builders.get(self.name) or self.builders.get(spec.name)
        if builder is None and self.composes and spec.has_program:
            return PROGRAM_BUILDER
        return builder

    def load_adapter(self) -> Adapter:
        module, _, attribute = self.adapter.partition(":")
        return getattr(importlib.import_module(module), attribute)()


def map_tree(function: Callable[[Any], Any], tree: Any) -> Any:
    """``function`` applied to every leaf of nested dicts, lists and tuples (for ``to_numpy``)."""
    if isinstance(tree, dict):
        return {k: map_tree(function, v) for k, v in tree.items()}
    if isinstance(tree, tuple | list):
        return type(tree)(map_tree(function, v) for v in tree)
    return function(tree)


def _data_axes(name: str, value: np.ndarray) -> int:
    """Leading axes that vary between problems of one network: batch (and time for x, outputs)."""
    if name == "x" or name == "probe/outputs":
        return value.ndim - 1
    if name.startswith(("s/", "probe/", PREFIX)) or name == "weights":
        return 1
    return 0


def _with_layer(build: Callable[..., Net], builder: Builder, layer: str) -> Callable[..., Net]:
    """``build`` with the user's module in place of its stock layer, checked to fit."""
    if not builder.replaces:
        raise OracleMisconfigured(
            f"module {layer}: the builder {builder.target} has no stock layer to replace"
        )
    module = load_layer(layer)

    def build_with_layer(params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype):
        with fitting(layer, builder.replaces, "constructing it"):
            net = build(params, options, dtype, layer=module)
        if net.parameters is None:
            raise OracleMisconfigured(
                f"module {layer}: the builder {builder.target} cannot check a replacement of"
                f" {builder.replaces} (its Net has no parameters())"
            )
        with fitting(layer, builder.replaces, "reading its parameters"):
            found = net.parameters()
        expected = {name: np.shape(v) for name, v in net.layout(params).items()}
        check_parameters(layer, builder.replaces, found, expected)
        return net

    return build_with_layer


def _shapes(tree: Mapping[str, Any]) -> dict[str, tuple[int | None, ...]]:
    """Each tensor's shape (a traced tensor's axes that vary between calls: None)."""
    return {name: tuple(np.shape(value)) for name, value in tree.items()}


def _expected_results(width: int, x: Any, state0: Mapping[str, Any]) -> dict[str, tuple]:
    """The shapes of the outputs and final states every implementation returns for inputs
    ``x`` and initial states ``state0`` (arrays or traced tensors: read when called, since a
    compiled ``f`` is reused for every problem of its network)."""
    expected = {"outputs": (*np.shape(x)[:-1], width)}
    return expected | {f"{s}_T": tuple(np.shape(v)) for s, v in state0.items()}


class Runner:
    """The flows of one framework in this process: networks built once per key."""

    def __init__(self, adapter: Adapter):
        self.adapter = adapter
        self._nets: dict[tuple, Net] = {}

    def net(
        self,
        spec: CellSpec,
        builder: Builder,
        problem: Problem,
        layer: str | None,
        patch: SourcePatch | None = None,
    ) -> Net:
        """The network of ``problem``, built once per key; ``layer`` (``MODULE:ATTR``) is a
        user's module in place of the builder's stock layer (``core.layers``)."""
        shapes = tuple((k, v.shape) for k, v in problem.params.items())
        dtype = str(problem.x.dtype)
        patched = patch is not None and patch.applies_to(builder.target)
        key = (spec.name, builder.target, layer, patch if patched else None, shapes, dtype)
        key += (tuple(sorted(problem.options.items())),)
        if rebuilding():
            self._nets.pop(key, None)
        if key not in self._nets:
            if builder == PROGRAM_BUILDER:
                program = spec.program(problem.options)

                def build(params, options, dtype):
                    return program_net(program, options, self.adapter.ops)

            elif patched:
                build = getattr(patch.load(), builder.target.partition(":")[2])
            else:
                build = builder.load()
            if layer:
                build = _with_layer(build, builder, layer)
            if is_stacked(problem.options) and not builder.stacks:
                nets = {
                    unit: build(of_unit(problem.params, unit), problem.options, dtype)
                    for unit in spec.units(problem.options)
                }
                ops = self.adapter.ops
                self._nets[key] = stack_nets(nets, ops["flip_time"], ops["concat"], ops["matmul"])
            else:
                self._nets[key] = build(problem.params, problem.options, dtype)
        return self._nets[key]

    def prepare_cell(
        self,
        spec: CellSpec,
        builder: Builder,
        problem: Problem,
        layer: str | None = None,
        patch: SourcePatch | None = None,
    ) -> tuple[Net, Callable[[], tuple[Any, dict[str, Any]]]]:
        """The network and a thunk computing ``(aux, grads)`` in framework tensors."""
        ragged = problem.lengths is not None
        if ragged and builder.without_lengths:
            raise OracleUnavailable(
                f"{self.adapter.name}: the builder {builder.target} takes no per-example lengths:"
                f" {builder.without_lengths}"
            )
        net = self.net(spec, builder, problem, layer, patch)
        if ragged and not net.ragged:
            raise OracleUnavailable(
                f"{self.adapter.name}: the builder {builder.target} does not take per-example"
                " lengths"
            )
        if ragged and layer:
            raise OracleUnavailable(
                f"module {layer} in place of {builder.replaces}: a drop-in is checked on"
                " full-length batches; per-example lengths are checked on the stock layer"
            )
        refused = net.refuses_lengths(problem.lengths) if ragged else None
        if refused:
            raise OracleUnavailable(refused)
        ops = self.adapter.ops
        params = net.layout(problem.params)
        leaves = {f"p/{k}": v for k, v in params.items()}
        leaves["x"] = problem.x
        leaves |= {f"s/{s}": v for s, v in problem.state0.items()}
        leaves |= {f"h/{k}": v for k, v in problem.head.items()}
        classes = logit_width(spec, problem)
        dtype = problem.x.dtype
        constants = {"weights": target_weights(problem.targets, classes, dtype, ragged)}
        constants |= {f"probe/{k}": v for k, v in problem.probes.items()}
        if ragged:
            constants |= sequence_constants(problem.lengths, problem.x.shape[1], dtype)
        width = spec.output_width(hidden_size(spec, problem), problem.options)

        def f(L, C):
            fw = {k: L[f"p/{k}"] for k in params}
            state0 = {s: L[f"s/{s}"] for s in problem.state0}
            lengths = lengths_of(C)
            extra = () if lengths is None else (lengths,)
            outputs, final = net.forward(fw, L["x"], state0, *extra)
            if layer:  # a user's module: what it returned has the stock layer's shapes
                returned = {"outputs": outputs, **{f"{s}_T": v for s, v in final.items()}}
                expected = _expected_results(width, L["x"], state0)
                check_results(layer, builder.replaces, _shapes(returned), expected)
            head = {k: L[f"h/{k}"] for k in problem.head}
            probes = {k.removeprefix("probe/"): v for k, v in C.items() if k.startswith("probe/")}
            select = C.get(PREFIX + "select")
            total, loss = objective(ops, outputs, final, head, C["weights"], probes, select)
            return total, {
                "outputs": outputs,
                "loss": loss,
                **{f"{s}_T": v for s, v in final.items()},
            }

        key = (id(net), tuple(problem.head), tuple(problem.probes), ragged)
        open_axes = {n: _data_axes(n, v) for n, v in (leaves | constants).items()}
        return net, self.adapter.prepare(f, leaves, constants, key, open_axes)

    def run_cell(
        self,
        spec: CellSpec,
        builder: Builder,
        problem: Problem,
        layer: str | None = None,
        patch: SourcePatch | None = None,
    ) -> Arrays:
        """Every tensor of ``problem``: values, and gradients named as the reference's."""
        net, thunk = self.prepare_cell(spec, builder, problem, layer, patch)
        if layer:
            with fitting(layer, builder.replaces, "calling it"):
                aux, grads = self.adapter.to_numpy(thunk())
        else:
            aux, grads = self.adapter.to_numpy(thunk())
        result = dict(aux)
        if not grads:  # an inference runtime: values only
            return result
        params = {k.removeprefix("p/"): v for k, v in grads.items() if k.startswith("p/")}
        canonical = net.to_canonical(params)
        missing = [k for k in problem.params if k not in canonical]
        if missing:
            raise ValueError(
                f"{self.adapter.name}: the builder {builder.target} returned no gradient for"
                f" {', '.join(missing)}"
            )
        result |= {f"grad/{k}": canonical[k] for k in problem.params}
        result["grad/x"] = grads["x"]
        result |= {f"grad/{s}0": grads[f"s/{s}"] for s in problem.state0}
        result |= {f"grad/{k}": grads[f"h/{k}"] for k in problem.head}
        return result

    def run_program(self, program: Sequence[Eq], inputs: Mapping[str, np.ndarray], output: str):
        """Every value of an equation program and ``grad/<name>`` of ``sum(output)`` for every
        input and intermediate it depends on (an intermediate's gradient through a zero added
        where it is defined)."""
        ops = self.adapter.ops
        values = evaluate(program, inputs)
        leaves = {f"i/{n}": np.asarray(v) for n, v in inputs.items()}
        leaves |= {f"d/{eq.out}": np.zeros_like(values[eq.out]) for eq in program}

        def f(L, C):
            vals = {n: L[f"i/{n}"] for n in inputs}
            for eq in program:
                args = [vals[a] if isinstance(a, str) else a for a in eq.args]
                vals[eq.out] = ops["add"](ops[eq.op](*args), L[f"d/{eq.out}"])
            return ops["sum"](vals[output]), {eq.out: vals[eq.out] for eq in program}

        thunk = self.adapter.prepare(f, leaves, {}, None, {})
        aux, grads = self.adapter.to_numpy(thunk())
        result = {name: np.asarray(v) for name, v in aux.items()}
        for name in differentiated(program, inputs, output):
            grad = grads[f"i/{name}"] if name in inputs else grads[f"d/{name}"]
            result[f"grad/{name}"] = np.asarray(grad)
        return result
