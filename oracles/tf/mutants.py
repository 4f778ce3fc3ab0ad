"""Planted bugs in TensorFlow's converters (``gradparity.converter_mutants``)."""

from gradparity.converter_mutants import ConverterMutant

KERAS = "gradparity.keras.cells"  # the Keras builders this oracle shares with keras_jax/torch
CELLS = "gradparity.tf.cells"  # its LSTM: Keras, or TF 1.x with a projection

MUTANTS = (
    ConverterMutant(
        "tf-gru-gate-order",
        "tf",
        "gru",
        KERAS,
        'GRU_GATES = ("z", "r", "n")',
        'GRU_GATES = ("r", "z", "n")',
        caught_by="outputs",
    ),
    ConverterMutant(
        "tf-lstm-forget-bias-missing",
        "tf",
        "lstm",
        CELLS,
        'forget_bias=options["forget_bias"]',
        "forget_bias=0.0",
        caught_by="outputs",
        options=(("forget_bias", 1.0), ("proj_size", 2)),
    ),
    ConverterMutant(  # TF 1.x's default forget_bias is the canonical default: only 0.0 shows it
        "tf-peephole-forget-bias-not-passed",
        "tf",
        "peephole_lstm",
        "gradparity.tf.tf1",
        'forget_bias=options["forget_bias"],',
        "",
        caught_by="outputs",
        options=(("forget_bias", 0.0),),
    ),
    ConverterMutant(
        "tf-rnn-recurrent-gradient-transposed",
        "tf",
        "rnn",
        KERAS,
        'return dict(zip(("W", "U", "b"), grads, strict=True))',
        'return dict(zip(("W", "U", "b"), (grads[0], grads[1].T, grads[2]), strict=True))',
        caught_by="grad/U",
    ),
)
