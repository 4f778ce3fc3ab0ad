"""Planted bugs in PyTorch's converters (``gradparity.converter_mutants``)."""

from gradparity.converter_mutants import ConverterMutant

CELLS = "gradparity.torch.cells"

MUTANTS = (
    ConverterMutant(
        "torch-lstm-gate-order",
        "torch",
        "lstm",
        CELLS,
        'LSTM_GATES = ("i", "f", "g", "o")',
        'LSTM_GATES = ("i", "g", "f", "o")',
        caught_by="outputs",
    ),
    ConverterMutant(
        "torch-gru-transposed-recurrent-weight",
        "torch",
        "gru",
        CELLS,
        '"weight_hh": fuse(unit, "U", GRU_GATES).T,',
        '"weight_hh": fuse({k: v.T for k, v in unit.items() if k[0] == "U"}, "U", GRU_GATES).T,',
        caught_by="outputs",
    ),
    ConverterMutant(
        "torch-rnn-bias-gradient-dropped",
        "torch",
        "rnn",
        CELLS,
        'return {"W": grads["weight_ih"].T, "U": grads["weight_hh"].T, "b": grads["bias_ih"]}',
        'return {"W": grads["weight_ih"].T, "U": grads["weight_hh"].T, "b": 0 * grads["bias_ih"]}',
        caught_by="grad/b",
    ),
)
