"""PaddlePaddle's layout facts (``core.facts``), each shown by a snippet; docs/frameworks.md.

The gate orders are shown by one step of the layer against NumPy under every order (and, for the
GRU, both places of the reset), printing the ones that match."""

from gradparity.core.facts import Fact

_STEP = (
    "import itertools, numpy as np, paddle\n"
    "paddle.set_default_dtype('float64')\n"
    "rng = np.random.default_rng(0)\n"
    "x, h0 = rng.standard_normal((2, 1, 3)), rng.standard_normal((1, 2, 4))\n"
    "s = lambda v: 1 / (1 + np.exp(-v))\n"
)

FACTS = (
    Fact(
        "`nn.LSTM(I, H)` has torch's names and shapes: `weight_ih_l0` [4H, I], `weight_hh_l0`"
        " [4H, H], `bias_ih_l0` and `bias_hh_l0` [4H], the same tensors as `0.cell.weight_ih`,"
        " … (aliases, not extra parameters).",
        "import paddle\n"
        "m = paddle.nn.LSTM(3, 4)\n"
        "print([(k, tuple(v.shape)) for k, v in m.named_parameters()],"
        " m.weight_ih_l0 is m[0].cell.weight_ih)",
        "[('weight_ih_l0', (16, 3)), ('weight_hh_l0', (16, 4)), ('bias_ih_l0', (16,)),"
        " ('bias_hh_l0', (16,))] True",
    ),
    Fact(
        "`nn.LSTM`'s blocks are i, f, g, o (one step of the layer matches NumPy in that order"
        " only).",
        _STEP + "m = paddle.nn.LSTM(3, 4)\n"
        "c0 = rng.standard_normal((1, 2, 4))\n"
        "_, (h, c) = m(paddle.to_tensor(x), (paddle.to_tensor(h0), paddle.to_tensor(c0)))\n"
        "p = {k: v.numpy() for k, v in m.named_parameters()}\n"
        "z = x[:, 0] @ p['weight_ih_l0'].T + h0[0] @ p['weight_hh_l0'].T + p['bias_ih_l0']"
        " + p['bias_hh_l0']\n"
        "found = []\n"
        "for order in itertools.permutations('ifgo'):\n"
        "    g = dict(zip(order, np.split(z, 4, axis=-1)))\n"
        "    c1 = s(g['f']) * c0[0] + s(g['i']) * np.tanh(g['g'])\n"
        "    if np.allclose(c1, c.numpy()[0]) and np.allclose(s(g['o']) * np.tanh(c1),"
        " h.numpy()[0]):\n"
        "        found.append(''.join(order))\n"
        "print(found)",
        "['ifgo']",
    ),
    Fact(
        "`nn.LSTM(proj_size=P)` adds `0.cell.weight_ho` [H, P], applied as `h @ weight_ho`"
        " (torch's `weight_hr_l0` is [P, H]), and `weight_hh_l0` becomes [4H, P].",
        _STEP + "m = paddle.nn.LSTM(3, 4, proj_size=2)\n"
        "c0 = rng.standard_normal((1, 2, 4))\n"
        "h0 = rng.standard_normal((1, 2, 2))\n"
        "_, (h, c) = m(paddle.to_tensor(x), (paddle.to_tensor(h0), paddle.to_tensor(c0)))\n"
        "p = {k: v.numpy() for k, v in m.named_parameters()}\n"
        "z = x[:, 0] @ p['weight_ih_l0'].T + h0[0] @ p['weight_hh_l0'].T + p['bias_ih_l0']"
        " + p['bias_hh_l0']\n"
        "o = s(np.split(z, 4, axis=-1)[3])\n"
        "h1 = (o * np.tanh(c.numpy()[0])) @ p['0.cell.weight_ho']\n"
        "print(tuple(p['0.cell.weight_ho'].shape), tuple(p['weight_hh_l0'].shape),"
        " np.allclose(h1, h.numpy()[0]))",
        "(4, 2) (16, 2) True",
    ),
    Fact(
        "With `proj_size` the torch-style aliases name the wrong tensors (PaddlePaddle/Paddle"
        "#70245): in `nn.LSTM(3, 4, num_layers=2, proj_size=2)`, `weight_ih_l1` is"
        " `0.cell.weight_ho` [4, 2], `weight_hh_l1` is `1.cell.weight_ih` and `bias_ih_l1` is"
        " `1.cell.weight_hh` [16, 2].",
        "import paddle\n"
        "m = paddle.nn.LSTM(3, 4, num_layers=2, proj_size=2)\n"
        "print(m.weight_ih_l1 is m[0].cell.weight_ho, m.weight_hh_l1 is m[1].cell.weight_ih,"
        " m.bias_ih_l1 is m[1].cell.weight_hh, tuple(m.weight_ih_l1.shape),"
        " tuple(m.bias_ih_l1.shape))",
        "True True True (4, 2) (16, 2)",
    ),
    Fact(
        "`nn.LSTMCell(I, H, proj_size=P).state_shape` is ((H,), (P,)) for (h, c), which are"
        " [P] and [H]: a cell left to make its own initial states fails.",
        "import paddle\n"
        "cell = paddle.nn.LSTMCell(3, 4, proj_size=2)\n"
        "try:\n"
        "    paddle.nn.RNN(cell)(paddle.zeros([2, 5, 3]))\n"
        "    ran = 'ran'\n"
        "except ValueError:\n"
        "    ran = 'raised ValueError'\n"
        "print(cell.state_shape, ran)",
        "((4,), (2,)) raised ValueError",
    ),
    Fact(
        "`nn.GRU`'s blocks are r, z, n (Paddle's r, z, c), with the reset after the recurrent"
        " product and `bias_hh`'s n block inside r ∘ (…), as torch's.",
        _STEP + "m = paddle.nn.GRU(3, 4)\n"
        "_, h = m(paddle.to_tensor(x), paddle.to_tensor(h0))\n"
        "p = {k: v.numpy() for k, v in m.named_parameters()}\n"
        "xz = x[:, 0] @ p['weight_ih_l0'].T + p['bias_ih_l0']\n"
        "hz = h0[0] @ p['weight_hh_l0'].T + p['bias_hh_l0']\n"
        "found = []\n"
        "for order in itertools.permutations('rzn'):\n"
        "    a = dict(zip(order, np.split(xz, 3, axis=-1)))\n"
        "    b = dict(zip(order, np.split(hz, 3, axis=-1)))\n"
        "    r, z = s(a['r'] + b['r']), s(a['z'] + b['z'])\n"
        "    i = order.index('n')\n"
        "    U_n = np.split(p['weight_hh_l0'], 3)[i].T\n"
        "    b_n = np.split(p['bias_hh_l0'], 3)[i]\n"
        "    for reset, n in (('after', np.tanh(a['n'] + r * b['n'])),"
        " ('before', np.tanh(a['n'] + (r * h0[0]) @ U_n + b_n))):\n"
        "        if np.allclose((1 - z) * n + z * h0[0], h.numpy()[0]):\n"
        "            found.append((''.join(order), reset))\n"
        "print(found)",
        "[('rzn', 'after')]",
    ),
    Fact(
        "`nn.SimpleRNN(I, H)` has `weight_ih_l0` [H, I], `weight_hh_l0` [H, H], `bias_ih_l0` and"
        " `bias_hh_l0` [H]; `activation` is tanh or relu.",
        "import paddle\n"
        "m = paddle.nn.SimpleRNN(3, 4, activation='relu')\n"
        "print([(k, tuple(v.shape)) for k, v in m.named_parameters()], m.mode)",
        "[('weight_ih_l0', (4, 3)), ('weight_hh_l0', (4, 4)), ('bias_ih_l0', (4,)),"
        " ('bias_hh_l0', (4,))] RNN_RELU",
    ),
    Fact(
        "`nn.Linear(I, H)` has `weight` [I, H], applied as `x @ weight` (torch's is [H, I]), and"
        " `bias` [H].",
        "import numpy as np, paddle\n"
        "paddle.set_default_dtype('float64')\n"
        "m = paddle.nn.Linear(3, 4)\n"
        "x = np.arange(6.0).reshape(2, 3)\n"
        "y = x @ m.weight.numpy() + m.bias.numpy()\n"
        "print(tuple(m.weight.shape), tuple(m.bias.shape),"
        " np.allclose(m(paddle.to_tensor(x)).numpy(), y))",
        "(3, 4) (4,) True",
    ),
    Fact(
        "The layers are batch-first by default (`time_major=False`); a bidirectional two-layer"
        ' layer (`direction="bidirect"`) has outputs [B, T, 2H] and final states [L·D, B, H]'
        " in the order l0, l0_reverse, l1, l1_reverse.",
        "import paddle\n"
        "m = paddle.nn.GRU(3, 4, num_layers=2, direction='bidirect')\n"
        "out, h = m(paddle.zeros([2, 5, 3]))\n"
        "print(m.time_major, [k for k, _ in m.named_parameters() if k.startswith('weight_ih')],"
        " tuple(out.shape), tuple(h.shape))",
        "False ['weight_ih_l0', 'weight_ih_l0_reverse', 'weight_ih_l1', 'weight_ih_l1_reverse']"
        " (2, 5, 8) (4, 2, 4)",
    ),
    Fact(
        "Without a projection the layer runs one fused `rnn` kernel on its weight list"
        " (`could_use_cudnn` is True on the CPU too); with `proj_size` it steps its cells in"
        " Python.",
        "import paddle\n"
        "print(paddle.nn.LSTM(3, 4, num_layers=2).could_use_cudnn,"
        " paddle.nn.LSTM(3, 4, proj_size=2).could_use_cudnn,"
        " paddle.device.is_compiled_with_cuda())",
        "True False False",
    ),
    Fact(
        "With `proj_size` and `sequence_length`, `nn.LSTM` (its Python loop) leaves the outputs"
        " past each row's length as its cell computed them from the held state, where the fused"
        " kernel returns zeros (printed: the outputs past a length are all zero, without and"
        " with a projection); the final states are the last valid step's in both.",
        "import numpy as np, paddle\n"
        "paddle.set_default_dtype('float64')\n"
        "x = paddle.to_tensor(np.random.default_rng(0).standard_normal((2, 4, 3)))\n"
        "n = paddle.to_tensor(np.array([4, 2]))\n"
        "zero = lambda m: bool((m(x, sequence_length=n)[0].numpy()[1, 2:] == 0).all())\n"
        "print(zero(paddle.nn.LSTM(3, 4)), zero(paddle.nn.LSTM(3, 4, proj_size=2)))",
        "True False",
    ),
    Fact(
        "With `sequence_length` and an initial state, a bidirectional layer's reverse"
        " `weight_hh_l0_reverse` gradient is wrong: it differs from central differences of"
        " Paddle's own forward pass, while the forward direction's agrees, and both agree without"
        " an initial state (printed: forward without h0, forward with h0, reverse without h0,"
        " reverse with h0; True is wrong).",
        "import numpy as np, paddle\n"
        "paddle.set_default_dtype('float64')\n"
        "rng = np.random.default_rng(0)\n"
        "m = paddle.nn.SimpleRNN(2, 3, direction='bidirect')\n"
        "u = lambda *shape: paddle.to_tensor(rng.uniform(-1, 1, shape))\n"
        "x, h0, probe = u(2, 4, 2), u(2, 2, 3), u(2, 4, 6)\n"
        "n = paddle.to_tensor(np.array([4, 2]))\n"
        "w = dict(m.named_parameters())\n"
        "def error(name, initial):\n"
        "    J = lambda: float(((m(x, initial, sequence_length=n)[0] * probe).sum()))\n"
        "    m.clear_gradients()\n"
        "    (m(x, initial, sequence_length=n)[0] * probe).sum().backward()\n"
        "    base, fd = w[name].numpy().copy(), np.zeros(w[name].shape)\n"
        "    for i in np.ndindex(base.shape):\n"
        "        for sign in (1, -1):\n"
        "            p = base.copy(); p[i] += sign * 1e-6; w[name].set_value(p)\n"
        "            fd[i] += sign * J() / 2e-6\n"
        "    w[name].set_value(base)\n"
        "    return np.abs(w[name].grad.numpy() - fd).max()\n"
        "names = ('weight_hh_l0', 'weight_hh_l0_reverse')\n"
        "print([bool(error(k, h) > 1e-6) for k in names for h in (None, h0)])\n",
        "[False, False, False, True]",
    ),
)
