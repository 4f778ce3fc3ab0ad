"""A user's own module in place of a framework's stock layer (``--module torch=pkg.mod:MyLSTM``).

The module claims to be a drop-in for the layer a native builder makes (``Builder.replaces``:
``torch.nn.LSTM``, ``flax.nnx.LSTMCell``, …): the builder constructs it with the same arguments,
loads the canonical weights under the stock layer's parameter names and calls it as it calls
the stock layer. Whatever does not fit — the import, the constructor, a parameter missing,
extra or of the wrong shape, a call that fails or returns the wrong structure or shapes — is
an ``OracleMisconfigured`` naming the module and what is wrong, on one line.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from gradparity.core.errors import InputError, OracleCrashed, OracleMisconfigured, OracleUnavailable

Shapes = Mapping[str, tuple[int, ...]]


def split_module_argument(text: str, what: str = "--module") -> tuple[str, str]:
    """``"torch=pkg.mod:MyLSTM"`` as ``("torch", "pkg.mod:MyLSTM")``."""
    framework, sep, target = text.partition("=")
    module, colon, attribute = target.partition(":")
    if not sep or not framework.strip() or not colon or not module.strip() or not attribute:
        raise InputError(
            f"{what} {text!r}: expected FRAMEWORK=MODULE:ATTR, e.g. torch=mypkg.kernels:MyLSTM"
        )
    return framework.strip(), f"{module.strip()}:{attribute.strip()}"


def load_layer(target: str) -> Any:
    """The object ``MODULE:ATTR`` names (attributes may be dotted: ``mod:Outer.Inner``)."""
    module_name, _, attribute = target.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except Exception as error:  # an import that fails for any reason is the module's fault
        raise OracleMisconfigured(
            f"module {target}: cannot import {module_name}: {type(error).__name__}: {error}"
        ) from None
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise OracleMisconfigured(
                f"module {target}: {module_name} has no attribute {attribute!r}"
            )
        found = getattr(found, part)
    return found


@contextmanager
def fitting(target: str, stock: str, doing: str) -> Iterator[None]:
    """Errors raised while ``doing`` something with the user's module, as a misfit."""
    try:
        yield
    except (InputError, OracleUnavailable, OracleCrashed):
        raise
    except Exception as error:
        text = " ".join(str(error).split())  # one line
        if len(text) > 300:
            text = text[:297] + "..."
        raise OracleMisconfigured(
            f"module {target} does not fit {stock}: {doing} raised {type(error).__name__}: {text}"
        ) from None


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def check_parameters(target: str, stock: str, found: Shapes, expected: Shapes) -> None:
    """The module's parameters (name → shape) are exactly the stock layer's."""
    missing = [name for name in expected if name not in found]
    if missing:
        has = ", ".join(found) or "none"
        raise OracleMisconfigured(
            f"module {target} does not fit {stock}: it has no parameter {', '.join(missing)}"
            f" (it has {has})"
        )
    extra = [name for name in found if name not in expected]
    if extra:
        raise OracleMisconfigured(
            f"module {target} does not fit {stock}: parameter {', '.join(extra)} is not one of"
            f" {stock}'s ({', '.join(expected)})"
        )
    for name, shape in expected.items():
        if tuple(found[name]) != tuple(shape):
            raise OracleMisconfigured(
                f"module {target} does not fit {stock}: parameter {name} has shape"
                f" {_shape(tuple(found[name]))}, expected {_shape(tuple(shape))}"
            )


def check_results(target: str, stock: str, found: Shapes, expected: Shapes) -> None:
    """What the module returned (outputs, final states: name → shape) has the stock shapes;
    an axis a traced call leaves open (None) on either side matches any length."""
    for name, shape in expected.items():
        if name not in found:
            raise OracleMisconfigured(
                f"module {target} does not fit {stock}: it returned no {name}"
            )
        axes = tuple(found[name])
        fits = len(axes) == len(shape)
        differ = fits and any(
            a is not None and b is not None and a != b for a, b in zip(axes, shape, strict=True)
        )
        if not fits or differ:
            raise OracleMisconfigured(
                f"module {target} does not fit {stock}: it returned {name} of shape"
                f" {_shape(tuple(found[name]))}, expected {_shape(tuple(shape))}"
            )


@dataclass(frozen=True)
class ExampleModule:
    """A module a framework ships as an example of ``--module`` (``Framework.examples``):
    ``kind`` "agrees" (it must agree on ``cell``), "planted-bug" (it must disagree on the
    tensor ``expect``), or a kind of bad input of docs/bad-input.md (its one-line error must
    contain ``expect``). ``options``: the cell options its stock layer needs, e.g.
    ``(("hidden_n_bias", False),)`` for a GRU cell without ``bh_n``."""

    kind: str
    cell: str
    target: str  # MODULE:ATTR
    expect: str = ""
    options: tuple[tuple[str, Any], ...] = ()

    def option_args(self) -> list[str]:
        """``options`` as the CLI's ``--option NAME=VALUE`` arguments."""
        return [a for name, value in self.options for a in ("--option", f"{name}={value}")]
