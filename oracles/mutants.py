"""Planted bugs: textual edits of the reference's source, loaded as a separate module.

Each mutant must make the agreement checks fail; the test suite and ``gradparity mutate``
prove that it does, so a check that cannot fail cannot go unnoticed. ``find`` must occur
exactly once in the source, so a refactor that removes it breaks the mutant loudly instead of
silently testing nothing. A mutant edits its cell's reference module, or, with ``target``,
another reference module that every cell's network uses (the loss).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType

from gradparity.catalog import get_cell
from gradparity.core.cases import Case
from gradparity.core.edits import load_edited
from gradparity.reference_impl import network
from gradparity.reference_impl.program_cell import ProgramCell
from gradparity.reference_impl.step_program import parse_step

SHARED_TARGETS = {
    "gradparity.reference_impl.loss": "softmax_cross_entropy",
    "gradparity.reference_impl.ragged": "Ragged",
}  # module -> name network uses


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
    patch = None  # it edits the reference (a converter mutant: its builder module)
    oracles: tuple[str, ...] = ()  # any oracle may catch it
    lengths: tuple[int, ...] | None = None  # per-example lengths the bug needs (batch: one each)

    def case(self, dtype: str = "float64", **sizes: int) -> Case:
        """A small case of the mutant's cell with the options its bug needs."""
        fields = {"input_size": 3, "hidden_size": 4, "seq_len": 5, "batch": 2} | sizes
        if self.lengths is not None:
            fields |= {"batch": len(self.lengths), "lengths": self.lengths}
        return Case.make(get_cell(self.cell), options=dict(self.options), dtype=dtype, **fields)

    def original(self) -> ModuleType:
        if not self.target:
            return get_cell(self.cell).module()
        if self.target not in SHARED_TARGETS:
            raise ValueError(f"mutant {self.name}: cannot mutate {self.target}")
        return importlib.import_module(self.target)

    @contextmanager
    def applied(self) -> Iterator[ModuleType | None]:
        """Yields the cell module to run (None: the registered one) with the bug in place."""
        mutated = self.load()
        if not self.target:
            yield mutated if hasattr(mutated, "forward") else program_reference(self.cell, mutated)
            return
        name = SHARED_TARGETS[self.target]
        saved = getattr(network, name)
        setattr(network, name, getattr(mutated, name))
        try:
            yield None
        finally:
            setattr(network, name, saved)

    def load(self) -> ModuleType:
        return load_edited(self.original(), self.find, self.replace, f"mutant {self.name}")


def program_reference(cell: str, module: ModuleType) -> ProgramCell:
    """The readable reference of ``module``'s (edited) step program."""
    spec = get_cell(cell)
    names = tuple(option.name for option in spec.all_options)
    return ProgramCell(lambda options: parse_step(module.step_equations(options), cell, names))


MUTANTS = (
    Mutant(
        "lstm-swapped-gate-blocks",
        "lstm",
        "dz_i, dz_f, dz_o, dz_g = np.split(dz, 4)",
        "dz_f, dz_i, dz_o, dz_g = np.split(dz, 4)",
        caught_by="grad/W_i",
    ),
    Mutant(
        "lstm-missing-fork-sum-h",
        "lstm",
        "np.add(d_outputs[:, t].T, dh_next, out=dh)",
        "np.copyto(dh, dh_next)",
        caught_by="grad/U_o",
    ),
    Mutant(  # `=` where the fork needs `+=`
        "lstm-missing-fork-sum-c",
        "lstm",
        "dc += dm * o[t] * tanh_grad(tanh_c[t])",
        "dc[...] = dm * o[t] * tanh_grad(tanh_c[t])",
        caught_by="grad/c0",
    ),
    Mutant(  # only the final-state gradient path: the cotangent of c_T is dropped
        "lstm-final-c-cotangent-dropped",
        "lstm",
        'dc = np.array(d_final["c"].T, dtype=dtype)',
        'dc = np.zeros_like(d_final["c"].T, dtype=dtype)',
        caught_by="grad/c0",
    ),
    Mutant(  # only the final-state gradient path: the cotangent of h_T is dropped
        "gru-final-h-cotangent-dropped",
        "gru",
        'dh_next = np.array(d_final["h"].T, dtype=dtype)',
        'dh_next = np.zeros_like(d_final["h"].T, dtype=dtype)',
        caught_by="grad/h0",
    ),
    Mutant(
        "lstm-sign-flip-output-gate",
        "lstm",
        "np.multiply(dm, tanh_c[t], out=dz_o)",
        "np.multiply(-dm, tanh_c[t], out=dz_o)",
        caught_by="grad/W_o",
    ),
    Mutant(
        "lstm-forget-term-dropped",
        "lstm",
        "dc *= f[t]",
        "dc *= 1.0",
        caught_by="grad/c0",
    ),
    Mutant(
        "lstm-forget-bias-missing",
        "lstm",
        'b[hidden : 2 * hidden] += options["forget_bias"]',
        "b[hidden : 2 * hidden] += 0.0",
        caught_by="outputs",
        options=(("forget_bias", 1.0),),
        forward=True,
    ),
    Mutant(  # f' = σ'(z_f), but the backward adds forget_bias to the gate's output once more
        "lstm-forget-bias-in-backward",
        "lstm",
        "dc *= f[t]",
        'dc *= f[t] + options["forget_bias"]',
        caught_by="grad/c0",
        options=(("forget_bias", 1.0),),
    ),
    Mutant(  # σ'(z) = s (1 − s) evaluated at the pre-activation z instead of the output s
        "lstm-sigmoid-derivative-from-pre-activation",
        "lstm",
        "sigmoid_grad(gates[t, : 3 * hidden], out=act_grad[: 3 * hidden])",
        "sigmoid_grad(np.log(gates[t, : 3 * hidden] / (1.0 - gates[t, : 3 * hidden])),"
        " out=act_grad[: 3 * hidden])",
        caught_by="grad/W_i",
    ),
    Mutant(  # d f = dc ∘ c_{t-1}, but read c_t: an off-by-one in the [T + 1] state buffer
        "lstm-forget-gradient-reads-c-of-the-wrong-step",
        "lstm",
        "np.multiply(dc, c[t], out=dz_f)",
        "np.multiply(dc, c[t + 1], out=dz_f)",
        caught_by="grad/W_f",
    ),
    Mutant(  # U_k's gradient transposed (square [H, H] blocks: the shapes still match)
        "lstm-transposed-recurrent-weight-gradient",
        "lstm",
        '**unfuse(h_cols @ dz_cols.T, "U", FUSED)',
        '**{k: v.T for k, v in unfuse(h_cols @ dz_cols.T, "U", FUSED).items()}',
        caught_by="grad/U_i",
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
        "np.multiply(dn, h_n[t], out=dr)",
        "np.multiply(dn, h[t], out=dr)",
        caught_by="grad/U_r",
    ),
    Mutant(
        "gru-update-gate-sign-flip",
        "gru",
        "np.subtract(h[t], n[t], out=dz)",
        "np.subtract(n[t], h[t], out=dz)",
        caught_by="grad/W_z",
    ),
    Mutant(
        "gru-reset-missing-in-recurrent-n-gradient",
        "gru",
        "np.multiply(dn, r[t], out=dh_pre[2 * hidden :])",
        "np.copyto(dh_pre[2 * hidden :], dn)",
        caught_by="grad/bh_n",
    ),
    Mutant(  # d z = dh ∘ (h_{t-1} − n), but read h_t: an off-by-one in the [T + 1] buffer
        "gru-update-gradient-reads-h-of-the-wrong-step",
        "gru",
        "np.subtract(h[t], n[t], out=dz)",
        "np.subtract(h[t + 1], n[t], out=dz)",
        caught_by="grad/W_z",
    ),
    Mutant(  # `=` where the fork needs `+=`: the z ∘ h_{t-1} path replaces the products
        "gru-missing-fork-sum-h-prev",
        "gru",
        "dh_next += dh * z[t]",
        "dh_next[...] = dh * z[t]",
        caught_by="grad/h0",
    ),
    Mutant(
        "gru-reset-before-missing-fork-sum-reset-product",
        "gru_reset_before",
        "dh_next += d_rh * r[t]",
        "pass",
        caught_by="grad/h0",
    ),
    Mutant(
        "gru-reset-before-U_n-reads-h",
        "gru_reset_before",
        "dU_n = rh_cols @",
        "dU_n = h_cols @",
        caught_by="grad/U_n",
    ),
    Mutant(
        "rnn-activation-derivative-dropped",
        "rnn",
        "np.multiply(dh, act_grad(h[t + 1]), out=d_pre)",
        "np.copyto(d_pre, dh)",
        caught_by="grad/W",
    ),
    Mutant(
        "rnn-missing-fork-sum-h",
        "rnn",
        "np.add(d_outputs[:, t].T, dh_next, out=dh)",
        "np.copyto(dh, dh_next)",
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
        '"U": h_cols @ d_cols.T,',
        '"U": (h_cols @ d_cols.T).T,',
        caught_by="grad/U",
    ),
    Mutant(
        "rnn-recurrent-gradient-reads-h-of-the-wrong-step",
        "rnn",
        "h_cols = np.ascontiguousarray(h[:-1].transpose(1, 0, 2))",
        "h_cols = np.ascontiguousarray(h[1:].transpose(1, 0, 2))",
        caught_by="grad/U",
    ),
    Mutant(
        "loss-gradient-not-averaged-over-the-batch",
        "rnn",
        "    dlogits /= batch\n",
        "",
        caught_by="grad/W_y",
        target="gradparity.reference_impl.loss",
    ),
    Mutant(
        "loss-gradient-target-term-dropped",
        "dense",
        "    dlogits[rows, targets] -= 1.0\n",
        "",
        caught_by="grad/W_y",
        target="gradparity.reference_impl.loss",
    ),
    Mutant(  # a padded step updates the state: the final state is one step too late
        "ragged-padded-step-updates-the-state",
        "gru",
        "steps = length  # the cell runs over the valid prefix alone",
        "steps = min(length + 1, x.shape[1])",
        caught_by="h_T",
        forward=True,
        target="gradparity.reference_impl.ragged",
        lengths=(5, 2, 1),
    ),
    Mutant(  # `=` where the groups' parameter gradients must add up
        "ragged-parameter-gradients-of-the-last-group-only",
        "lstm",
        "grads[name] = grads[name] + g if name in grads else g  # parameters fork",
        "grads[name] = g",
        caught_by="grad/W_i",
        target="gradparity.reference_impl.ragged",
        lengths=(5, 2, 1),
    ),
)
