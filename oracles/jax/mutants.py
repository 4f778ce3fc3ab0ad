"""Planted bugs in Flax's converters (``gradparity.converter_mutants``)."""

from gradparity.converter_mutants import ConverterMutant

CELLS = "gradparity.jax.cells"

MUTANTS = (
    ConverterMutant(
        "jax-lstm-optimized-gate-order",
        "jax",
        "lstm",
        CELLS,
        'LSTM_GATES = ("i", "f", "g", "o")',
        'LSTM_GATES = ("i", "g", "f", "o")',
        caught_by="outputs",
        options=(("layers", 2),),
    ),
    ConverterMutant(
        "jax-rnn-transposed-recurrent-kernel",
        "jax",
        "rnn",
        CELLS,
        '"dense_h/kernel": values["U"],',
        '"dense_h/kernel": values["U"].T,',
        caught_by="outputs",
    ),
    ConverterMutant(
        "jax-gru-hidden-n-bias-gradient-dropped",
        "jax",
        "gru",
        CELLS,
        '"bh_n": grads["hn/bias"]}',
        '"bh_n": 0 * grads["hn/bias"]}',
        caught_by="grad/bh_n",
    ),
)
