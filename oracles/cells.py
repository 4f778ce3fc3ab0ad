"""The catalogue: this repository's cells, each declared once. Adding a cell: its reference
file, one entry here, and a native builder in a framework's folder where the framework ships the
layer (docs/adding-a-cell.md)."""

from __future__ import annotations

from gradparity.core.cases import grid
from gradparity.core.registry import CellSpec, Option

TF1_FORGET_BIAS = Option(
    "forget_bias", 1.0, help="added inside the forget sigmoid (TF 1.x)", suite_values=(1.0, 0.0)
)
"""TF 1.x's forget_bias (default 1.0), of the cells that reproduce TF 1.x's contrib cells."""


def layernorm_lstm_cases(spec: CellSpec) -> list:
    """A reduced grid (the full one took minutes), with H >= 6 (not 5 = input_size): layer norm
    over few features is ill-conditioned. At H = 1 it is constant (var = 0); at H = 2 it is ±1
    whatever its input, so every gradient through it is O(eps) noise; at H = 3 (and 4) the
    variance of the features is now and then tiny: 1/std reached 395 in ten seeds at T = 50
    (and 225 in a stacked H = 3, T = 7 case), amplifying rounding beyond the float32 tolerance and
    central differences' truncation beyond theirs (complex step still agreed to 1e-15). From
    H = 5 on 1/std stayed at or below 30 in the same scan. Stacked: 2 layers, bidirectional, H = 6
    (the grid's own stacked cases use H = 3), T = 2 and float64 only (the costliest case)."""
    short = grid(spec, seeds=(0,), seq_lens=(1, 7), hidden_sizes=(6,), stacked=False)
    long = grid(
        spec, seeds=(1,), seq_lens=(50,), hidden_sizes=(16, 64), batches=(4,), stacked=False
    )
    deep = grid(
        spec,
        seeds=(2,),
        seq_lens=(2,),
        hidden_sizes=(6,),
        batches=(2,),
        dtypes=("float64",),
        options_by_seed={2: {"layers": 2, "bidirectional": True}},
        stacked=False,
    )
    return short + long + deep


def peephole_lstm_cases(spec: CellSpec) -> list:
    """A reduced grid (the full one took minutes)."""
    return grid(spec, seeds=(0,), seq_lens=(1, 7, 50), hidden_sizes=(1, 16), batches=(4,))


def program_cell_cases(spec: CellSpec) -> list:
    """A smaller grid for cells declared only as programs, whose reference (the program's, one
    primitive at a time) is slower than a fused one: T 1, 7, 50 × H 1, 3, 16 × B 2, plus the
    stacked cases."""
    return grid(spec, seeds=(0,), seq_lens=(1, 7, 50), hidden_sizes=(1, 3, 16), batches=(2,))


CELLS = (
    CellSpec(
        name="lstm",
        summary="LSTM, gates i f g o; options forget_bias (TF 1.x semantics), proj_size",
        reference="gradparity.reference_impl.lstm",
        states=("h", "c"),
        options=(
            Option(
                "forget_bias",
                0.0,
                help="added inside the forget sigmoid (TF 1.x: 1.0)",
                suite_values=(0.0, 1.0),
            ),
            Option(
                "proj_size",
                0,
                minimum=0,
                help="project h to this width (0: no projection)",
                suite_values=(0, 2),
                below_hidden=True,
            ),
        ),
        sample_cases=lambda spec: grid(spec, seeds=(0,)),
    ),
    CellSpec(
        name="dense",
        summary="dense layer y = act(x W + b)",
        reference="gradparity.reference_impl.dense",
        recurrent=False,
        options=(Option("activation", "tanh", choices=("linear", "tanh", "sigmoid", "relu")),),
        sample_cases=lambda spec: grid(spec, seeds=(0,)),
    ),
    CellSpec(
        name="gru",
        summary="GRU, reset after the recurrent product, gates r z n, biases bx_*, bh_*",
        reference="gradparity.reference_impl.gru",
        states=("h",),
        options=(
            Option(
                "hidden_n_bias",
                True,
                help="bh_n inside r ∘ (h U_n + bh_n); false: none (Flax NNX GRUCell)",
            ),
        ),
        sample_cases=lambda spec: grid(spec, seeds=(0,)),
    ),
    CellSpec(
        name="gru_reset_before",
        summary="GRU, reset before the recurrent product, gates r z n (TF 1.x GRUCell)",
        reference="gradparity.reference_impl.gru_reset_before",
        states=("h",),
        sample_cases=lambda spec: grid(spec, seeds=(0,)),
    ),
    CellSpec(
        name="rnn",
        summary="Elman RNN h' = act(x W + h U + b)",
        reference="gradparity.reference_impl.rnn",
        states=("h",),
        options=(Option("activation", "tanh", choices=("tanh", "relu")),),
        sample_cases=lambda spec: grid(spec, seeds=(0,)),
    ),
    CellSpec(
        name="layernorm_lstm",
        summary="LSTM with layer norm on each gate and on c, no bias"
        " (TF 1.x contrib LayerNormBasicLSTMCell)",
        reference="gradparity.reference_impl.layernorm_lstm",
        states=("h", "c"),
        options=(TF1_FORGET_BIAS,),
        sample_cases=layernorm_lstm_cases,
        pairwise_sizes=((6, 3, 2), (7, 1, 3), (6, 5, 1)),  # H >= 6: layernorm_lstm_cases
    ),
    CellSpec(
        name="peephole_lstm",
        summary="LSTM with peepholes, diagonal (TF 1.x LSTMCell use_peepholes) or full-matrix"
        " (seed slides), optional cell clip",
        reference="gradparity.reference_impl.peephole_lstm",
        states=("h", "c"),
        options=(
            TF1_FORGET_BIAS,
            Option(
                "cell_clip",
                0.0,
                help="clip c to [-cell_clip, cell_clip]; <= 0: no clip",
                suite_values=(0.0, 0.5),
            ),
            Option(
                "peepholes",
                "diagonal",
                choices=("diagonal", "matrix"),
                help="diagonal: p_* [H], o reads the new c (TF 1.x); matrix: P_* [H, H],"
                " i f o read c_prev (seed slides)",
            ),
        ),
        sample_cases=peephole_lstm_cases,
    ),
    CellSpec(
        name="cifg_lstm",
        summary="LSTM with a coupled input-forget gate, i = 1 - f (Greff et al. 2017);"
        " a step program only",
        reference="gradparity.reference_impl.cifg_lstm",
        states=("h", "c"),
        options=(
            Option(
                "forget_bias", 0.0, help="added inside the forget sigmoid", suite_values=(0.0, 1.0)
            ),
        ),
        sample_cases=program_cell_cases,
    ),
    CellSpec(
        name="mgu",
        summary="minimal gated unit (Zhou et al. 2016); a step program only",
        reference="gradparity.reference_impl.mgu",
        states=("h",),
        sample_cases=program_cell_cases,
    ),
)
