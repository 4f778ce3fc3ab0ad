"""ONNX Runtime as a values oracle: torch's native ``nn.LSTM``/``nn.GRU``/``nn.RNN`` (loaded
with the canonical weights by ``gradparity.torch``'s layouts) exported by ``torch.onnx.export``
(the TorchScript exporter, with every layer and direction) and run by ONNX Runtime's CPU
kernels (``cells.py``). It computes outputs, final states and the loss, in float32 (ONNX
Runtime's CPU LSTM, GRU and RNN have no float64), and no gradients: it checks the exporter's
conversions (gate orders, ``linear_before_reset``, stacking) and ONNX Runtime's kernels.
Importing this module imports neither torch nor ONNX Runtime."""

from gradparity.core.framework import Framework
from gradparity.core.registry import Builder

NO_LENGTHS = "the exported graph has none (torch.onnx exports a full-length call, no sequence_lens)"

FRAMEWORK = Framework(
    name="onnx",
    summary="ONNX Runtime (CPU) running torch's networks exported by torch.onnx, float32,"
    " values only",
    requires=("torch", "onnx", "onnxruntime"),
    extra="onnx",
    distributions=(("onnxruntime",), ("onnx",), ("torch",)),
    mutants="gradparity.onnx.mutants:MUTANTS",
    facts="gradparity.onnx.facts:FACTS",
    adapter="gradparity.onnx.adapter:OnnxAdapter",
    builders={
        cell: Builder(f"gradparity.onnx.cells:{cell}", stacks=True, without_lengths=NO_LENGTHS)
        for cell in ("lstm", "gru", "rnn")
    },
    composes=False,  # ONNX Runtime runs exported graphs; step programs are not composed here
    gradients=False,  # an inference runtime: values only
)
