"""MLX as an oracle, on its CPU device in float32 (float64 is refused: its ``exp`` is only
float32-accurate there, ml-explore/mlx#3047): native ``nn.LSTM``/``nn.GRU``/``nn.RNN``
(one layer, one direction each; layers and directions through gradparity's stacking) and
``nn.Linear``, loaded with the canonical weights (``cells.py``); every other cell with a step
program composed from MLX's ops (``adapter.py``'s table, ``core/program_net.py``);
``mx.value_and_grad`` for every gradient, run eagerly. Importing this module does not import
MLX."""

from gradparity.core.framework import Framework
from gradparity.core.registry import Builder

FRAMEWORK = Framework(
    name="mlx",
    summary="MLX (CPU device), mx.value_and_grad",
    requires=("mlx",),
    extra="mlx",
    # the backend: mlx-cpu on Linux, mlx-metal on macOS (listed under mlx-cpu)
    distributions=(("mlx",), ("mlx-metal", "mlx-cpu")),
    mutants="gradparity.mlx.mutants:MUTANTS",
    facts="gradparity.mlx.facts:FACTS",
    adapter="gradparity.mlx.adapter:MLXAdapter",
    refuses={
        "float64": "MLX's CPU exp, sigmoid, softmax and logsumexp compute float64 with their"
        " float32 approximation (2.3e-7 relative; ml-explore/mlx#3047, open): every float64"
        " cell disagrees at 1e-8, far above float64's tolerance"
    },
    builders={
        "lstm": Builder("gradparity.mlx.cells:lstm"),
        "dense": Builder("gradparity.mlx.cells:dense"),
        "gru": Builder("gradparity.mlx.cells:gru"),
        "rnn": Builder("gradparity.mlx.cells:rnn"),
    },
)
