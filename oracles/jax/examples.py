"""The example modules of ``--module`` for the ``jax`` oracle: a drop-in ``flax.nnx.LSTMCell``
that agrees, one with a planted bug, and one module that does not fit each stock cell (the
GRU's is checked only with ``hidden_n_bias=false``, docs/api.md). Importing this module does not
import JAX."""

from gradparity.core.layers import ExampleModule

HERE = "gradparity.jax.example_layers"
EXAMPLES = (
    ExampleModule("agrees", "lstm", f"{HERE}:LSTMCell"),
    ExampleModule("planted-bug", "lstm", f"{HERE}:LSTMCellWithReluCandidate", "outputs"),
    ExampleModule(
        "module-missing-parameter",
        "lstm",
        f"{HERE}:LSTMCellWithoutForgetBias",
        "it has no parameter hf/bias",
    ),
    ExampleModule(
        "module-missing-parameter", "rnn", f"{HERE}:SimpleCellWithoutBias", "dense_i/bias"
    ),
    ExampleModule("module-missing-parameter", "dense", f"{HERE}:LinearWithoutBias", "bias"),
)
