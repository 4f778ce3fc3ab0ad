"""Writing files so that a failure leaves nothing half-written, with the process's umask."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` through a temporary file in the same directory, then rename it into
    place: readers see the old file or the whole new one. The file gets the permissions a
    plain ``open(path, "w")`` would give it (0666 minus the umask), not mkstemp's 0600."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_directory_atomically(out: Path, fill: Callable[[Path], None]) -> None:
    """``fill(staging)`` writes into a new directory beside ``out``, which then replaces
    ``out`` (new or an earlier version): an interrupted run leaves ``out`` as it was."""
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.absolute().parent))
    try:
        fill(staging)
        staging.chmod(0o777 & ~_umask())  # mkdtemp made it private
        _replace_directory(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _replace_directory(new: Path, out: Path) -> None:
    if not out.exists():
        new.rename(out)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.absolute().parent))
    try:
        out.rename(trash / "previous")
        try:
            new.rename(out)
        except BaseException:
            (trash / "previous").rename(out)
            raise
    finally:
        shutil.rmtree(trash, ignore_errors=True)
