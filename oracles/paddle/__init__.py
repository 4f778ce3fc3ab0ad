"""PaddlePaddle as an oracle: native ``nn.LSTM`` (with ``proj_size``), ``nn.GRU``,
``nn.SimpleRNN`` and ``nn.Linear`` run on the canonical weights (``cells.py``), with their own
layers and directions; every other cell with a step program composed from Paddle's ops
(``adapter.py``'s table, ``core/program_net.py``); eager autograd (``paddle.grad``) for every
gradient. Importing this module does not import Paddle.

Paddle runs in a worker process of its own: ``import paddle`` after ``import tensorflow`` in one
process segfaults on this machine (docs/frameworks.md)."""

from gradparity.core.framework import Framework
from gradparity.core.registry import Builder

FRAMEWORK = Framework(
    name="paddle",
    summary="PaddlePaddle (CPU), eager mode, paddle.grad",
    requires=("paddle",),
    extra="paddle",
    distributions=(("paddlepaddle",),),
    mutants="gradparity.paddle.mutants:MUTANTS",
    facts="gradparity.paddle.facts:FACTS",
    adapter="gradparity.paddle.adapter:PaddleAdapter",
    builders={
        "lstm": Builder("gradparity.paddle.cells:lstm", stacks=True),
        "dense": Builder("gradparity.paddle.cells:dense"),
        "gru": Builder("gradparity.paddle.cells:gru", stacks=True),
        "rnn": Builder("gradparity.paddle.cells:rnn", stacks=True),
    },
)
