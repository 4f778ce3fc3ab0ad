"""``gradparity new-cell NAME`` writes a package that, installed, is a registered cell whose
``compare`` agrees with every oracle: as written, and with other equations filled in (each on
half of the frameworks)."""

from __future__ import annotations

import json

import pytest

from helpers import (
    install_example,
    installed_frameworks,
    run_cli,
    run_gradparity,
    uncompiled_frameworks,
)

GATED = """
# params: W_z[I,H] U_z[H,H] b_z[H] W[I,H] U[H,H] b[H]
# states: h[H]
xz = matmul(x_t, W_z)
hz = matmul(h_prev, U_z)
sz = add(xz, hz)
gz = add(sz, b_z)
z = sigmoid(gz)
xw = matmul(x_t, W)
hu = matmul(h_prev, U)
scaled = mul_const(hu, scale)
s = add(xw, scaled)
c = add(s, b)
n = tanh(c)
keep = schur(z, h_prev)
rest = one_minus(z)
new = schur(rest, n)
h = add(keep, new)
"""


def _installed(tmp_path, capsys, name: str, equations: str | None = None) -> dict:
    code, out, err = run_cli(capsys, "new-cell", name, "--dir", str(tmp_path / "cell"))
    assert code == 0 and "wrote the cell" in out, err
    package = tmp_path / "cell" / f"gradparity_cell_{name}"
    if equations is not None:
        step = package / f"{name}.py"
        text = step.read_text()
        start, end = text.index('STEP = """') + len('STEP = """'), text.index('"""\n\n\ndef')
        step.write_text(text[:start] + equations + text[end:])
    site = tmp_path / "site"
    site.mkdir()
    return install_example(
        site, tmp_path / "cell", "gradparity.cells", f"{name} = {package.name}:CELL"
    )


@pytest.mark.parametrize("equations", [None, GATED], ids=["as-written", "filled-in"])
def test_the_new_cell_agrees_with_every_oracle(tmp_path, capsys, equations):
    if not installed_frameworks():
        pytest.skip("no framework installed")
    env = _installed(tmp_path, capsys, "my_cell", equations)
    listed = run_gradparity("cells", env=env)
    assert any(line.startswith("my_cell ") for line in listed.stdout.splitlines()), listed.stdout
    # every framework runs one of the two: the template as written the frameworks of the size
    # grid, the filled-in cell those that compile per network
    uncompiled = uncompiled_frameworks()
    compiled = [name for name in installed_frameworks() if name not in uncompiled]
    frameworks = (compiled or uncompiled) if equations else uncompiled
    oracles = ",".join([*frameworks, "numerical"])
    done = run_gradparity(
        "compare", "--cell", "my_cell", "--option", "scale=0.5", "--seq-len", "5",
        "--oracles", oracles, "--json", env=env,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["agree"], done.stdout[-2000:] + done.stderr[-2000:]
    assert {r["oracle"] for r in report["results"]} >= {*frameworks, "numerical"} - {
        s["oracle"] for s in report["skipped"]
    }
