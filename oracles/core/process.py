"""The process settings that change the bits or the speed of results, applied on request.

Importing gradparity changes nothing. The ``gradparity`` command, the pytest plugin (when
asked: ``--gradparity`` or the ini option ``gradparity_pin``) and gradparity's own framework
worker processes call ``pin_process()`` before NumPy loads.

Bits (measured on this project's machine): NumPy's OpenBLAS gives different last bits for the
same product when it starts with 1 or 2 threads (the count is read once, when the library
loads; changing it at run time does not restore the other result). PyTorch and TensorFlow
split CPU reductions by their intra-op thread count, and oneDNN reorders float sums. So:

    OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = GRADPARITY_THREADS (default 1)
    TF_ENABLE_ONEDNN_OPTS = 0, TF_CPP_MIN_LOG_LEVEL = 2
    each framework's intra-op (and inter-op) threads = GRADPARITY_THREADS, set by its adapter

Explicitly set variables win.

Speed: glibc's malloc serves blocks above 128 KiB with a fresh ``mmap`` and returns them to the
kernel on ``free``, so every forward + backward pass of the reference re-faults and zero-fills
its buffers (7,000 page faults per call for the float64 LSTM at B=32, T=100, H=128, a quarter of
its time here; docs/performance.md). ``mallopt`` keeps blocks up to 32 MiB on the heap and up
to 256 MiB of freed heap for reuse. It changes no result bit. Other C libraries: unchanged.
"""

from __future__ import annotations

import ctypes
import os
import platform

THREADS_ENV = "GRADPARITY_THREADS"
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
FRAMEWORK_VARIABLES = {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
MMAP_THRESHOLD_BYTES = 32 * 2**20
TRIM_THRESHOLD_BYTES = 256 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_allocator: list[bool] = []  # what the first keep_freed_memory() call achieved


def thread_count() -> int:
    value = os.environ.get(THREADS_ENV, "1")
    return int(value) if value.isdigit() and int(value) > 0 else 1


def pin_process() -> None:
    """Pin thread counts and oneDNN in the environment (without overriding explicit values)
    and keep freed memory for reuse. Call it before NumPy loads."""
    for name in BLAS_VARIABLES:
        os.environ.setdefault(name, str(thread_count()))
    for name, value in FRAMEWORK_VARIABLES.items():
        os.environ.setdefault(name, value)
    keep_freed_memory()


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to reuse freed blocks; True if it took the settings."""
    applied = set_malloc_thresholds(MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES)
    if not _allocator:
        _allocator.append(applied)
    return applied


def set_malloc_thresholds(mmap_bytes: int, trim_bytes: int) -> bool:
    """glibc's M_MMAP_THRESHOLD and M_TRIM_THRESHOLD; False where there is no glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_bytes) and mallopt(_M_TRIM_THRESHOLD, trim_bytes))


def allocator_setting() -> str:
    """One line for reports: whether freed memory is kept for reuse in this process."""
    if _allocator and _allocator[0]:
        return (
            f"glibc malloc keeps freed memory (mmap threshold {MMAP_THRESHOLD_BYTES >> 20} MiB,"
            f" trim threshold {TRIM_THRESHOLD_BYTES >> 20} MiB)"
        )
    return "the C library's defaults (not pinned in this process, or no glibc to tune)"
