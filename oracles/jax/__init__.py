"""JAX with Flax as an oracle: Flax's own cells loaded with the canonical weights and run over
time with ``nnx.RNN`` (``cells.py``): NNX ``LSTMCell`` (single layers) and
``OptimizedLSTMCell`` (each unit of a stack), linen ``GRUCell`` for the canonical GRU (it has
the ``b_hn`` that NNX's lacks) and NNX ``GRUCell`` for the GRU without it, NNX ``SimpleCell``,
``Linear``; every other cell composed from its step program with ``jax.numpy`` and
``lax.scan``; ``jax.value_and_grad`` compiled once per network and shape (``adapter.py``).
Importing this module does not import JAX."""

from gradparity.core.framework import Framework
from gradparity.core.registry import Builder

FRAMEWORK = Framework(
    name="jax",
    summary="JAX (CPU) with Flax NNX and linen cells, jax.value_and_grad under jit",
    requires=("jax", "flax"),
    extra="jax",
    distributions=(("jax",), ("jaxlib",), ("flax",)),
    adapter="gradparity.jax.adapter:JaxAdapter",
    mutants="gradparity.jax.mutants:MUTANTS",
    facts="gradparity.jax.facts:FACTS",
    examples="gradparity.jax.examples:EXAMPLES",
    suite="pairwise",
    builders={
        "lstm": Builder("gradparity.jax.cells:lstm", replaces="flax.nnx.LSTMCell"),
        "gru": Builder("gradparity.jax.cells:gru", replaces="flax.nnx.GRUCell"),
        "rnn": Builder("gradparity.jax.cells:rnn", replaces="flax.nnx.SimpleCell"),
        "dense": Builder("gradparity.jax.cells:dense", replaces="flax.nnx.Linear"),
    },
)
