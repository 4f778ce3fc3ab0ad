"""Example Flax modules for ``--module`` (``Framework.examples`` of ``jax``): a drop-in for
``flax.nnx.LSTMCell``, one with a planted bug, and modules that do not fit a stock cell."""

from __future__ import annotations

from flax import nnx


class LSTMCell(nnx.LSTMCell):
    """``flax.nnx.LSTMCell`` itself, under a name of a user's package: it must agree."""


class LSTMCellWithReluCandidate(nnx.LSTMCell):
    """A cell that hard-codes ReLU for the candidate and the output squashing: the planted bug,
    caught on the outputs."""

    def __init__(self, in_features, hidden_features, **kwargs):
        super().__init__(in_features, hidden_features, activation_fn=nnx.relu, **kwargs)


class LSTMCellWithoutForgetBias(nnx.LSTMCell):
    """The forget gate's hidden projection without its bias (``hf/bias``): it does not fit."""

    def __init__(self, in_features, hidden_features, *, rngs, **kwargs):
        super().__init__(in_features, hidden_features, rngs=rngs, **kwargs)
        self.hf = nnx.Linear(hidden_features, hidden_features, use_bias=False, rngs=rngs)


class SimpleCellWithoutBias(nnx.SimpleCell):
    """The input projection without its bias (``dense_i/bias``): it does not fit."""

    def __init__(self, in_features, hidden_features, *, rngs, **kwargs):
        super().__init__(in_features, hidden_features, rngs=rngs, **kwargs)
        self.dense_i = nnx.Linear(in_features, hidden_features, use_bias=False, rngs=rngs)


class LinearWithoutBias(nnx.Linear):
    """``nnx.Linear(use_bias=False)``: no ``bias``."""

    def __init__(self, in_features, out_features, **kwargs):
        super().__init__(in_features, out_features, **{**kwargs, "use_bias": False})
