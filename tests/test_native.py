"""The allocator setting of ``gradparity.core.process``: a repeated reference pass reuses freed
memory instead of page-faulting fresh buffers in (the check fails under glibc's defaults)."""

from __future__ import annotations

import contextlib
import platform
import resource

import numpy as np
import pytest

from gradparity.catalog import get_cell
from gradparity.core.cases import Case, make_problem
from gradparity.core.process import (
    MMAP_THRESHOLD_BYTES,
    TRIM_THRESHOLD_BYTES,
    allocator_setting,
    keep_freed_memory,
    set_malloc_thresholds,
)
from gradparity.reference_impl import network

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the allocator setting applies to glibc's malloc on Linux only",
)

GLIBC_DEFAULT_THRESHOLD = 128 * 1024
FEW_FAULTS = 200  # under glibc defaults a pass at this size faults ~12,600 4 KiB pages in


def _minor_faults_of_one_pass() -> int:
    case = Case.make(get_cell("lstm"), input_size=64, hidden_size=128, seq_len=100, batch=32)
    problem = make_problem(case)
    cell = case.spec.reference_for(problem.options)
    for _ in range(2):  # the heap grows to the size of one pass
        network.run(cell, problem)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    network.run(cell, problem)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_the_setting_took_effect_at_import():
    assert keep_freed_memory()
    assert f"{MMAP_THRESHOLD_BYTES >> 20} MiB" in allocator_setting()
    assert f"{TRIM_THRESHOLD_BYTES >> 20} MiB" in allocator_setting()


def test_a_repeated_pass_reuses_freed_memory():
    faults = _minor_faults_of_one_pass()
    assert faults < FEW_FAULTS, f"{faults} minor page faults in one repeated reference pass"


@contextlib.contextmanager
def _small_pages_only():
    """NumPy asks for transparent huge pages on large arrays; whether the kernel grants them
    depends on its memory's fragmentation, and one 2 MiB page is one fault for 512 small ones.
    Without them the fault count of a pass is its number of touched 4 KiB pages."""
    core = getattr(np, "_core", None) or np.core  # NumPy 2 renamed numpy.core
    setter = getattr(core.multiarray, "_set_madvise_hugepage", None)
    if setter is None:
        pytest.skip("this NumPy has no _set_madvise_hugepage to turn huge pages off")
    previous = setter(False)
    try:
        yield
    finally:
        setter(previous)


def test_the_page_fault_check_fails_under_glibc_defaults():
    assert set_malloc_thresholds(GLIBC_DEFAULT_THRESHOLD, GLIBC_DEFAULT_THRESHOLD)
    try:
        with _small_pages_only():
            faults = _minor_faults_of_one_pass()
    finally:
        assert keep_freed_memory()
    assert faults > 10 * FEW_FAULTS, faults
