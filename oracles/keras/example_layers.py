"""Example Keras layers for ``--module`` (``Framework.examples`` of ``tf``, ``keras_jax`` and
``keras_torch``): a drop-in for ``keras.layers.LSTM``, one with a planted bug, and layers that do
not fit ``keras.layers.GRU``, ``SimpleRNN`` and ``Dense``. Keras layers in a ``Bidirectional``
wrapper are rebuilt from their config, so a user's layer class must be registered with
``keras.saving.register_keras_serializable`` (Keras's own contract), as these are."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="gradparity_examples")
class LSTM(keras.layers.LSTM):
    """``keras.layers.LSTM`` itself, under a name of a user's package: it must agree."""


@keras.saving.register_keras_serializable(package="gradparity_examples")
class LSTMWithReluCandidate(keras.layers.LSTM):
    """A kernel that hard-codes ReLU for the candidate and the output squashing: the planted
    bug, caught on the outputs."""

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(units, activation="relu", **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("activation")
        return config


class _WithoutBias:
    """No ``bias`` variable: it does not fit the stock layer it is mixed into."""

    def __init__(self, units, **kwargs):
        kwargs.pop("use_bias", None)
        super().__init__(units, use_bias=False, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("use_bias")
        return config


@keras.saving.register_keras_serializable(package="gradparity_examples")
class GRUWithoutBias(_WithoutBias, keras.layers.GRU):
    """It does not fit ``keras.layers.GRU``."""


@keras.saving.register_keras_serializable(package="gradparity_examples")
class SimpleRNNWithoutBias(_WithoutBias, keras.layers.SimpleRNN):
    """It does not fit ``keras.layers.SimpleRNN``."""


@keras.saving.register_keras_serializable(package="gradparity_examples")
class DenseWithoutBias(_WithoutBias, keras.layers.Dense):
    """It does not fit ``keras.layers.Dense``."""
