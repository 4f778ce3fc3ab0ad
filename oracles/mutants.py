"""Planted bugs: textual edits of the reference's source, loaded as a separate module.

Each mutant must make the agreement checks fail; the test suite and ``gradparity mutate``
prove that it does, so a check that cannot fail cannot go unnoticed. ``find`` must occur
exactly once in the source, so a refactor that removes it breaks the mutant loudly instead of
silently testing nothing. A mutant edits its cell's reference module, or, with ``target``,
another reference module that every cell's network uses (the loss).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

from oracles.cases import Case
from oracles.registry import get_cell
from reference_impl import network

SHARED_TARGETS = {"reference_impl.loss": "softmax_cross_entropy"}  # module -> name network uses


@dataclass(frozen=True)
class Mutant:
    name: str
    cell: str
    find: str
    replace: str
    caught_by: str  # a tensor that must be reported as disagreeing
    options: tuple[tuple[str, object], ...] = ()  # case options the bug needs in order to show
    forward: bool = False  # a forward-pass bug: invisible to the numerical oracles, which
    # differentiate the (mutated) forward pass; only the framework oracles can catch it
    target: str = ""  # a module of SHARED_TARGETS; empty: the cell's reference module

    def case(self, dtype: str = "float64", **sizes: int) -> Case:
        """A small case of the mutant's cell with the options its bug needs."""
        fields = {"input_size": 3, "hidden_size": 4, "seq_len": 5, "batch": 2} | sizes
        return Case.make(self.cell, options=dict(self.options), dtype=dtype, **fields)

    def original(self) -> ModuleType:
        if not self.target:
            return get_cell(self.cell).reference_module()
        if self.target not in SHARED_TARGETS:
            raise ValueError(f"mutant {self.name}: cannot mutate {self.target}")
        return importlib.import_module(self.target)

    @contextmanager
    def applied(self) -> Iterator[ModuleType | None]:
        """Yields the cell module to run (None: the registered one) with the bug in place."""
        mutated = self.load()
        if not self.target:
            yield mutated
            return
        name = SHARED_TARGETS[self.target]
        saved = getattr(network, name)
        setattr(network, name, getattr(mutated, name))
        try:
            yield None
        finally:
            setattr(network, name, saved)

    def load(self) -> ModuleType:
        original = self.original()
        source = inspect.getsource(original)
        count = source.count(self.find)
        if count != 1:
            raise ValueError(
                f"mutant {self.name}: {self.find!r} occurs {count} times in"
                f" {original.__name__}, expected exactly once"
            )
        spec = importlib.util.spec_from_loader(f"{original.__name__}__{self.name}", loader=None)
        module = importlib.util.module_from_spec(spec)
        exec(
            compile(source.replace(self.find, self.replace), original.__file__, "exec"),
            module.__dict__,
        )
        return module


MUTANTS = (
    Mutant(
        "lstm-swapped-gate-blocks",
        "lstm",
        "[di * sigmoid_grad(i), df * sigmoid_grad(f),",
        "[df * sigmoid_grad(f), di * sigmoid_grad(i),",
        caught_by="grad/W_i",
    ),
    Mutant(
        "lstm-missing-fork-sum-h",
        "lstm",
        "dh = d_outputs[:, t] + dh_next",
        "dh = dh_next",
        caught_by="grad/U_o",
    ),
    Mutant(
        "lstm-missing-fork-sum-c",
        "lstm",
        "dc = dc_next + dm * o * tanh_grad(tanh_c[:, t])",
        "dc = dm * o * tanh_grad(tanh_c[:, t])",
        caught_by="grad/c0",
    ),
    Mutant(
        "lstm-sign-flip-output-gate",
        "lstm",
        "do = dm * tanh_c[:, t]",
        "do = -dm * tanh_c[:, t]",
        caught_by="grad/W_o",
    ),
    Mutant(
        "lstm-forget-term-dropped",
        "lstm",
        "dc_next = dc * f",
        "dc_next = dc",
        caught_by="grad/c0",
    ),
    Mutant(
        "lstm-forget-bias-missing",
        "lstm",
        'sigmoid(z_f + options["forget_bias"])',
        "sigmoid(z_f)",
        caught_by="outputs",
        options=(("forget_bias", 1.0),),
        forward=True,
    ),
    Mutant(
        "dense-activation-derivative-dropped",
        "dense",
        'dz = d_outputs * act_grad(cache["y"])',
        "dz = d_outputs",
        caught_by="grad/W",
    ),
    Mutant(
        "gru-reset-gradient-before-product",
        "gru",
        "dr = dn_pre * h_n[:, t]",
        "dr = dn_pre * h[:, t]",
        caught_by="grad/U_r",
    ),
    Mutant(
        "gru-update-gate-sign-flip",
        "gru",
        "dz = dh * (h[:, t] - n)",
        "dz = dh * (n - h[:, t])",
        caught_by="grad/W_z",
    ),
    Mutant(
        "gru-reset-missing-in-recurrent-n-gradient",
        "gru",
        "dn_pre * r], axis=-1)",
        "dn_pre], axis=-1)",
        caught_by="grad/bh_n",
    ),
    Mutant(
        "gru-reset-before-missing-fork-sum-reset-product",
        "gru_reset_before",
        "dh_next = dh * z + d_rh * r + ",
        "dh_next = dh * z + ",
        caught_by="grad/h0",
    ),
    Mutant(
        "gru-reset-before-U_n-reads-h",
        "gru_reset_before",
        "dU_n = rh.reshape(-1, hidden).T",
        "dU_n = h_prev.T",
        caught_by="grad/U_n",
    ),
    Mutant(
        "rnn-activation-derivative-dropped",
        "rnn",
        "d_pre[:, t] = dh * act_grad(h[:, t + 1])",
        "d_pre[:, t] = dh",
        caught_by="grad/W",
    ),
    Mutant(
        "rnn-missing-fork-sum-h",
        "rnn",
        "dh = d_outputs[:, t] + dh_next",
        "dh = dh_next",
        caught_by="grad/U",
        options=(("activation", "relu"),),
    ),
    Mutant(
        "layernorm-lstm-layer-norm-mean-term-dropped",
        "layernorm_lstm",
        "return dd + dmean / size",
        "return dd",
        caught_by="grad/W_f",
    ),
    Mutant(
        "layernorm-lstm-layer-norm-variance-term-dropped",
        "layernorm_lstm",
        "dd = dd + dvar * 2.0 * (n / r) / size",
        "dd = dd",
        caught_by="grad/U_i",
    ),
    Mutant(
        "peephole-lstm-output-peephole-reads-c-prev",
        "peephole_lstm",
        'grads["p_o"] = (dz_o * c_new).sum(axis=(0, 1))',
        'grads["p_o"] = (dz_o * c_prev).sum(axis=(0, 1))',
        caught_by="grad/p_o",
    ),
    Mutant(
        "peephole-lstm-peephole-term-of-dc-prev-dropped",
        "peephole_lstm",
        "dc_next = dc * f + dc_peep",
        "dc_next = dc * f",
        caught_by="grad/c0",
    ),
    Mutant(
        "peephole-lstm-cell-clip-mask-dropped",
        "peephole_lstm",
        "dc = dc * mask[:, t]",
        "dc = dc",
        caught_by="grad/W_f",
        options=(("cell_clip", 0.5),),
    ),
    Mutant(
        "peephole-lstm-forget-bias-in-backward",
        "peephole_lstm",
        "dz_f = dc * c[:, t] * sigmoid_grad(f)",
        'dz_f = dc * c[:, t] * sigmoid_grad(f + options["forget_bias"])',
        caught_by="grad/W_f",
    ),
    Mutant(
        "dense-bias-gradient-from-first-row",
        "dense",
        '"b": dz.sum(axis=0)',
        '"b": dz[0]',
        caught_by="grad/b",
    ),
    Mutant(
        "rnn-transposed-recurrent-weight-gradient",
        "rnn",
        '"U": h[:, :-1].reshape(-1, h.shape[-1]).T @ d_flat,',
        '"U": (h[:, :-1].reshape(-1, h.shape[-1]).T @ d_flat).T,',
        caught_by="grad/U",
    ),
    Mutant(
        "rnn-recurrent-gradient-reads-h-of-the-wrong-step",
        "rnn",
        '"U": h[:, :-1].reshape(-1, h.shape[-1]).T @ d_flat,',
        '"U": h[:, 1:].reshape(-1, h.shape[-1]).T @ d_flat,',
        caught_by="grad/U",
    ),
    Mutant(
        "loss-gradient-not-averaged-over-the-batch",
        "rnn",
        "    dlogits /= batch\n",
        "",
        caught_by="grad/W_y",
        target="reference_impl.loss",
    ),
    Mutant(
        "loss-gradient-target-term-dropped",
        "dense",
        "    dlogits[rows, targets] -= 1.0\n",
        "",
        caught_by="grad/W_y",
        target="reference_impl.loss",
    ),
)
