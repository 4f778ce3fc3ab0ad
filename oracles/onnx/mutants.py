"""Planted bugs in ONNX Runtime's converters (``gradparity.converter_mutants``): in reading ONNX
Runtime's results back (state order, direction, layer) and in the exported graph itself (the
``linear_before_reset`` of pytorch/pytorch#189225). Values only: each is caught on a value."""

from gradparity.converter_mutants import ConverterMutant

CELLS = "gradparity.onnx.cells"
READ = "final[qualify(unit, state)] = stacked[layer * directions + d]"

MUTANTS = (
    ConverterMutant(
        "onnx-lstm-final-states-swapped",
        "onnx",
        "lstm",
        CELLS,
        "for state, stacked in zip(states, finals, strict=True):",
        "for state, stacked in zip(states[::-1], finals, strict=True):",
        caught_by="h_T",
    ),
    ConverterMutant(
        "onnx-gru-directions-flipped",
        "onnx",
        "gru",
        CELLS,
        READ,
        READ.replace("+ d]", "+ directions - 1 - d]"),
        caught_by="l0/h_T",
        options=(("bidirectional", True),),
    ),
    ConverterMutant(
        "onnx-rnn-first-layer-read-for-every-layer",
        "onnx",
        "rnn",
        CELLS,
        READ,
        READ.replace("[layer * directions + d]", "[d]"),
        caught_by="l1/h_T",
        options=(("layers", 2),),
    ),
    ConverterMutant(
        "onnx-gru-linear-before-reset-0",
        "onnx",
        "gru",
        CELLS,
        "    return onnx.load_from_string(buffer.getvalue())",
        "    model = onnx.load_from_string(buffer.getvalue())\n"
        "    for node in model.graph.node:\n"
        "        for attribute in node.attribute:\n"
        '            if attribute.name == "linear_before_reset":\n'
        "                attribute.i = 0\n"
        "    return model",
        caught_by="outputs",
    ),
)
