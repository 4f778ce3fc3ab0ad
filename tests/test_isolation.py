"""Frameworks run in worker processes of their own: one that dies while loading is a skip with
its reason, one that dies while computing is an error of that oracle, and the other oracles
still run (as when paddle is imported after tensorflow in one process: a segfault)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gradparity.core import isolation
from helpers import install_example, run_gradparity

ADAPTER = """
import atexit, os, signal, sys
from gradparity.reference_impl.primitives import PRIMITIVES

class CrashingAdapter:
    name = "crashing"
    ops = {name: p.forward for name, p in PRIMITIVES.items()}

    def setup(self):
        if os.environ.get("CRASH_WHEN") == "loading":
            os.kill(os.getpid(), signal.SIGSEGV)
        atexit.register(print, "interpreter teardown ran", file=sys.stderr)

    def threads(self):
        return {}

    def prepare(self, f, leaves, constants, key, open_axes):
        def thunk():
            os.kill(os.getpid(), signal.SIGSEGV)
        return thunk

    def to_numpy(self, tree):
        return tree


def rnn(params, options, dtype):
    from gradparity import Net
    return Net(layout=dict, forward=lambda p, x, s: (x, s), to_canonical=dict)
"""
PACKAGE = """
from gradparity import Builder, Framework
FRAMEWORK = Framework(
    name="crashing",
    summary="dies on purpose",
    requires=("numpy",),
    extra="crashing",
    distributions=(("numpy",),),
    adapter="crashing_framework.adapter:CrashingAdapter",
    builders={"rnn": Builder("crashing_framework.adapter:rnn")},
)
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict:
    example = tmp_path_factory.mktemp("example")
    package = example / "crashing_framework"
    package.mkdir()
    (package / "__init__.py").write_text(PACKAGE)
    (package / "adapter.py").write_text(ADAPTER)
    site = tmp_path_factory.mktemp("site")
    entry = "crashing = crashing_framework:FRAMEWORK"
    return install_example(site, example, "gradparity.frameworks", entry)


def _compare(env: dict, when: str):
    done = run_gradparity(
        "compare", "--cell", "rnn", "--seq-len", "3", "--oracles", "crashing,numerical",
        "--json", env={**env, "CRASH_WHEN": when},
    )  # fmt: skip
    return done, json.loads(done.stdout) if done.stdout else None


def test_a_framework_that_dies_while_loading_is_unavailable_with_its_reason(env):
    done, report = _compare(env, "loading")
    skipped = {s["oracle"]: s["reason"] for s in report["skipped"]}
    assert "died of signal SIGSEGV while loading its framework" in skipped["crashing"]
    assert "numerical" in {r["oracle"] for r in report["results"]}  # the others still ran
    assert done.returncode == 0 and report["agree"], done.stderr


def test_a_framework_that_dies_while_computing_is_an_error_and_the_others_still_run(env):
    done, report = _compare(env, "computing")
    assert done.returncode == 1 and not report["agree"]
    errors = {e["oracle"]: e["error"] for e in report["errors"]}
    assert "died of signal SIGSEGV while running rnn" in errors["crashing"]
    assert {r["oracle"] for r in report["results"]} == {"numerical"}
    assert all(r["ok"] for r in report["results"])


def test_a_hung_up_worker_exits_cleanly_without_the_frameworks_teardown(env):
    worker = subprocess.Popen(
        [sys.executable, "-m", "gradparity.worker", "crashing"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "CRASH_WHEN": "never"},
    )
    isolation.send(worker.stdin, ("ready",))
    assert isolation.receive(worker.stdout) == ("ok", None)
    worker.stdin.close()
    stderr = worker.stderr.read().decode()
    assert worker.wait(timeout=60) == 0, stderr
    assert "interpreter teardown ran" not in stderr


class _FakeProcess:
    def __init__(self, name: str, events: list):
        self.name, self.events, self.stdin, self.closed = name, events, self, False

    def poll(self):
        return 0 if self.closed else None

    def close(self):
        self.events.append(("hang up", self.name))
        self.closed = True

    def wait(self, timeout=None):
        self.events.append(("wait", self.name))
        return 0


def test_at_exit_every_worker_is_hung_up_on_before_any_is_waited_for(monkeypatch):
    """Workers shut down side by side: the parent's exit costs the slowest, not their sum."""
    events: list = []
    workers = {}
    for name in ("a", "b", "c"):
        workers[name] = isolation.Worker(name, {})
        workers[name].process = _FakeProcess(name, events)
    monkeypatch.setattr(isolation, "_workers", workers)
    isolation._stop_all()
    assert events == [("hang up", n) for n in "abc"] + [("wait", n) for n in "abc"]
    assert all(w.process is None for w in workers.values())
