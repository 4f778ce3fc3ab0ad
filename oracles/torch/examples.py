"""The example modules of ``--module`` for torch (``Framework.examples``): a plain-Python
``nn.LSTM`` that agrees, the same with a planted bug, and modules that do not fit, each with
the one-line error docs/bad-input.md shows. Importing this module does not import torch."""

from gradparity.core.layers import ExampleModule

HERE, MISFITS = "gradparity.torch.example_lstm", "gradparity.torch.example_misfits"
EXAMPLES = (
    ExampleModule("agrees", "lstm", f"{HERE}:LSTM"),
    ExampleModule("planted-bug", "lstm", f"{HERE}:LSTMForgetGateOnInput", "grad/W_f"),
    ExampleModule(
        "module-import-error",
        "lstm",
        "gradparity.torch.no_such_module:LSTM",
        "cannot import gradparity.torch.no_such_module",
    ),
    ExampleModule(
        "module-missing-attribute",
        "lstm",
        f"{HERE}:NoSuchClass",
        "has no attribute 'NoSuchClass'",
    ),
    ExampleModule(
        "module-constructor-mismatch",
        "lstm",
        f"{MISFITS}:TakesNoOptions",
        "constructing it raised TypeError",
    ),
    ExampleModule(
        "module-missing-parameter",
        "lstm",
        f"{MISFITS}:WithoutHiddenBias",
        "it has no parameter bias_hh_l0",
    ),
    ExampleModule(
        "module-extra-parameter",
        "lstm",
        f"{MISFITS}:WithScale",
        "parameter scale is not one of torch.nn.LSTM's",
    ),
    ExampleModule(
        "module-wrong-shape",
        "lstm",
        f"{MISFITS}:TransposedInputWeight",
        "parameter weight_ih_l0 has shape [3, 28], expected [28, 3]",
    ),
    ExampleModule(
        "module-wrong-return",
        "lstm",
        f"{MISFITS}:ReturnsOutputOnly",
        "it returned a tensor of shape [2, 13, 7], expected (output, (h_n, c_n))",
    ),
    ExampleModule(
        "module-wrong-output-shape",
        "lstm",
        f"{MISFITS}:IgnoresBatchFirst",
        "it returned outputs of shape [13, 2, 7], expected [2, 13, 7]",
    ),
    ExampleModule("module-without-stock-layer", "peephole_lstm", f"{HERE}:LSTM", "no stock layer"),
    # one misfit for each other stock layer: the builder must pass the module on, and check it
    ExampleModule(
        "module-missing-parameter", "gru", f"{MISFITS}:GRUWithoutBias", "no parameter bias_ih_l0"
    ),
    ExampleModule(
        "module-missing-parameter", "rnn", f"{MISFITS}:RNNWithoutBias", "no parameter bias_ih_l0"
    ),
    ExampleModule(
        "module-missing-parameter", "dense", f"{MISFITS}:LinearWithoutBias", "no parameter bias"
    ),
)
