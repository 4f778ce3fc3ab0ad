"""A framework's worker process: ``python -m gradparity.worker NAME`` (``core.isolation``)."""

from __future__ import annotations

import os
import sys

from gradparity.core.process import pin_process


def main(name: str) -> None:
    pin_process()  # before NumPy or the framework loads
    from gradparity.core.isolation import serve
    from gradparity.frameworks import serve as answer

    serve(lambda request: answer(name, request))
    # The parent hung up and keeps nothing of ours: skip the framework's interpreter teardown
    # (up to 2 s for some frameworks, once per worker per process).
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
