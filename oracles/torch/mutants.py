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
        '"b": _bias_gradient(grads)}',
        '"b": grads["bias_ih"] * 0}',
        caught_by="grad/b",
    ),
    ConverterMutant(  # every row packed at full length: padded steps update the state
        "torch-padded-steps-update-the-state",
        "torch",
        "lstm",
        CELLS,
        "sequence = x if lengths is None else _packed(x, lengths.lengths)",
        "sequence = x if lengths is None else _packed(x, lengths.lengths.clamp(min=x.shape[1]))",
        caught_by="h_T",
        lengths=(5, 2, 1),
    ),
)
