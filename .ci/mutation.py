"""``tox -e mutation``: mutmut over gradparity, in a staged copy of the tree.

mutmut 3 needs a file's import name to follow its path (``gradparity/reference_impl/lstm.py``
is ``gradparity.reference_impl.lstm``), and this repository maps its folders into the package
instead (``oracles/`` is ``gradparity``, ``reference_impl/`` is ``gradparity.reference_impl``).
So this script lays the tree out as the installed package in ``build/mutation/`` (tests,
fixtures and docs/examples beside it, as in the repository), writes mutmut's configuration there
from ``[tool.mutmut]`` of pyproject.toml with each path mapped the same way, and runs mutmut in
it. Frameworks run in the test process (``GRADPARITY_IN_PROCESS=1``), so that mutmut's forked
workers inherit them instead of starting a worker process each, and every network is built anew
on each call (``GRADPARITY_REBUILD_NETWORKS=1``), so that a worker runs the mutated converter
rather than a network its parent built before the fork.

    python .ci/mutation.py [mutmut run arguments, e.g. "gradparity.reference_impl.rnn*"]
    python .ci/mutation.py --framework paddle   # that framework's native builders instead

With ``--framework NAME`` the mutated files are the modules of NAME's native builders (its
converters) instead of ``source_paths``, and the fast checks compare with NAME rather than the
first installed framework (``GRADPARITY_MUTATION_FRAMEWORK``), with NAME's worker environment
(``KERAS_BACKEND``). JAX, TensorFlow, Keras and MLX are not fork-safe once they have computed
(a forked MLX worker hangs; the others warn), and mutmut's stats and clean runs compute in its
main process; so these runs use mutmut's fork server (``process_isolation = "forkserver"``): a
process that has collected the tests and imported NAME's modules (``preload_plugin``), but
computed nothing, forks every run, and each mutant's worker starts its framework afresh.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / "build" / "mutation"
FRAMEWORK_ENV = "GRADPARITY_MUTATION_FRAMEWORK"  # read by tests/test_reference_mutation_checks.py
PRELOAD = "mutation_preload"  # the plugin module of preload_plugin, in the stage
PACKAGE = {
    "oracles": "gradparity",
    "reference_impl": "gradparity/reference_impl",
    "fixtures": "gradparity/fixtures",
}


def staged(path: str) -> str:
    """A repository path as it lies in the staged tree."""
    for folder, target in PACKAGE.items():
        if path == folder or path.startswith(folder + "/"):
            return target + path[len(folder) :]
    return path


def framework_row(name: str):
    from gradparity.frameworks import all_frameworks

    table = all_frameworks()
    if name not in table:
        known = ", ".join(table)
        raise SystemExit(f"--framework {name}: not in the frameworks table ({known})")
    return table[name]


def converters(framework: str) -> list[str]:
    """The staged files of ``framework``'s native builders."""
    builders = framework_row(framework).builders.values()
    modules = {b.target.partition(":")[0] for b in builders if b.kind == "native"}
    return sorted(module.replace(".", "/") + ".py" for module in modules)


def preload_plugin(framework: str) -> str:
    """A pytest plugin that imports ``framework``'s modules and computes nothing: mutmut's fork
    server loads it while collecting the tests, and every mutant's worker, forked from there,
    has the framework imported without having run it (the frameworks that are not fork-safe
    are safe to fork before their first computation; measured for each)."""
    modules = framework_row(framework).requires
    return "import importlib\n\n" + "".join(
        f"importlib.import_module({module!r})\n" for module in modules
    )


def stage(framework: str | None) -> None:
    if STAGE.exists():
        shutil.rmtree(STAGE)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder, target in PACKAGE.items():
        shutil.copytree(ROOT / folder, STAGE / target, ignore=ignore, dirs_exist_ok=True)
    for folder in ("tests", "fixtures", "docs"):
        shutil.copytree(ROOT / folder, STAGE / folder, ignore=ignore)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    mutmut = dict(config["mutmut"])
    mutmut["source_paths"] = [staged(p) for p in mutmut["source_paths"]]
    if framework:
        mutmut["source_paths"] = converters(framework)
        mutmut["process_isolation"] = "forkserver"
        mutmut["pytest_add_cli_args"] = [*mutmut["pytest_add_cli_args"], "-p", PRELOAD]
        (STAGE / f"{PRELOAD}.py").write_text(preload_plugin(framework))
    mutmut["also_copy"] = ["gradparity/", "fixtures/", "docs/", "tests/", f"{PRELOAD}.py"]
    pytest = dict(config["pytest"]["ini_options"])
    lines = ["[tool.mutmut]"] + [f"{k} = {json.dumps(v)}" for k, v in mutmut.items()]
    lines += ["", "[tool.pytest.ini_options]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in pytest.items()]
    (STAGE / "pyproject.toml").write_text("\n".join(lines) + "\n")


def main(arguments: list[str]) -> int:
    framework = None
    if arguments[:1] == ["--framework"] and len(arguments) >= 2:
        framework, arguments = arguments[1], arguments[2:]
    stage(framework)
    env = {**os.environ, "GRADPARITY_IN_PROCESS": "1", "GRADPARITY_REBUILD_NETWORKS": "1"}
    if framework:
        env[FRAMEWORK_ENV] = framework
        env |= framework_row(framework).environment  # what its worker process would be given
    beside = Path(sys.executable).with_name("mutmut")
    mutmut = str(beside) if beside.exists() else shutil.which("mutmut") or "mutmut"
    run = subprocess.run([mutmut, "run", "--max-children", "2", *arguments], cwd=STAGE, env=env)
    subprocess.run([mutmut, "export-cicd-stats"], cwd=STAGE, env=env)
    stats = STAGE / "mutants" / "mutmut-cicd-stats.json"
    if stats.exists():
        print(stats.read_text())
    subprocess.run([mutmut, "results"], cwd=STAGE, env=env)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
