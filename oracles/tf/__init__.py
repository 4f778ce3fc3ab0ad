"""TensorFlow as an oracle: Keras 3 layers on the TensorFlow backend loaded with the canonical
weights (``cells.py``), TensorFlow's own TF 1.x cells (``tf1.py``), every other cell with a step
program composed from TensorFlow's ops (``adapter.py``'s table, stepped with ``tf.scan``),
``tf.GradientTape`` inside one ``tf.function`` per network. Importing this module does not
import TensorFlow."""

from gradparity.core.framework import Framework
from gradparity.core.registry import Builder

FRAMEWORK = Framework(
    name="tf",
    summary="TensorFlow (CPU) with Keras 3 on its TensorFlow backend, GradientTape",
    requires=("tensorflow", "keras"),
    extra="tf",
    distributions=(("tensorflow-cpu", "tensorflow"), ("keras",)),
    mutants="gradparity.tf.mutants:MUTANTS",
    facts="gradparity.tf.facts:FACTS",
    adapter="gradparity.tf.adapter:TFAdapter",
    builders={
        "lstm": Builder("gradparity.tf.cells:lstm", stacks=True),
        "dense": Builder("gradparity.tf.cells:dense"),
        "gru": Builder("gradparity.tf.cells:gru", stacks=True),
        "gru_reset_before": Builder("gradparity.tf.cells:gru_reset_before", stacks=True),
        "rnn": Builder("gradparity.tf.cells:rnn", stacks=True),
        "peephole_lstm": Builder("gradparity.tf.tf1:peephole_lstm"),  # TF 1.x: diagonal only
    },
    environment={"KERAS_BACKEND": "tensorflow"},
)
