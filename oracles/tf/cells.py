"""TensorFlow's LSTM builder: ``keras.layers.LSTM`` on the TensorFlow backend (the Keras builder
every backend shares, ``gradparity.keras.cells``), except with a projection, which Keras does not
have: ``proj_size`` goes to TensorFlow's own TF 1.x ``LSTMCell(num_proj=P)`` (``tf1``). The other
Keras cells of this oracle are ``gradparity.keras.cells``' builders themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gradparity.core.errors import OracleUnavailable
from gradparity.core.net import Net
from gradparity.keras import cells as keras_cells
from gradparity.reference_impl.stack import is_stacked
from gradparity.tf.tf1 import lstm_cell


def lstm(
    params: Mapping[str, np.ndarray], options: Mapping[str, Any], dtype: str, layer=None
) -> Net:
    """``keras.layers.LSTM``; with ``proj_size`` P, ``LSTMCell(num_proj=P, forget_bias=…)``: h
    (the cell's m) is [B, P]. ``layer``: a user's drop-in for ``keras.layers.LSTM``."""
    if not options["proj_size"]:
        return keras_cells.lstm(params, options, dtype, layer)
    if layer is not None:
        raise OracleUnavailable(
            "with proj_size the tf oracle runs TF 1.x LSTMCell(num_proj), not keras.layers.LSTM,"
            " so a module in place of keras.layers.LSTM is not checked there"
        )
    if is_stacked(options):
        raise OracleUnavailable("TF 1.x num_proj is wired for a single layer only")
    return lstm_cell(
        params, dtype, num_proj=options["proj_size"], forget_bias=options["forget_bias"]
    )
