"""``python -m gradparity``: the ``gradparity`` command."""

import sys

from gradparity.cli import main

sys.exit(main())
