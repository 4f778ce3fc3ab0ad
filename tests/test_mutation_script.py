"""``.ci/mutation.py`` (``tox -e mutation``, docs/mutation-testing.md): what it mutates for a
framework, the plugin that preloads the framework in mutmut's fork server, and its one-line
error for a framework the table does not have."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from gradparity.frameworks import all_frameworks

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("ci_mutation", ROOT / ".ci" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", list(all_frameworks()))
def test_a_frameworks_run_mutates_its_native_builders_modules(name):
    script = _script()
    files = script.converters(name)
    native = {
        b.target.partition(":")[0]
        for b in all_frameworks()[name].builders.values()
        if b.kind == "native"
    }
    assert files == sorted(m.replace(".", "/") + ".py" for m in native)
    for staged in files:  # gradparity/x/y.py is oracles/x/y.py in the repository
        assert (ROOT / "oracles" / staged.removeprefix("gradparity/")).is_file(), staged


@pytest.mark.parametrize("name", list(all_frameworks()))
def test_the_preload_plugin_imports_the_framework_and_computes_nothing(name):
    tree = ast.parse(_script().preload_plugin(name))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    imported = [call.args[0].value for call in calls]
    assert imported == list(all_frameworks()[name].requires)
    assert all(ast.unparse(call.func) == "importlib.import_module" for call in calls)


def test_an_unknown_framework_is_one_line_naming_the_table():
    with pytest.raises(SystemExit) as error:
        _script().converters("no_such_framework")
    message = str(error.value)
    assert message.startswith("--framework no_such_framework: not in the frameworks table (")
    assert "\n" not in message and all(name in message for name in all_frameworks())
