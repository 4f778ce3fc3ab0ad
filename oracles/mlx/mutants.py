"""Planted bugs in MLX's converters (``gradparity.converter_mutants``)."""

from gradparity.converter_mutants import ConverterMutant

CELLS = "gradparity.mlx.cells"

MUTANTS = (
    ConverterMutant(
        "mlx-lstm-gate-order",
        "mlx",
        "lstm",
        CELLS,
        'LSTM_GATES = ("i", "f", "g", "o")',
        'LSTM_GATES = ("i", "f", "o", "g")',
        caught_by="outputs",
    ),
    ConverterMutant(
        "mlx-rnn-recurrent-weight-transposed",
        "mlx",
        "rnn",
        CELLS,
        '"Whh": values["U"].T,',
        '"Whh": values["U"],',
        caught_by="outputs",
    ),
    ConverterMutant(
        "mlx-gru-hidden-n-bias-gradient-dropped",
        "mlx",
        "gru",
        CELLS,
        'canonical["bh_n"] = grads["bhn"]',
        'canonical["bh_n"] = 0 * grads["bhn"]',
        caught_by="grad/bh_n",
    ),
    ConverterMutant(
        "mlx-lstm-forget-bias-missing",
        "mlx",
        "lstm",
        CELLS,
        'bias[hidden : 2 * hidden] += options["forget_bias"]',
        "bias[hidden : 2 * hidden] += 0.0",
        caught_by="outputs",
        options=(("forget_bias", 1.0),),
    ),
    ConverterMutant(  # the state update left unmasked: padded steps update the state
        "mlx-padded-steps-update-the-state",
        "mlx",
        "gru",
        CELLS,
        "states = {k: m_t * new[k] + (1 - m_t) * states[k] for k in states}",
        "states = dict(new)",
        caught_by="h_T",
        lengths=(5, 2, 1),
    ),
)
