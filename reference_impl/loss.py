"""Softmax cross-entropy on logits with integer targets, averaged over the batch."""

from __future__ import annotations

import numpy as np

from .primitives import log_softmax


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(loss, dloss/dlogits)`` for logits [B, K] and integer targets [B].

    loss = -mean_b log softmax(logits_b)[targets_b]
    dlogits = (softmax(logits) - onehot(targets)) / B
    """
    batch = logits.shape[0]
    rows = np.arange(batch)
    log_probs = log_softmax(logits)
    loss = -log_probs[rows, targets].sum() / batch
    dlogits = np.exp(log_probs)
    dlogits[rows, targets] -= 1.0
    dlogits /= batch
    return loss, dlogits
