"""PyTorch as an oracle: native ``nn.LSTM``/``nn.GRU``/``nn.RNN``/``nn.Linear`` loaded with the
canonical weights (``cells.py``); every other cell with a step program composed from torch's
ops (``adapter.py``'s table, ``core/program_net.py``); autograd for every gradient. Importing
this module does not import torch."""

from gradparity.core.framework import Framework
from gradparity.core.registry import Builder

FRAMEWORK = Framework(
    name="torch",
    summary="PyTorch (CPU), autograd",
    requires=("torch",),
    extra="torch",
    distributions=(("torch",),),
    mutants="gradparity.torch.mutants:MUTANTS",
    facts="gradparity.torch.facts:FACTS",
    examples="gradparity.torch.examples:EXAMPLES",
    adapter="gradparity.torch.adapter:TorchAdapter",
    builders={
        "lstm": Builder("gradparity.torch.cells:lstm", stacks=True, replaces="torch.nn.LSTM"),
        "dense": Builder("gradparity.torch.cells:dense", replaces="torch.nn.Linear"),
        "gru": Builder("gradparity.torch.cells:gru", stacks=True, replaces="torch.nn.GRU"),
        "rnn": Builder("gradparity.torch.cells:rnn", stacks=True, replaces="torch.nn.RNN"),
    },
)
