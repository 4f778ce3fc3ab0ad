"""A module with one textual edit, loaded beside the original: how planted bugs are made, in the
reference (``gradparity.mutants``) and in a framework's converters (``SourcePatch``, applied in
the framework's worker process)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass
from functools import cache
from types import ModuleType


def load_edited(original: ModuleType, find: str, replace: str, label: str) -> ModuleType:
    """``original``'s source with ``find`` (which must occur exactly once: a refactor that
    removes it breaks the edit loudly instead of silently testing nothing) replaced, loaded as a
    separate module whose relative imports resolve as the original's."""
    source = inspect.getsource(original)
    count = source.count(find)
    if count != 1:
        raise ValueError(
            f"{label}: {find!r} occurs {count} times in {original.__name__}, expected exactly once"
        )
    spec = importlib.util.spec_from_loader(f"{original.__name__}__{label}", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = original.__package__
    sys.modules[spec.name] = module  # while it runs: dataclasses look their module up there
    try:
        exec(compile(source.replace(find, replace), original.__file__, "exec"), module.__dict__)
    finally:
        del sys.modules[spec.name]
    return module


@dataclass(frozen=True)
class SourcePatch:
    """An edit of one module of a framework's folder, applied where the framework runs."""

    module: str
    find: str
    replace: str
    label: str

    def load(self) -> ModuleType:
        return _loaded(self)

    def applies_to(self, target: str) -> bool:
        """Whether a builder ``module:function`` lives in the patched module."""
        return target.partition(":")[0] == self.module


@cache
def _loaded(patch: SourcePatch) -> ModuleType:
    original = importlib.import_module(patch.module)
    return load_edited(original, patch.find, patch.replace, patch.label)
