"""Builders that call gradparity's reference forward passes (the layout is the identity)."""

from __future__ import annotations

from gradparity import Net
from gradparity.reference_impl import gru as gru_reference
from gradparity.reference_impl import rnn as rnn_reference


def _reference_net(module, options) -> Net:
    def forward(params, x, state0):
        outputs, final, _ = module.forward(params, x, state0, options)
        return outputs, final

    return Net(layout=dict, forward=forward, to_canonical=dict)


def rnn(params, options, dtype) -> Net:
    return _reference_net(rnn_reference, options)


def gru(params, options, dtype) -> Net:
    return _reference_net(gru_reference, options)
