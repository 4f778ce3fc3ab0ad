"""TensorFlow as an oracle: Keras 3 layers on the TensorFlow backend loaded with the canonical
weights (``gradparity.keras.cells``, the Keras builders every backend shares; ``cells.py`` sends
a projected LSTM to TF 1.x), TensorFlow's own TF 1.x cells (``tf1.py``), every other cell with
a step program composed from TensorFlow's ops (``adapter.py``'s table, stepped with ``tf.scan``),
``tf.GradientTape`` inside one ``tf.function`` per network. Importing this module does not
import TensorFlow."""

from gradparity.core.framework import Framework
from gradparity.core.registry import Builder

KERAS = "gradparity.keras.cells"

FRAMEWORK = Framework(
    name="tf",
    summary="TensorFlow (CPU) with Keras 3 on its TensorFlow backend, GradientTape",
    requires=("tensorflow", "keras"),
    extra="tf",
    distributions=(("tensorflow-cpu", "tensorflow"), ("keras",)),
    mutants="gradparity.tf.mutants:MUTANTS",
    facts="gradparity.tf.facts:FACTS",
    examples="gradparity.keras.examples:EXAMPLES",
    adapter="gradparity.tf.adapter:TFAdapter",
    builders={
        "lstm": Builder("gradparity.tf.cells:lstm", stacks=True, replaces="keras.layers.LSTM"),
        "dense": Builder(f"{KERAS}:dense", replaces="keras.layers.Dense"),
        "gru": Builder(f"{KERAS}:gru", stacks=True, replaces="keras.layers.GRU"),
        "gru_reset_before": Builder(
            f"{KERAS}:gru_reset_before", stacks=True, replaces="keras.layers.GRU"
        ),
        "rnn": Builder(f"{KERAS}:rnn", stacks=True, replaces="keras.layers.SimpleRNN"),
        "peephole_lstm": Builder(  # TF 1.x: diagonal only
            "gradparity.tf.tf1:peephole_lstm",
            without_lengths="TF 1.x LSTMCell is stepped with tf.scan over every step",
        ),
    },
    environment={"KERAS_BACKEND": "tensorflow"},
    suite="pairwise",  # a trace per network: 0.3-0.6 s, 1.2-2 s for two bidirectional layers
)
