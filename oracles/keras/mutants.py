"""Planted bugs in the Keras converters (``gradparity.converter_mutants``), for each backend's
oracle: edits of ``cells.py`` (the builders ``tf`` shares; its own mutants are in
``gradparity.tf.mutants``). A gate order, a transposed weight, a dropped bias gradient (and a
dropped forget bias), each caught with the tensor named. Every case is float64: the torch
backend refuses float64 ``rnn``, ``gru_reset_before`` and ``dense`` (``backend.py``), so its
mutants live in ``lstm`` and ``gru``."""

from gradparity.converter_mutants import ConverterMutant

CELLS = "gradparity.keras.cells"

JAX_MUTANTS = (
    ConverterMutant(
        "keras_jax-lstm-gate-order",
        "keras_jax",
        "lstm",
        CELLS,
        'LSTM_GATES = ("i", "f", "g", "o")',
        'LSTM_GATES = ("i", "g", "f", "o")',
        caught_by="outputs",
    ),
    ConverterMutant(
        "keras_jax-rnn-recurrent-kernel-transposed",
        "keras_jax",
        "rnn",
        CELLS,
        'return [unit["W"], unit["U"], unit["b"]]',
        'return [unit["W"], unit["U"].T, unit["b"]]',
        caught_by="outputs",
    ),
    ConverterMutant(
        "keras_jax-gru-recurrent-bias-gradient-dropped",
        "keras_jax",
        "gru",
        CELLS,
        '**unfuse(bias[1], "bh", GRU_GATES),',
        '**unfuse(0 * bias[1], "bh", GRU_GATES),',
        caught_by="grad/bh_z",
    ),
)

TORCH_MUTANTS = (
    ConverterMutant(
        "keras_torch-gru-gate-order",
        "keras_torch",
        "gru",
        CELLS,
        'GRU_GATES = ("z", "r", "n")',
        'GRU_GATES = ("r", "z", "n")',
        caught_by="outputs",
    ),
    ConverterMutant(
        "keras_torch-gru-recurrent-kernel-transposed",
        "keras_torch",
        "gru",
        CELLS,
        'fuse(unit, "U", GRU_GATES), bias]',
        'fuse({k: v.T for k, v in unit.items()}, "U", GRU_GATES), bias]',
        caught_by="outputs",
    ),
    ConverterMutant(
        "keras_torch-lstm-bias-gradient-dropped",
        "keras_torch",
        "lstm",
        CELLS,
        '**unfuse(bias, "b", LSTM_GATES),',
        '**unfuse(0 * bias, "b", LSTM_GATES),',
        caught_by="grad/b_f",
    ),
    ConverterMutant(
        "keras_torch-lstm-forget-bias-missing",
        "keras_torch",
        "lstm",
        CELLS,
        'bias[hidden : 2 * hidden] += options["forget_bias"]',
        "bias[hidden : 2 * hidden] += 0.0",
        caught_by="outputs",
        options=(("forget_bias", 1.0),),
    ),
)
