"""An external gradparity cell: the light GRU (Ravanelli, Brakel, Omologo and Bengio, "Light
Gated Recurrent Units for Speech Recognition", 2018), without its batch normalization.

Installing this package registers the cell ``ligru`` through the entry-point group
``gradparity.cells`` (see pyproject.toml). The cell is one file of equations, ``ligru.py`` (its
step program), and this registry entry: gradparity's agreement suite, ``compare``,
``reproduce`` and ``certify`` then check its reference (generated from the program) against a
composed network in every installed framework and the numerical oracles, without any edit to
gradparity itself. A package may also bring framework builders of its own
(``CellSpec(builders={framework: Builder(...)})``), or a hand-written fused reference.
"""

from gradparity import CellSpec, grid

CELL = CellSpec(
    name="ligru",
    summary="light GRU (Ravanelli et al. 2018), an external cell declared as a step program",
    reference="gradparity_example_cell.ligru",
    states=("h",),
    sample_cases=lambda spec: grid(spec, seeds=(0,), seq_lens=(1, 7, 50), hidden_sizes=(3,)),
)
