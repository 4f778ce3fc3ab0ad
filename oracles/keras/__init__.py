"""Keras 3 as two oracles, one per backend, each in a worker process of its own (Keras picks its
backend once per process, from ``KERAS_BACKEND``): ``keras_jax`` (float64 with
``jax_enable_x64``, ``jax.value_and_grad``) and ``keras_torch`` (torch autograd). Both load the
canonical weights into Keras's own layers with the builders every Keras backend shares
(``cells.py``, also the ``tf`` oracle's); every other cell with a step program is composed from
the backend's own ops (``jax_adapter.py``, ``torch_adapter.py``). Importing this module imports
neither Keras nor a backend."""

from gradparity.core.framework import Framework
from gradparity.core.registry import Builder

CELLS = "gradparity.keras.cells"
BUILDERS = {
    "lstm": Builder(f"{CELLS}:lstm", stacks=True, replaces="keras.layers.LSTM"),
    "dense": Builder(f"{CELLS}:dense", replaces="keras.layers.Dense"),
    "gru": Builder(f"{CELLS}:gru", stacks=True, replaces="keras.layers.GRU"),
    "gru_reset_before": Builder(
        f"{CELLS}:gru_reset_before", stacks=True, replaces="keras.layers.GRU"
    ),
    "rnn": Builder(f"{CELLS}:rnn", stacks=True, replaces="keras.layers.SimpleRNN"),
}

KERAS_JAX = Framework(
    name="keras_jax",
    summary="Keras 3 on its JAX backend (CPU, float64 with jax_enable_x64), jax.value_and_grad",
    requires=("keras", "jax"),
    extra="keras-jax",
    distributions=(("keras",), ("jax",), ("jaxlib",)),
    mutants="gradparity.keras.mutants:JAX_MUTANTS",
    facts="gradparity.keras.facts:JAX_FACTS",
    examples="gradparity.keras.examples:EXAMPLES",
    adapter="gradparity.keras.jax_adapter:KerasJaxAdapter",
    builders=BUILDERS,
    environment={"KERAS_BACKEND": "jax"},
    suite="pairwise",  # XLA compiles per shape (about 1 s each)
)

KERAS_TORCH = Framework(
    name="keras_torch",
    summary="Keras 3 on its torch backend (CPU), torch autograd",
    requires=("keras", "torch"),
    extra="keras-torch",
    distributions=(("keras",), ("torch",)),
    mutants="gradparity.keras.mutants:TORCH_MUTANTS",
    facts="gradparity.keras.facts:TORCH_FACTS",
    examples="gradparity.keras.examples:EXAMPLES",
    adapter="gradparity.keras.torch_adapter:KerasTorchAdapter",
    builders=BUILDERS,
    environment={"KERAS_BACKEND": "torch"},
)

FRAMEWORKS = (KERAS_JAX, KERAS_TORCH)
