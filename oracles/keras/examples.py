"""The example modules of ``--module`` for the Keras oracles (``tf``, ``keras_jax``,
``keras_torch``): a drop-in ``keras.layers.LSTM`` that agrees, one with a planted bug, and one
module that does not fit each stock layer. Importing this module does not import Keras."""

from gradparity.core.layers import ExampleModule

HERE = "gradparity.keras.example_layers"
EXAMPLES = (
    ExampleModule("agrees", "lstm", f"{HERE}:LSTM"),
    ExampleModule("planted-bug", "lstm", f"{HERE}:LSTMWithReluCandidate", "outputs"),
    # a misfit for every stock layer: each builder must pass the module on, and check it
    *(
        ExampleModule(
            "module-missing-parameter",
            cell,
            f"{HERE}:{layer}",
            "it has no parameter bias (it has kernel, recurrent_kernel)",
        )
        for cell, layer in (
            ("gru", "GRUWithoutBias"),
            ("gru_reset_before", "GRUWithoutBias"),
            ("rnn", "SimpleRNNWithoutBias"),
        )
    ),
    ExampleModule(
        "module-missing-parameter", "dense", f"{HERE}:DenseWithoutBias", "no parameter bias"
    ),
)
