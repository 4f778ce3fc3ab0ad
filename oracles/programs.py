"""Equation programs (the slides' notation) run by every implementation, for program fixtures.

A program is a list of ``out = op(arg, ...)`` equations over the primitive table of
``reference_impl.primitives``. Each implementation returns every value by name and
``grad/<name>`` for every input and intermediate that ``output`` depends on:

    reference   ``reference_impl.equations``: forward, then the slides' ``deriv`` with ``+=``
    torch       the same ops in PyTorch, gradients by autograd (``retain_grad`` on intermediates)
    tf          the same ops in TensorFlow, gradients by ``GradientTape``
    numerical   complex step through the reference's forward (gradients only)
    fd          central differences through the reference's forward (gradients only)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from oracles.errors import InputError
from reference_impl.equations import Eq, backprop, evaluate
from reference_impl.primitives import get_primitive

IMPLEMENTATIONS = ("reference", "torch", "tf", "numerical", "fd")
COMPUTES_VALUES = {"reference": True, "torch": True, "tf": True, "numerical": False, "fd": False}

Arrays = dict[str, np.ndarray]


def differentiated(program: Sequence[Eq], inputs: Mapping[str, Any], output: str) -> list[str]:
    """Every input and intermediate that ``output`` depends on, inputs first."""
    needed = {output}
    for eq in reversed(program):
        if eq.out in needed:
            needed |= {a for a in eq.args if isinstance(a, str)}
    order = [*inputs, *(eq.out for eq in program)]
    return [name for name in order if name in needed]


def run_reference(program: Sequence[Eq], inputs: Mapping[str, np.ndarray], output: str) -> Arrays:
    values = evaluate(program, inputs)
    grads = backprop(program, values, output)
    result = {name: np.asarray(v) for name, v in values.items() if name not in inputs}
    names = differentiated(program, inputs, output)
    result |= {f"grad/{n}": grads.get(n, np.zeros_like(values[n])) for n in names}
    return result


def _torch_ops(torch) -> dict[str, Callable]:
    return {
        "add": torch.add,
        "subtract": torch.sub,
        "schur": torch.mul,
        "matmul": torch.matmul,
        "divide": torch.div,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "exp": torch.exp,
        "log": torch.log,
        "reciprocal": torch.reciprocal,
        "square": torch.square,
        "negate": torch.neg,
        "softmax": lambda x: torch.softmax(x, dim=-1),
        "add_const": lambda x, c: x + c,
        "mul_const": lambda x, c: c * x,
    }


def _tf_ops(tf) -> dict[str, Callable]:
    return {
        "add": tf.add,
        "subtract": tf.subtract,
        "schur": tf.multiply,
        "matmul": lambda x, w: tf.tensordot(x, w, axes=1),
        "divide": tf.divide,
        "tanh": tf.tanh,
        "sigmoid": tf.sigmoid,
        "exp": tf.exp,
        "log": tf.math.log,
        "reciprocal": tf.math.reciprocal,
        "square": tf.square,
        "negate": tf.negative,
        "softmax": lambda x: tf.nn.softmax(x, axis=-1),
        "add_const": lambda x, c: x + c,
        "mul_const": lambda x, c: c * x,
    }


def _forward_with(ops: Mapping[str, Callable], program: Sequence[Eq], values: dict) -> dict:
    for eq in program:
        args = [values[a] if isinstance(a, str) else a for a in eq.args]
        values[eq.out] = ops[eq.op](*args)
    return values


def run_torch(program: Sequence[Eq], inputs: Mapping[str, np.ndarray], output: str) -> Arrays:
    import torch

    from oracles.determinism import pin_torch

    pin_torch(torch)
    values = {n: torch.tensor(v, requires_grad=True) for n, v in inputs.items()}
    values = _forward_with(_torch_ops(torch), program, values)
    names = differentiated(program, inputs, output)
    for name in names:
        if name not in inputs:
            values[name].retain_grad()
    values[output].backward(torch.ones_like(values[output]))
    result = {eq.out: values[eq.out].detach().numpy() for eq in program}
    for name in names:
        grad = values[name].grad
        result[f"grad/{name}"] = np.zeros(values[name].shape) if grad is None else grad.numpy()
    return result


def run_tf(program: Sequence[Eq], inputs: Mapping[str, np.ndarray], output: str) -> Arrays:
    from oracles.tf_oracle import import_tensorflow

    tf = import_tensorflow()
    values = {n: tf.constant(v) for n, v in inputs.items()}
    with tf.GradientTape() as tape:
        for value in values.values():
            tape.watch(value)
        values = _forward_with(_tf_ops(tf), program, values)
    names = differentiated(program, inputs, output)
    seed = tf.ones_like(values[output])
    grads = tape.gradient(values[output], [values[n] for n in names], output_gradients=seed)
    result = {eq.out: values[eq.out].numpy() for eq in program}
    for name, grad in zip(names, grads, strict=True):
        result[f"grad/{name}"] = np.zeros(values[name].shape) if grad is None else grad.numpy()
    return result


def _perturbed_output(
    program: Sequence[Eq], inputs: Mapping[str, np.ndarray], output: str, name: str, delta
) -> np.ndarray:
    """``sum(output)`` with ``delta`` added to value ``name`` right where it is defined."""
    values = {n: np.asarray(v) + (delta if n == name else 0) for n, v in inputs.items()}
    for eq in program:
        args = [values[a] if isinstance(a, str) else a for a in eq.args]
        values[eq.out] = np.asarray(get_primitive(eq.op).forward(*args))
        if eq.out == name:
            values[eq.out] = values[eq.out] + delta
    return values[output].sum()


def _numerical(derivative: Callable[[Callable], float]) -> Callable[..., Arrays]:
    def run(program: Sequence[Eq], inputs: Mapping[str, np.ndarray], output: str) -> Arrays:
        values = evaluate(program, inputs)
        result = {}
        for name in differentiated(program, inputs, output):
            shape = np.shape(values[name])
            grad = np.zeros(shape)
            for k in np.ndindex(shape):
                unit = np.zeros(shape)
                unit[k] = 1.0

                def J(h, unit=unit, name=name):
                    return _perturbed_output(program, inputs, output, name, h * unit)

                grad[k] = derivative(J)
            result[f"grad/{name}"] = grad
        return result

    return run


def _complex_step(J: Callable) -> float:
    h = 1e-30
    return float(np.imag(J(1j * h)) / h)


def _central_difference(J: Callable) -> float:
    h = 1e-5
    return float((J(h) - J(-h)) / (2 * h))


RUNNERS: dict[str, Callable[..., Arrays]] = {
    "reference": run_reference,
    "torch": run_torch,
    "tf": run_tf,
    "numerical": _numerical(_complex_step),
    "fd": _numerical(_central_difference),
}


def run_program(
    implementation: str, program: Sequence[Eq], inputs: Mapping[str, np.ndarray], output: str
) -> Arrays:
    if implementation not in RUNNERS:
        raise InputError(
            f"unknown implementation {implementation!r}; expected one of {', '.join(RUNNERS)}"
        )
    return RUNNERS[implementation](program, inputs, output)
