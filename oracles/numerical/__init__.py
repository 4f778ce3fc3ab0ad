"""The numerical oracles: complex step (``numerical``) and central differences (``fd``) of the
reference's forward pass, without its backward pass. NumPy only."""
