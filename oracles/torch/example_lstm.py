"""An example of checking your own module: a plain-Python LSTM that claims to be a drop-in for
``torch.nn.LSTM`` (the same constructor arguments, parameter names and return structure), and
the same module with a planted bug.

    gradparity compare --cell lstm --oracles torch --module torch=gradparity.torch.example_lstm:LSTM
    gradparity compare --cell lstm --oracles torch \\
        --module torch=gradparity.torch.example_lstm:LSTMForgetGateOnInput

The first agrees with the reference on every tensor (≤ 1e-12 in float64: outputs, final states,
loss, every gradient); the second exits 1 naming the tensors that disagree. Copy it as the start
of your own: gradparity loads the canonical weights into it by name, runs it as it runs
``nn.LSTM`` (batch_first, an initial (h0, c0) of [layers·directions, B, H]) and compares.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class LSTM(nn.Module):
    """``torch.nn.LSTM`` written out step by step: gates i, f, g, o in the blocks of
    ``weight_ih_l{k}`` [4H, I], ``weight_hh_l{k}`` [4H, H] (or [4H, P] with ``proj_size=P``),
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` [4H], ``weight_hr_l{k}`` [P, H]; ``_reverse`` for the
    backward direction."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if dropout or not bias:
            raise ValueError("this example implements bias=True, dropout=0 only")
        self.hidden_size, self.num_layers, self.proj_size = hidden_size, num_layers, proj_size
        self.batch_first, self.directions = batch_first, 2 if bidirectional else 1
        out = proj_size or hidden_size
        bound = 1 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            width = input_size if layer == 0 else out * self.directions
            for suffix in self._suffixes(layer):
                shapes = {
                    "weight_ih": (4 * hidden_size, width),
                    "weight_hh": (4 * hidden_size, out),
                    "bias_ih": (4 * hidden_size,),
                    "bias_hh": (4 * hidden_size,),
                }
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    value = torch.empty(shape, device=device, dtype=dtype).uniform_(-bound, bound)
                    self.register_parameter(name + suffix, nn.Parameter(value))

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.directions]

    def cell(self, x_t, h, c, suffix: str):
        """One step: the gates from the input and the previous hidden state, then c and h."""
        p = {name: getattr(self, name + suffix) for name in ("weight_ih", "weight_hh")}
        gates = x_t @ p["weight_ih"].T + getattr(self, "bias_ih" + suffix)
        gates = gates + h @ p["weight_hh"].T + getattr(self, "bias_hh" + suffix)
        i, f, g, o = gates.chunk(4, dim=-1)
        c = self.forget_gate(f, i).sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        if self.proj_size:
            h = h @ getattr(self, "weight_hr" + suffix).T
        return h, c

    def forget_gate(self, f, i):
        return f

    def forward(self, input, hx=None):
        x = input if self.batch_first else input.transpose(0, 1)  # [B, T, I]
        batch, steps = x.shape[0], x.shape[1]
        units = self.num_layers * self.directions
        if hx is None:
            zeros = x.new_zeros(units, batch, self.proj_size or self.hidden_size)
            hx = (zeros, x.new_zeros(units, batch, self.hidden_size))
        h0, c0 = hx
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            directions = []
            for d, suffix in enumerate(self._suffixes(layer)):
                unit = layer * self.directions + d
                h, c = h0[unit], c0[unit]
                order = range(steps - 1, -1, -1) if d else range(steps)
                outputs = [None] * steps
                for t in order:
                    h, c = self.cell(x[:, t], h, c, suffix)
                    outputs[t] = h
                directions.append(torch.stack(outputs, dim=1))
                finals_h.append(h)
                finals_c.append(c)
            x = torch.cat(directions, dim=-1)
        output = x if self.batch_first else x.transpose(0, 1)
        return output, (torch.stack(finals_h), torch.stack(finals_c))


class LSTMForgetGateOnInput(LSTM):
    """The same module with a planted bug: the forget gate reads the input gate's
    pre-activation (a slicing mistake of the kind fused kernels make)."""

    def forget_gate(self, f, i):
        return i
