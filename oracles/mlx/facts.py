"""MLX's layout facts (``core.facts``), each shown by a snippet; docs/frameworks.md."""

from gradparity.core.facts import Fact

_SHAPES = "print(sorted((k, tuple(v.shape)) for k, v in m.parameters().items()))"

FACTS = (
    Fact(
        "`nn.LSTM(I, H)` has `Wx` [4H, I], `Wh` [4H, H] and one `bias` [4H].",
        f"import mlx.nn as nn\nm = nn.LSTM(3, 4)\n{_SHAPES}",
        "[('Wh', (16, 4)), ('Wx', (16, 3)), ('bias', (16,))]",
    ),
    Fact(
        "`nn.LSTM`'s blocks are i, f, g, o, and `m(x, hidden=h0, cell=c0)` returns"
        " `(all_h, all_c)`, each [B, T, H] (batch first).",
        "import mlx.core as mx, mlx.nn as nn, numpy as np\n"
        "m = nn.LSTM(3, 4)\n"
        "bias = mx.array(np.repeat([0.1, 0.2, 0.3, 0.4], 4).astype(np.float32))\n"
        "m.update({'Wx': mx.zeros((16, 3)), 'Wh': mx.zeros((16, 4)), 'bias': bias})\n"
        "h, c = m(mx.zeros((2, 5, 3)), hidden=mx.zeros((2, 4)), cell=mx.ones((2, 4)))\n"
        "s = lambda v: 1 / (1 + np.exp(-v))\n"
        "c1 = s(0.2) * 1 + s(0.1) * np.tanh(0.3)\n"
        "print(tuple(h.shape), tuple(c.shape), np.allclose(np.array(c[:, 0]), c1),"
        " np.allclose(np.array(h[:, 0]), s(0.4) * np.tanh(c1)))",
        "(2, 5, 4) (2, 5, 4) True True",
    ),
    Fact(
        "`nn.GRU(I, H)` has `Wx` [3H, I], `Wh` [3H, H], `b` [3H] and `bhn` [H].",
        f"import mlx.nn as nn\nm = nn.GRU(3, 4)\n{_SHAPES}",
        "[('Wh', (12, 4)), ('Wx', (12, 3)), ('b', (12,)), ('bhn', (4,))]",
    ),
    Fact(
        "`nn.GRU`'s blocks are r, z, n; `b` is added on the input side and `bhn` inside"
        " r ∘ (h U_n + bhn), torch's formula; `m(x, hidden=h0)` returns every step's h,"
        " [B, T, H].",
        "import mlx.core as mx, mlx.nn as nn, numpy as np\n"
        "mx.set_default_device(mx.cpu)\n"
        "g = np.random.default_rng(0)\n"
        "p = {k: g.normal(size=s) for k, s in"
        " [('Wx', (12, 3)), ('Wh', (12, 4)), ('b', (12,)), ('bhn', (4,))]}\n"
        "m = nn.GRU(3, 4)\n"
        "m.update({k: mx.array(v, dtype=mx.float64) for k, v in p.items()})\n"
        "x, h = g.normal(size=(2, 5, 3)), g.normal(size=(2, 4))\n"
        "out = np.array(m(mx.array(x, dtype=mx.float64), hidden=mx.array(h, dtype=mx.float64)))\n"
        "a, u = x[:, 0] @ p['Wx'].T + p['b'], h @ p['Wh'].T\n"
        "s = lambda v: 1 / (1 + np.exp(-v))\n"
        "r, z = s(a[:, :4] + u[:, :4]), s(a[:, 4:8] + u[:, 4:8])\n"
        "n = np.tanh(a[:, 8:] + r * (u[:, 8:] + p['bhn']))\n"
        "print(out.shape, np.allclose(out[:, 0], (1 - z) * n + z * h))",
        "(2, 5, 4) True",
    ),
    Fact(
        "`nn.RNN(I, H)` has `Wxh` [H, I], `Whh` [H, H] and `bias` [H]; `m(x, hidden=h0)`"
        " returns every step's h, [B, T, H].",
        f"import mlx.core as mx, mlx.nn as nn\nm = nn.RNN(3, 4)\n{_SHAPES[:-1]},"
        " tuple(m(mx.zeros((2, 5, 3)), hidden=mx.zeros((2, 4))).shape))",
        "[('Whh', (4, 4)), ('Wxh', (4, 3)), ('bias', (4,))] (2, 5, 4)",
    ),
    Fact(
        "`nn.Linear(I, H)` has `weight` [H, I] and `bias` [H].",
        f"import mlx.nn as nn\nm = nn.Linear(3, 4)\n{_SHAPES}",
        "[('bias', (4,)), ('weight', (4, 3))]",
    ),
    Fact(
        "`mx.array` of a float64 NumPy array is float32 unless `dtype=mx.float64` is given.",
        "import mlx.core as mx, numpy as np\n"
        "print(mx.array(np.zeros(2)).dtype, mx.array(np.zeros(2), dtype=mx.float64).dtype)",
        "mlx.core.float32 mlx.core.float64",
    ),
    Fact(
        "On the CPU device, float64 `mx.exp` and `mx.sigmoid` are only float32-accurate"
        " (relative errors above 1e-8: ml-explore/mlx#3047), while `mx.tanh`, `mx.log` and"
        " `mx.power(math.e, x)` are within 1e-15 of NumPy's for |x| ≤ 3.",
        "import math, mlx.core as mx, numpy as np\n"
        "mx.set_default_device(mx.cpu)\n"
        "x = np.linspace(-3, 3, 600)\n"
        "a = mx.array(x, dtype=mx.float64)\n"
        "err = lambda ours, theirs: np.max(np.abs(np.array(ours) - theirs) / np.abs(theirs))\n"
        "print(err(mx.exp(a), np.exp(x)) > 1e-8, err(mx.sigmoid(a), 1 / (1 + np.exp(-x))) > 1e-8,"
        " max(err(mx.tanh(a), np.tanh(x)), err(mx.log(mx.abs(a) + 1), np.log(np.abs(x) + 1)),"
        " err(mx.power(math.e, a), np.exp(x))) < 1e-15)",
        "True True True",
    ),
)
