"""The adapter: NumPy's primitive ops (gradparity's own table), and complex step element by
element for the gradients (fine for small cases; a real framework brings its autodiff)."""

from __future__ import annotations

import numpy as np

from gradparity.reference_impl.numerical import COMPLEX_STEP, gradient
from gradparity.reference_impl.primitives import PRIMITIVES

OPS = {name: primitive.forward for name, primitive in PRIMITIVES.items()}
OPS["flip_time"] = lambda t: t[:, ::-1]
OPS["concat"] = lambda ts: np.concatenate(ts, axis=-1)


def scan(step, x, state0, output):
    """``step`` over the time axis: (outputs [B, T, W], final states)."""
    states, outputs = state0, []
    for t in range(x.shape[1]):
        states = step(states, x[:, t])
        outputs.append(states[output])
    return np.stack(outputs, axis=1), states


OPS["scan"] = scan


class NumpyAdapter:
    name = "numpy_cs"
    ops = OPS

    def setup(self) -> None:
        pass

    def threads(self) -> dict[str, int]:
        return {}

    def prepare(self, f, leaves, constants, key, open_axes):
        def thunk():
            _, aux = f(dict(leaves), dict(constants))

            def of(name):
                return lambda value: f({**leaves, name: value}, constants)[0]

            grads = {
                name: gradient(of(name), value, COMPLEX_STEP) for name, value in leaves.items()
            }
            return aux, grads

        return thunk

    def to_numpy(self, tree):
        return tree
