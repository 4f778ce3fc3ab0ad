"""The project's own tests. The process settings that change result bits are pinned by
gradparity's pytest plugin (ini option ``gradparity_pin`` in pyproject.toml), before this file
or any test module imports NumPy; ``results_log`` is the plugin's fixture too."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the helpers module, for test modules
