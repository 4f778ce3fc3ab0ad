"""Modules that claim to replace ``torch.nn.LSTM`` (and the other stock layers) and do not
fit, each for one reason: the one-line errors of docs/bad-input.md (``Framework.examples``)."""

from __future__ import annotations

import torch
from torch import nn

from gradparity.torch.example_lstm import LSTM


class TakesNoOptions(LSTM):
    """Its constructor has no ``num_layers``, ``bidirectional``, ``proj_size``, …"""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size)


class WithoutHiddenBias(LSTM):
    """No ``bias_hh_l0``: a kernel that folds both biases into one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.bias_hh_l0
        self.register_buffer("bias_hh_l0", None)


class WithScale(LSTM):
    """A parameter ``nn.LSTM`` does not have."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scale = nn.Parameter(torch.ones((), dtype=kwargs.get("dtype")))


class TransposedInputWeight(LSTM):
    """``weight_ih_l0`` stored [I, 4H] instead of [4H, I]."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.weight_ih_l0 = nn.Parameter(self.weight_ih_l0.detach().T.clone())


class ReturnsOutputOnly(LSTM):
    """``module(x, (h0, c0))`` returns the output alone, not ``(output, (h_n, c_n))``."""

    def forward(self, input, hx=None):
        return super().forward(input, hx)[0]


class IgnoresBatchFirst(LSTM):
    """Returns the output time-major whatever ``batch_first`` says."""

    def forward(self, input, hx=None):
        output, final = super().forward(input, hx)
        return (output.transpose(0, 1) if self.batch_first else output), final


class GRUWithoutBias(nn.GRU):
    """``nn.GRU(bias=False)``: no ``bias_ih_l0`` or ``bias_hh_l0``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "bias": False})


class RNNWithoutBias(nn.RNN):
    """``nn.RNN(bias=False)``: no ``bias_ih_l0`` or ``bias_hh_l0``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "bias": False})


class LinearWithoutBias(nn.Linear):
    """``nn.Linear(bias=False)``: no ``bias``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "bias": False})
