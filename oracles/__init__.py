"""gradparity's harness: the cell registry, the oracle adapters (PyTorch, TensorFlow/Keras,
complex step, finite differences), cases, the tolerance table, comparison, fixtures and the
``gradparity`` command line. Frameworks are imported only when an oracle first runs."""

from oracles.determinism import pin_environment

pin_environment()
