"""Flax's layout facts (``core.facts``); docs/frameworks.md."""

from gradparity.core.facts import Fact

_SHAPES = (
    "import jax.numpy as jnp\n"
    "from flax import nnx\n"
    "cell = nnx.{cls}(3, 4, rngs=nnx.Rngs(0))\n"
    "state = nnx.to_flat_state(nnx.state(cell, nnx.Param))\n"
    "print(sorted(('/'.join(map(str, p)), tuple(v.get_value().shape)) for p, v in state))"
)

FACTS = (
    Fact(
        "NNX `LSTMCell(I, H)` has input kernels `ii`, `if_`, `ig`, `io` [I, H] without bias and"
        " hidden `hi`, `hf`, `hg`, `ho` with kernel [H, H] and bias [H].",
        _SHAPES.format(cls="LSTMCell"),
        "[('hf/bias', (4,)), ('hf/kernel', (4, 4)), ('hg/bias', (4,)), ('hg/kernel', (4, 4)),"
        " ('hi/bias', (4,)), ('hi/kernel', (4, 4)), ('ho/bias', (4,)), ('ho/kernel', (4, 4)),"
        " ('if_/kernel', (3, 4)), ('ig/kernel', (3, 4)), ('ii/kernel', (3, 4)),"
        " ('io/kernel', (3, 4))]",
    ),
    Fact(
        "NNX `OptimizedLSTMCell(I, H)` has `dense_i/kernel` [I, 4H] without bias and"
        " `dense_h/kernel` [H, 4H] with `dense_h/bias` [4H]; the blocks are i, f, g, o.",
        _SHAPES.format(cls="OptimizedLSTMCell"),
        "[('dense_h/bias', (16,)), ('dense_h/kernel', (4, 16)), ('dense_i/kernel', (3, 16))]",
    ),
    Fact(
        "NNX `GRUCell(I, H)` has `dense_i` kernel [I, 3H] and bias [3H] and `dense_h` kernel"
        " [H, 3H] with no bias: it has no `b_hn` (google/flax#5594).",
        _SHAPES.format(cls="GRUCell"),
        "[('dense_h/kernel', (4, 12)), ('dense_i/bias', (12,)), ('dense_i/kernel', (3, 12))]",
    ),
    Fact(
        "linen `GRUCell` has `ir`, `iz`, `in` kernel [I, H] with bias, `hr`, `hz` kernel [H, H]"
        " without bias, and `hn` with kernel and bias: the canonical `b_hn`.",
        "import jax, jax.numpy as jnp\n"
        "import flax.linen as nn\n"
        "zeros = jnp.zeros((2, 4)), jnp.zeros((2, 3))\n"
        "v = nn.GRUCell(features=4).init(jax.random.PRNGKey(0), *zeros)\n"
        "print(sorted((m, sorted(p)) for m, p in v['params'].items()))",
        "[('hn', ['bias', 'kernel']), ('hr', ['kernel']), ('hz', ['kernel']),"
        " ('in', ['bias', 'kernel']), ('ir', ['bias', 'kernel']), ('iz', ['bias', 'kernel'])]",
    ),
    Fact(
        "The LSTM cells' carry is (c, h): c first.",
        "import jax.numpy as jnp\n"
        "from flax import nnx\n"
        "cell = nnx.LSTMCell(3, 4, rngs=nnx.Rngs(0))\n"
        "(c, h), y = cell((jnp.ones((1, 4)), jnp.zeros((1, 4))), jnp.zeros((1, 3)))\n"
        "print(bool(jnp.all(y == h)), bool(jnp.any(c != h)))",
        "True True",
    ),
    Fact(
        "NNX `SimpleCell(I, H)` has `dense_i` kernel [I, H] and bias [H] and `dense_h` kernel"
        " [H, H] without bias.",
        _SHAPES.format(cls="SimpleCell"),
        "[('dense_h/kernel', (4, 4)), ('dense_i/bias', (4,)), ('dense_i/kernel', (3, 4))]",
    ),
    Fact(
        "`nnx.RNN(seq_lengths=…)` returns, for a row of length 0, the carry after all T steps"
        " (the same as for length T), not its initial state, and outputs computed at every step"
        " (so the jax oracle refuses length-0 rows and masks the outputs past each length).",
        "import jax, jax.numpy as jnp\n"
        "jax.config.update('jax_enable_x64', True)\n"
        "from flax import nnx\n"
        "f64 = jnp.float64\n"
        "cell = nnx.SimpleCell(1, 2, rngs=nnx.Rngs(0), param_dtype=f64, dtype=f64)\n"
        "x, h0 = jnp.ones((2, 3, 1)), jnp.array([[0.5, -0.5], [0.25, 0.75]])\n"
        "rnn = nnx.RNN(cell, return_carry=True)\n"
        "run = lambda n: rnn(x, initial_carry=h0, seq_lengths=jnp.array(n))\n"
        "(zero, out), (full, _) = run([3, 0]), run([3, 3])\n"
        "same = lambda a, b: bool((a == b).all())\n"
        "print(same(zero[1], full[1]), same(zero[1], h0[1]), bool((out[1] != 0).all()))\n",
        "True False True",
    ),
)
