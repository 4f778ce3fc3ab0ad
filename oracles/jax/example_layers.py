"""Example Flax modules for ``--module`` (``Framework.examples`` of ``jax``): drop-ins for
``flax.nnx.LSTMCell`` and ``flax.nnx.GRUCell``, one of them with state besides its parameters,
planted bugs, and modules that do not fit a stock cell."""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx


class LSTMCell(nnx.LSTMCell):
    """``flax.nnx.LSTMCell`` itself, under a name of a user's package: it must agree."""


class LSTMCellWithCellClip(nnx.LSTMCell):
    """An LSTM cell that clips its cell state to ±``cell_clip``, a constant it holds as state
    besides its parameters (an ``nnx.Variable``, not an ``nnx.Param``). The clip is far above
    any cell state, so it agrees, but only if the harness keeps the module's own state: the
    value made by the constructor, never replaced, never abstract."""

    def __init__(self, in_features, hidden_features, *, cell_clip: float = 1e6, **kwargs):
        super().__init__(in_features, hidden_features, **kwargs)
        self.cell_clip = nnx.Variable(jnp.asarray(cell_clip, dtype=self.param_dtype))

    def __call__(self, carry, inputs):
        c, h = carry
        i = self.gate_fn(self.ii(inputs) + self.hi(h))
        f = self.gate_fn(self.if_(inputs) + self.hf(h))
        g = self.activation_fn(self.ig(inputs) + self.hg(h))
        o = self.gate_fn(self.io(inputs) + self.ho(h))
        clip = self.cell_clip.get_value()
        new_c = jnp.clip(f * c + i * g, -clip, clip)
        new_h = o * self.activation_fn(new_c)
        return (new_c, new_h), new_h


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


class GRUCell(nnx.GRUCell):
    """``flax.nnx.GRUCell`` itself: it must agree on the GRU without ``bh_n``."""


class GRUCellWithSwappedUpdate(nnx.GRUCell):
    """A GRU cell that keeps ``1 − z`` of the old state instead of ``z`` (the other paper's
    convention, a classic port bug): the planted bug, caught on the outputs."""

    def __call__(self, carry, inputs):
        x_r, x_z, x_n = jnp.split(self.dense_i(inputs), 3, axis=-1)
        h_r, h_z, h_n = jnp.split(self.dense_h(carry), 3, axis=-1)
        r = self.gate_fn(x_r + h_r)
        z = self.gate_fn(x_z + h_z)
        n = self.activation_fn(x_n + r * h_n)
        h = z * n + (1.0 - z) * carry
        return h, h


class GRUCellWithoutInputBias(nnx.GRUCell):
    """The input projection without its bias (``dense_i/bias``): it does not fit."""

    def __init__(self, in_features, hidden_features, *, rngs, **kwargs):
        super().__init__(in_features, hidden_features, rngs=rngs, **kwargs)
        self.dense_i = nnx.Linear(in_features, 3 * hidden_features, use_bias=False, rngs=rngs)


class SimpleCellWithoutBias(nnx.SimpleCell):
    """The input projection without its bias (``dense_i/bias``): it does not fit."""

    def __init__(self, in_features, hidden_features, *, rngs, **kwargs):
        super().__init__(in_features, hidden_features, rngs=rngs, **kwargs)
        self.dense_i = nnx.Linear(in_features, hidden_features, use_bias=False, rngs=rngs)


class LinearWithoutBias(nnx.Linear):
    """``nnx.Linear(use_bias=False)``: no ``bias``."""

    def __init__(self, in_features, out_features, **kwargs):
        super().__init__(in_features, out_features, **{**kwargs, "use_bias": False})
