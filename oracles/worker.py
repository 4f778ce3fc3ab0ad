"""A framework's worker process: ``python -m gradparity.worker NAME`` (``core.isolation``)."""

from __future__ import annotations

import sys

from gradparity.core.process import pin_process


def main(name: str) -> None:
    pin_process()  # before NumPy or the framework loads
    from gradparity.core.isolation import serve
    from gradparity.frameworks import serve as answer

    serve(lambda request: answer(name, request))


if __name__ == "__main__":
    main(sys.argv[1])
