"""The example modules of ``--module`` for the Keras oracles (``tf``, ``keras_jax``,
``keras_torch``): a drop-in ``keras.layers.LSTM`` that agrees, one with a planted bug, one that
does not fit. Importing this module does not import Keras."""

from gradparity.core.layers import ExampleModule

HERE = "gradparity.keras.example_layers"
EXAMPLES = (
    ExampleModule("agrees", "lstm", f"{HERE}:LSTM"),
    ExampleModule("planted-bug", "lstm", f"{HERE}:LSTMWithReluCandidate", "outputs"),
    ExampleModule(
        "module-missing-parameter",
        "gru",
        f"{HERE}:GRUWithoutBias",
        "it has no parameter bias (it has kernel, recurrent_kernel)",
    ),
)
