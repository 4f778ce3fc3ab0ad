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
first installed framework (``GRADPARITY_MUTATION_FRAMEWORK``). The framework must survive
mutmut's forks: PyTorch and Paddle do; MLX's stream thread does not (a forked worker hangs),
and JAX, TensorFlow and Keras warn that they are not fork-safe.
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


def converters(framework: str) -> list[str]:
    """The staged files of ``framework``'s native builders."""
    from gradparity.frameworks import all_frameworks

    table = all_frameworks()
    if framework not in table:
        known = ", ".join(table)
        raise SystemExit(f"--framework {framework}: not in the frameworks table ({known})")
    builders = table[framework].builders.values()
    modules = {b.target.partition(":")[0] for b in builders if b.kind == "native"}
    return sorted(module.replace(".", "/") + ".py" for module in modules)


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
    mutmut["also_copy"] = ["gradparity/", "fixtures/", "docs/", "tests/"]  # the whole stage
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
