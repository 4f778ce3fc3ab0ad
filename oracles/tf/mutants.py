"""Planted bugs in TensorFlow's converters (``gradparity.converter_mutants``)."""

from gradparity.converter_mutants import ConverterMutant

CELLS = "gradparity.tf.cells"

MUTANTS = (
    ConverterMutant(
        "tf-gru-gate-order",
        "tf",
        "gru",
        CELLS,
        'GRU_GATES = ("z", "r", "n")',
        'GRU_GATES = ("r", "z", "n")',
        caught_by="outputs",
    ),
    ConverterMutant(
        "tf-lstm-forget-bias-missing",
        "tf",
        "lstm",
        CELLS,
        'bias[hidden : 2 * hidden] += options["forget_bias"]',
        "bias[hidden : 2 * hidden] += 0.0",
        caught_by="outputs",
        options=(("forget_bias", 1.0),),
    ),
    ConverterMutant(
        "tf-rnn-recurrent-gradient-transposed",
        "tf",
        "rnn",
        CELLS,
        'return dict(zip(("W", "U", "b"), grads, strict=True))',
        'return dict(zip(("W", "U", "b"), (grads[0], grads[1].T, grads[2]), strict=True))',
        caught_by="grad/U",
    ),
)
