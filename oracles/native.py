"""The allocator setting under NumPy's buffers: freed memory is kept for reuse.

glibc's malloc serves blocks above a threshold (128 KiB to start) with a fresh ``mmap`` and
returns them to the kernel on ``free``, so every forward + backward pass of the reference
re-faults and zero-fills its tens of MiB of buffers: 7,000 page faults per call for the
float64 LSTM at B=32, T=100, H=128, a quarter of its time on this project's machine
(``docs/performance.md``). ``mallopt`` keeps blocks up to 32 MiB on the heap and up to 256 MiB
of freed heap for reuse. Applied once, when ``oracles`` is first imported, so the reference,
the frameworks and ``gradparity bench`` all run under it. It changes no result bit. Other
platforms and C libraries: nothing is changed.
"""

from __future__ import annotations

import ctypes
import platform

MMAP_THRESHOLD_BYTES = 32 * 2**20
TRIM_THRESHOLD_BYTES = 256 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_applied: list[bool] = []  # what the first keep_freed_memory() call achieved


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to reuse freed blocks; True if it took the settings."""
    applied = set_malloc_thresholds(MMAP_THRESHOLD_BYTES, TRIM_THRESHOLD_BYTES)
    if not _applied:
        _applied.append(applied)
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
    if _applied and _applied[0]:
        return (
            f"glibc malloc keeps freed memory (mmap threshold {MMAP_THRESHOLD_BYTES >> 20} MiB,"
            f" trim threshold {TRIM_THRESHOLD_BYTES >> 20} MiB)"
        )
    return "the C library's defaults (no glibc found to tune)"
