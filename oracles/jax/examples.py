"""The example modules of ``--module`` for the ``jax`` oracle: drop-ins for
``flax.nnx.LSTMCell`` (one with state besides its parameters) and ``flax.nnx.GRUCell`` that
agree, planted bugs, and one module that does not fit each stock cell. The GRU's run with
``hidden_n_bias=false`` (NNX's GRUCell has no ``bh_n``, docs/api.md). Importing this module
does not import JAX."""

from gradparity.core.layers import ExampleModule

HERE = "gradparity.jax.example_layers"
WITHOUT_BH_N = (("hidden_n_bias", False),)
EXAMPLES = (
    ExampleModule("agrees", "lstm", f"{HERE}:LSTMCell"),
    ExampleModule("agrees", "lstm", f"{HERE}:LSTMCellWithCellClip"),
    ExampleModule("planted-bug", "lstm", f"{HERE}:LSTMCellWithReluCandidate", "outputs"),
    ExampleModule(
        "module-missing-parameter",
        "lstm",
        f"{HERE}:LSTMCellWithoutForgetBias",
        "it has no parameter hf/bias",
    ),
    ExampleModule("agrees", "gru", f"{HERE}:GRUCell", options=WITHOUT_BH_N),
    ExampleModule(
        "planted-bug", "gru", f"{HERE}:GRUCellWithSwappedUpdate", "outputs", WITHOUT_BH_N
    ),
    ExampleModule(
        "module-missing-parameter",
        "gru",
        f"{HERE}:GRUCellWithoutInputBias",
        "it has no parameter dense_i/bias",
        WITHOUT_BH_N,
    ),
    ExampleModule(
        "module-missing-parameter", "rnn", f"{HERE}:SimpleCellWithoutBias", "dense_i/bias"
    ),
    ExampleModule("module-missing-parameter", "dense", f"{HERE}:LinearWithoutBias", "bias"),
)
