"""gradparity's harness: the cell registry, the oracle adapters (PyTorch, TensorFlow/Keras,
complex step, finite differences), cases, the tolerance table, comparison, fixtures and the
``gradparity`` command line. Frameworks are imported only when an oracle first runs."""

from oracles.determinism import pin_environment
from oracles.native import keep_freed_memory

pin_environment()
keep_freed_memory()
