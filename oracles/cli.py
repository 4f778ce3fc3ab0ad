"""The ``gradparity`` command: the process settings first (before NumPy loads), then the
commands (``gradparity.commands.main``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from gradparity.core.process import pin_process


def main(argv: Sequence[str] | None = None) -> int:
    pin_process()
    from gradparity.commands.main import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
