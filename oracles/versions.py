"""The one version collector: Python, the platform, gradparity, NumPy, matplotlib and every
framework's distributions (the frameworks table's), read from installed metadata without
importing any framework."""

from __future__ import annotations

import platform
from importlib import metadata

from gradparity.frameworks import all_frameworks


def distribution_version(names: tuple[str, ...]) -> str | None:
    """The version of the first installed distribution among ``names`` (alternatives)."""
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def versions() -> dict[str, str | None]:
    """``{name: version}``, None for what is not installed. A distribution with alternative
    names (``tensorflow-cpu``, ``tensorflow``) is listed under the last one."""
    found: dict[str, str | None] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    packages = [("gradparity",), ("numpy",), ("matplotlib",)]
    for framework in all_frameworks().values():
        packages += [names for names in framework.distributions if names not in packages]
    for names in packages:
        found[names[-1]] = distribution_version(names)
    return found
