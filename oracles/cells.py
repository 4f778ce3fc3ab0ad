"""The registered cells. Adding a cell: its reference file, one entry here, one builder per
framework oracle (see docs/adding-a-cell.md)."""

from __future__ import annotations

from oracles.cases import grid
from oracles.registry import Builder, CellSpec, Option


def lstm_shapes(i: int, h: int, options) -> dict[str, tuple[int, ...]]:
    gates = ("i", "f", "g", "o")
    return {
        **{f"W_{g}": (i, h) for g in gates},
        **{f"U_{g}": (h, h) for g in gates},
        **{f"b_{g}": (h,) for g in gates},
    }


def gru_shapes(i: int, h: int, options) -> dict[str, tuple[int, ...]]:
    gates = ("r", "z", "n")
    return {
        **{f"W_{g}": (i, h) for g in gates},
        **{f"U_{g}": (h, h) for g in gates},
        **{f"bx_{g}": (h,) for g in gates},
        **{f"bh_{g}": (h,) for g in gates},
    }


def gru_reset_before_shapes(i: int, h: int, options) -> dict[str, tuple[int, ...]]:
    gates = ("r", "z", "n")
    return {
        **{f"W_{g}": (i, h) for g in gates},
        **{f"U_{g}": (h, h) for g in gates},
        **{f"b_{g}": (h,) for g in gates},
    }


CELLS = (
    CellSpec(
        name="lstm",
        summary="LSTM, gates i f g o (torch nn.LSTM, Keras LSTM)",
        reference="reference_impl.lstm",
        param_shapes=lstm_shapes,
        states=("h", "c"),
        options=(Option("forget_bias", 0.0, help="added inside the forget sigmoid (TF 1.x: 1.0)"),),
        sample_cases=lambda spec: grid(spec, options_by_seed={1: {"forget_bias": 1.0}}),
        builders={
            "torch": Builder("oracles.torch_cells:lstm"),
            "tf": Builder("oracles.tf_cells:lstm"),
        },
    ),
    CellSpec(
        name="dense",
        summary="dense layer y = act(x W + b) (torch nn.Linear, Keras Dense)",
        reference="reference_impl.dense",
        param_shapes=lambda i, h, options: {"W": (i, h), "b": (h,)},
        recurrent=False,
        options=(Option("activation", "tanh", choices=("linear", "tanh", "sigmoid", "relu")),),
        sample_cases=lambda spec: grid(
            spec,
            seeds=(0, 1, 2, 3),
            options_by_seed={
                s: {"activation": a} for s, a in enumerate(("linear", "tanh", "sigmoid", "relu"))
            },
        ),
        builders={
            "torch": Builder("oracles.torch_cells:dense"),
            "tf": Builder("oracles.tf_cells:dense"),
        },
    ),
    CellSpec(
        name="gru",
        summary="GRU, reset after the recurrent product, gates r z n"
        " (torch nn.GRU, Keras GRU reset_after=True)",
        reference="reference_impl.gru",
        param_shapes=gru_shapes,
        states=("h",),
        sample_cases=lambda spec: grid(spec, seeds=(0,)),
        builders={
            "torch": Builder("oracles.torch_cells:gru"),
            "tf": Builder("oracles.tf_cells:gru"),
        },
    ),
    CellSpec(
        name="gru_reset_before",
        summary="GRU, reset before the recurrent product, gates r z n"
        " (Keras GRU reset_after=False, TF 1.x GRUCell; torch composed)",
        reference="reference_impl.gru_reset_before",
        param_shapes=gru_reset_before_shapes,
        states=("h",),
        sample_cases=lambda spec: grid(spec, seeds=(0,)),
        builders={
            "torch": Builder("oracles.torch_cells:gru_reset_before", kind="composed"),
            "tf": Builder("oracles.tf_cells:gru_reset_before"),
        },
    ),
    CellSpec(
        name="rnn",
        summary="Elman RNN h' = act(x W + h U + b) (torch nn.RNN, Keras SimpleRNN)",
        reference="reference_impl.rnn",
        param_shapes=lambda i, h, options: {"W": (i, h), "U": (h, h), "b": (h,)},
        states=("h",),
        options=(Option("activation", "tanh", choices=("tanh", "relu")),),
        sample_cases=lambda spec: grid(
            spec, seeds=(0, 1), options_by_seed={1: {"activation": "relu"}}
        ),
        builders={
            "torch": Builder("oracles.torch_cells:rnn"),
            "tf": Builder("oracles.tf_cells:rnn"),
        },
    ),
)
