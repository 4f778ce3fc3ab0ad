"""The differentiated scalar, written once for every oracle over a table of primitive ops.

    J = loss + Σ probes["outputs"] ∘ outputs + Σ_s Σ probes[s] ∘ s_T
    loss = −Σ_bk w_bk · log_softmax(logits)_bk,   w = onehot(targets) / B   (the batch mean)

where ``logits = last @ W_y + b_y`` (or ``last`` itself without a head) and ``last`` is the
output of the last step (the output itself for a layer with no time axis). With per-example
lengths, ``last = select @ outputs`` reads each example's last valid output
(``core.sequences``: ``select`` [B, 1, T] is one-hot there), and ``w`` is [B, 1, C]. The probes are
fixed random cotangents: they make every output and every final state carry gradient, so a bug
on any path shows. Reproducing a reported example uses no probes; then J is the loss alone.

``ops`` maps primitive names (``reference_impl.primitives``) to one framework's functions:
NumPy's for the numerical oracles (complex-analytic), torch's, TensorFlow's, … for the
framework oracles. The reference computes the same J with its hand-written backward pass
(``reference_impl.network``); only the value is shared here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Ops = Mapping[str, Callable[..., Any]]


def target_weights(targets: np.ndarray, classes: int, dtype, ragged: bool = False) -> np.ndarray:
    """``onehot(targets) / B``: the weights of the log-probabilities in the batch-mean loss
    (a constant, so that no framework needs the batch size inside a traced function); [B, 1, C]
    for logits of ``select @ outputs`` (``ragged``)."""
    weights = np.zeros((len(targets), classes))
    weights[np.arange(len(targets)), targets] = 1.0 / len(targets)
    return (weights[:, None, :] if ragged else weights).astype(dtype)


def last_step(outputs: Any) -> Any:
    return outputs[:, -1] if len(outputs.shape) == 3 else outputs


def objective(
    ops: Ops,
    outputs: Any,
    final: Mapping[str, Any],
    head: Mapping[str, Any],
    weights: Any,
    probes: Mapping[str, Any],
    select: Any = None,
) -> tuple[Any, Any]:
    """``(J, loss)`` of a network's outputs and final states; ``weights``: ``target_weights``;
    ``select``: each example's last valid step (``core.sequences``), or None: the last step."""
    last = last_step(outputs) if select is None else ops["matmul"](select, outputs)
    logits = ops["add"](ops["matmul"](last, head["W_y"]), head["b_y"]) if head else last
    loss = ops["negate"](ops["sum"](ops["schur"](weights, ops["log_softmax"](logits))))
    total = loss
    for name, value in [("outputs", outputs), *final.items()]:
        if name in probes:
            total = ops["add"](total, ops["sum"](ops["schur"](probes[name], value)))
    return total, loss
