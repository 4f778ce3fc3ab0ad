"""The TensorFlow/Keras oracle: the cell's builder makes a Keras layer, ``tf.GradientTape``
gives every gradient, all inside one ``tf.function`` per cell, sizes, dtype and options.

A builder has the signature ``build(params, options, dtype) -> KerasNet`` (it reads only the
parameters' shapes) and lives in ``oracles/tf_cells.py``. The layer is built once per cell,
parameter shapes, dtype and options, and its weights are assigned for each problem, so a new
problem of a known shape is not traced again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from oracles.base import Tensors, framework_missing, require_builder
from oracles.determinism import pin_environment, pin_tensorflow
from oracles.registry import CellSpec
from oracles.stacking import run_stack
from reference_impl.network import Problem
from reference_impl.stack import is_stacked, of_unit, qualify


@dataclass
class KerasNet:
    """What a TF builder returns.

    ``weights``: the tf.Variables whose gradients are taken, in a fixed order;
    ``call(x, state0) -> (outputs, final_states)``, states keyed by canonical name;
    ``from_canonical(params) -> list``: values for ``weights``, same order;
    ``to_canonical(grads) -> dict``: gradients of ``weights`` (same order) as canonical arrays.
    """

    weights: list[Any]
    call: Callable[[Any, dict[str, Any]], tuple[Any, dict[str, Any]]]
    from_canonical: Callable[[Mapping[str, np.ndarray]], list[np.ndarray]]
    to_canonical: Callable[[list[np.ndarray]], dict[str, np.ndarray]]


def import_tensorflow():
    """Import TensorFlow quietly, with the settings of ``oracles.determinism``."""
    pin_environment()
    import tensorflow as tf

    pin_tensorflow(tf)
    tf.get_logger().setLevel("ERROR")  # one trace per shape is by design, not a warning
    return tf


class TFOracle:
    name = "tf"
    gradient_kind = "gradient"
    computes_values = True

    def __init__(self) -> None:
        self._compiled: dict[tuple, tuple[KerasNet, Callable]] = {}

    def unsupported(self, spec: CellSpec) -> str | None:
        if "tf" not in spec.builders:
            return f"tf has no builder for cell {spec.name}"
        return framework_missing("tensorflow", "tf")

    def run(self, spec: CellSpec, problem: Problem, reference: ModuleType | None = None) -> Tensors:
        net, step, arguments = self.prepare(spec, problem)
        outputs, final, loss, grads = step(*arguments)
        result: Tensors = {"outputs": outputs.numpy()}
        result |= {f"{s}_T": v.numpy() for s, v in final.items()}
        result["loss"] = loss.numpy()
        weight_grads = [g.numpy() for g in grads["weights"]]
        result |= {f"grad/{k}": v for k, v in net.to_canonical(weight_grads).items()}
        result |= {f"grad/{k}": v.numpy() for k, v in grads["inputs"].items()}
        return result

    def prepare(self, spec: CellSpec, problem: Problem) -> tuple[KerasNet, Callable, tuple]:
        """The cell's net (built once per cell, shapes, dtype and options) with the weights of
        ``problem`` assigned, its ``tf.function`` step and the step's arguments for ``problem``.
        ``step(*arguments)`` returns ``(outputs, final, loss, {"weights": …, "inputs": …})``."""
        tf = import_tensorflow()
        require_builder(spec, self.name)
        dtype = str(problem.x.dtype)
        shapes = tuple((k, v.shape) for k, v in problem.params.items())
        key = (spec.name, shapes, dtype, tuple(sorted(problem.options.items())))
        key += (tuple(problem.head), tuple(problem.probes))
        if key not in self._compiled:
            builder = spec.builders[self.name]
            if is_stacked(problem.options) and not builder.stacks:
                net = stack_units(tf, builder.load(), spec, problem, dtype)
            else:
                net = builder.load()(problem.params, problem.options, dtype)
            self._compiled[key] = (net, _compile(tf, net, _signature(tf, problem)))
        net, step = self._compiled[key]
        for variable, value in zip(net.weights, net.from_canonical(problem.params), strict=True):
            variable.assign(value)
        arguments = (
            tf.constant(problem.x),
            {s: tf.constant(v) for s, v in problem.state0.items()},
            {k: tf.constant(v) for k, v in problem.head.items()},
            tf.constant(problem.targets, dtype=tf.int64),
            {k: tf.constant(v) for k, v in problem.probes.items()},
        )
        return net, step, arguments


def stack_units(tf, build, spec: CellSpec, problem: Problem, dtype: str) -> KerasNet:
    """Layers and directions composed from single-layer nets, for non-stacking builders."""
    units = spec.units(problem.options)
    nets = {u: build(of_unit(problem.params, u), problem.options, dtype) for u in units}

    def call_unit(unit, unit_input, unit_state0):
        return nets[unit].call(unit_input, unit_state0)

    def flip(t):
        return tf.reverse(t, axis=[1])

    def concat(ts):
        return tf.concat(ts, axis=-1)

    def call(x, state0):
        return run_stack(units, call_unit, x, state0, flip, concat)

    def from_canonical(values):
        return [v for u, net in nets.items() for v in net.from_canonical(of_unit(values, u))]

    def to_canonical(grads):
        canonical, start = {}, 0
        for unit, net in nets.items():
            unit_grads = net.to_canonical(grads[start : start + len(net.weights)])
            canonical |= {qualify(unit, k): v for k, v in unit_grads.items()}
            start += len(net.weights)
        return canonical

    weights = [w for net in nets.values() for w in net.weights]
    return KerasNet(weights, call, from_canonical, to_canonical)


def _signature(tf, problem: Problem) -> list:
    """Input specs with the batch and time axes left open: one trace serves every B and T."""

    def open_axes(value: np.ndarray, fixed_trailing: int = 1):
        shape = [None] * (value.ndim - fixed_trailing) + list(
            value.shape[value.ndim - fixed_trailing :]
        )
        return tf.TensorSpec(shape, tf.as_dtype(value.dtype))

    return [
        open_axes(problem.x),
        {s: open_axes(v) for s, v in problem.state0.items()},
        {k: tf.TensorSpec(v.shape, tf.as_dtype(v.dtype)) for k, v in problem.head.items()},
        tf.TensorSpec([None], tf.int64),
        {k: open_axes(v) for k, v in problem.probes.items()},
    ]


def _compile(tf, net: KerasNet, signature: list) -> Callable:
    @tf.function(input_signature=signature)
    def step(x, state0, head, targets, probes):
        with tf.GradientTape() as tape:
            tape.watch([x, *state0.values(), *head.values()])
            outputs, final = net.call(x, state0)
            last = outputs[:, -1] if len(outputs.shape) == 3 else outputs
            logits = tf.matmul(last, head["W_y"]) + head["b_y"] if head else last
            per_example = tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits)
            loss = tf.reduce_mean(per_example)
            objective = loss
            for name, value in [("outputs", outputs), *final.items()]:
                if name in probes:
                    objective += tf.reduce_sum(probes[name] * value)
        inputs = {"x": x, **{f"{s}0": v for s, v in state0.items()}, **head}
        weight_grads, input_grads = tape.gradient(
            objective,
            (net.weights, inputs),
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )
        return outputs, final, loss, {"weights": weight_grads, "inputs": input_grads}

    return step
