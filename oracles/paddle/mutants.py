"""Planted bugs in PaddlePaddle's converters (``gradparity.converter_mutants``)."""

from gradparity.converter_mutants import ConverterMutant

CELLS = "gradparity.paddle.cells"

MUTANTS = (
    ConverterMutant(
        "paddle-lstm-gate-order",
        "paddle",
        "lstm",
        CELLS,
        'LSTM_GATES = ("i", "f", "g", "o")',
        'LSTM_GATES = ("i", "f", "o", "g")',  # the order of the fast reference and of cuDNN docs
        caught_by="outputs",
    ),
    ConverterMutant(
        "paddle-rnn-untransposed-recurrent-weight",
        "paddle",
        "rnn",
        CELLS,
        '"weight_hh": unit["U"].T,',
        '"weight_hh": unit["U"],',  # [H, H]: the shape does not give it away
        caught_by="outputs",
    ),
    ConverterMutant(
        "paddle-rnn-bias-gradient-dropped",
        "paddle",
        "rnn",
        CELLS,
        'return {"W": grads["weight_ih"].T, "U": grads["weight_hh"].T, "b": grads["bias_ih"]}',
        'return {"W": grads["weight_ih"].T, "U": grads["weight_hh"].T, "b": 0 * grads["bias_ih"]}',
        caught_by="grad/b",
    ),
    ConverterMutant(  # right for LSTM and RNN (only the sum of the two biases acts), not here
        "paddle-gru-hidden-bias-gradient-from-input-bias",
        "paddle",
        "gru",
        CELLS,
        '**unfuse(grads["bias_hh"], "bh", GRU_GATES),',
        '**unfuse(grads["bias_ih"], "bh", GRU_GATES),',
        caught_by="grad/bh_n",
    ),
)
