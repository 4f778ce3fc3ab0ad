"""Every framework's layout facts (``Framework.facts``): each snippet, run in a fresh process
with the process settings pinned (one process per framework, all its snippets in turn), prints
what the fact says; docs/frameworks.md states each fact word for word, in the framework's
section."""

from __future__ import annotations

import functools
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradparity.frameworks import all_frameworks
from helpers import ROOT

DOC = ROOT / "docs" / "frameworks.md"


def _facts():
    for framework in all_frameworks().values():
        if framework.facts:
            module, _, attribute = framework.facts.partition(":")
            for index, fact in enumerate(getattr(importlib.import_module(module), attribute)):
                group = pytest.mark.xdist_group(f"facts-{framework.name}")
                yield pytest.param(framework, fact, id=f"{framework.name}-{index}", marks=group)


FACTS = list(_facts())


RUN = """
import contextlib, io, json, sys
from gradparity.core.process import pin_process
pin_process()
printed = []
for code in json.loads(sys.stdin.read()):
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(code, {})
        printed.append(out.getvalue().strip().splitlines()[-1:] or [""])
    except Exception as error:
        printed.append([f"raised {type(error).__name__}: {error}"])
print(json.dumps([p[0] for p in printed]))
"""


@functools.cache
def printed(name: str) -> tuple[str, ...]:
    """What each of the framework's snippets prints, run in one fresh process."""
    framework = all_frameworks()[name]
    codes = [fact.code for f, fact in (p.values for p in FACTS) if f.name == name]
    env = {**os.environ, **framework.environment, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", RUN],
        input=json.dumps(codes),
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(("framework", "fact"), FACTS)
def test_the_fact_holds(framework, fact):
    missing = framework.missing()
    if missing:
        pytest.skip(missing)
    facts = [f for fw, f in (p.values for p in FACTS) if fw.name == framework.name]
    assert printed(framework.name)[facts.index(fact)] == fact.prints, fact.statement


@pytest.mark.parametrize(("framework", "fact"), FACTS)
def test_the_document_states_the_fact_in_the_framework_section(framework, fact):
    sections = Path(DOC).read_text().split("\n## ")
    section = next((s for s in sections if s.startswith(f"`{framework.name}`")), "")
    assert section, f"docs/frameworks.md has no section ## `{framework.name}`"
    assert fact.statement in " ".join(section.split()), fact.statement
