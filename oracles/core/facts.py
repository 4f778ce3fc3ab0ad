"""Layout facts of a framework (shapes, gate order, bias convention, state order, time axis),
each with the snippet that shows it. A framework's folder lists its facts (``Framework.facts``);
``tests/test_framework_facts.py`` runs every snippet in a fresh process with the framework and
checks what it prints, and checks that ``docs/frameworks.md`` states every fact."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    statement: str  # as docs/frameworks.md states it, word for word
    code: str  # Python that prints one line
    prints: str  # that line
