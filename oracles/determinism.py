"""The settings that change the bits of results, pinned in one place.

Measured on this project's machine: NumPy's OpenBLAS gives different last bits for the same
product when it starts with 1 or 2 threads (the count is read once, when the library loads;
changing it at run time does not restore the other result). PyTorch and TensorFlow split CPU
reductions by their intra-op thread count, and oneDNN reorders float sums. So every process
that computes results (the CLI, every pytest-xdist worker) runs with:

    OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = GRADPARITY_THREADS (default 1)
    torch.set_num_threads(GRADPARITY_THREADS)
    TensorFlow intra-op and inter-op threads = GRADPARITY_THREADS
    TF_ENABLE_ONEDNN_OPTS = 0

The environment variables are set (unless already set) when ``oracles`` is first imported,
which must happen before NumPy loads for the BLAS setting to apply: the ``gradparity``
command and the test suite's conftest both do that. Explicitly set variables win.
"""

from __future__ import annotations

import os

THREADS_ENV = "GRADPARITY_THREADS"
_BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def thread_count() -> int:
    value = os.environ.get(THREADS_ENV, "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def pin_environment() -> None:
    """Set the thread and oneDNN variables (without overriding explicit ones)."""
    for name in _BLAS_VARIABLES:
        os.environ.setdefault(name, str(thread_count()))
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pin_torch(torch) -> None:
    if torch.get_num_threads() != thread_count():
        torch.set_num_threads(thread_count())


def pin_tensorflow(tf) -> None:
    """Before TensorFlow's runtime starts: its thread pools.

    ``tf.config.experimental.enable_op_determinism()`` is not used: the CPU kernels these
    networks use are deterministic at a fixed thread count, and it made every call of a traced
    step 50-100x slower here (0.3-0.5 s instead of 5 ms)."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(thread_count())
        tf.config.threading.set_inter_op_parallelism_threads(thread_count())
    except RuntimeError:  # the runtime already started (someone used TF first): leave it
        pass
