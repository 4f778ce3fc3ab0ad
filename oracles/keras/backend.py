"""What both Keras adapters check.

In ``setup()``, that Keras really runs on the backend the oracle is named after: Keras reads
``KERAS_BACKEND`` once, when a process first imports it; each oracle's worker process sets it
(``Framework.environment``), and anything else (a process that imported Keras before,
``GRADPARITY_IN_PROCESS=1`` beside another Keras oracle) fails here, loudly, instead of checking
the wrong backend.

For each network, that Keras does not compute it in a narrower float than its inputs: on every
backend but TensorFlow's, ``keras.backend.result_type`` maps float64 to float32, so some Keras
ops (``keras.ops.tanh`` on JAX, ``keras.ops.matmul`` on torch) cast float64 tensors to float32
and the network is float32-accurate whatever its dtype. An oracle refuses such a network
(``OracleUnavailable``) with ``narrowed_reason``: where it narrows."""

from __future__ import annotations

import os
import re
from types import ModuleType


def keras_on(expected: str) -> ModuleType:
    """``keras``, imported (or already imported) on the ``expected`` backend."""
    import keras  # here, after the adapter's own settings (float64 on JAX)

    actual = keras.backend.backend()
    if actual != expected:
        raise RuntimeError(
            f"keras_{expected} needs Keras on its {expected} backend, but this process runs Keras"
            f" on {actual!r} (KERAS_BACKEND={os.environ.get('KERAS_BACKEND')!r}): Keras picks its"
            f" backend once per process, so run this oracle in a worker of its own"
            f" (KERAS_BACKEND={expected})"
        )
    return keras


def narrowed_reason(narrowed: list[str]) -> str:
    """Why an oracle refuses a network that computes part of its float64 work in float32."""
    first = sorted({re.sub(r"\S*/keras/src/", "keras/src/", where) for where in narrowed})
    more = f" (and {len(first) - 3} more places)" if len(first) > 3 else ""
    return (
        "Keras computes part of this network in a narrower float than its inputs, so it cannot"
        " check them at their own precision: " + "; ".join(first[:3]) + more + "."
        " keras.backend.result_type maps float64 to float32 on every backend but TensorFlow's"
        " (keras/src/backend/common/dtypes.py, BIT64_TO_BIT32_DTYPE); docs/frameworks.md"
    )
