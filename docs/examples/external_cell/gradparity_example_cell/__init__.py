"""An external gradparity cell: the minimal gated unit (Zhou et al., 2016).

Installing this package registers the cell ``mgu`` through the entry point group
``gradparity.cells`` (see pyproject.toml); gradparity's agreement suite, ``compare``,
``reproduce`` and ``certify`` then check it against PyTorch, TensorFlow and the numerical
oracles without any edit to gradparity itself.
"""

from gradparity import Builder, CellSpec, grid

CELL = CellSpec(
    name="mgu",
    summary="minimal gated unit, an external cell (torch and TF composed)",
    reference="gradparity_example_cell.reference",
    states=("h",),
    sample_cases=lambda spec: grid(
        spec, seeds=(0,), seq_lens=(1, 7, 50), hidden_sizes=(1, 3, 16), batches=(2,)
    ),
    builders={
        "torch": Builder("gradparity_example_cell.torch_builder:mgu", kind="composed"),
        "tf": Builder("gradparity_example_cell.tf_builder:mgu", kind="composed"),
    },
)
