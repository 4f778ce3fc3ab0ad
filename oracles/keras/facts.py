"""Keras 3's facts on its JAX and torch backends (``core.facts``), each shown by a snippet run in a
process of that backend (``Framework.environment``); docs/frameworks.md states each word for
word. The layouts are the TensorFlow backend's (``gradparity.tf``); what differs is float64."""

from gradparity.core.facts import Fact

_X64 = "import jax\njax.config.update('jax_enable_x64', True)\nimport keras, numpy as np\n"

JAX_FACTS = (
    Fact(
        "On the JAX backend (with `jax_enable_x64`), `keras.ops.tanh` of a float64 tensor"
        " returns float32, while `keras.ops.sigmoid` and `jax.nn.tanh` keep float64.",
        _X64 + "x = keras.ops.convert_to_tensor(np.full((2,), 0.3), 'float64')\n"
        "print(keras.backend.backend(), keras.ops.tanh(x).dtype, keras.ops.sigmoid(x).dtype,"
        " jax.nn.tanh(x).dtype)",
        "jax float32 float64 float64",
    ),
    Fact(
        "So a float64 `keras.layers.SimpleRNN` with its default `activation='tanh'` fails on"
        " the JAX backend (`lax.scan`: the carry goes in as float64[2,4] and comes out as"
        " float32[2,4]); with `activation=jax.nn.tanh` it runs in float64.",
        _X64 + "try:\n"
        "    keras.layers.SimpleRNN(4, dtype='float64')(np.ones((2, 5, 3)))\n"
        "    said = 'ran'\n"
        "except TypeError as error:\n"
        "    said = 'float64[2,4] but the corresponding output carry component has type"
        " float32[2,4]' in str(error)\n"
        "out = keras.layers.SimpleRNN(4, dtype='float64', activation=jax.nn.tanh)"
        "(np.ones((2, 5, 3)))\n"
        "print(said, out.dtype)",
        "True float64",
    ),
    Fact(
        "`keras.layers.LSTM(4)` and `keras.layers.GRU(4)` built for I = 3 have the TensorFlow"
        " backend's variables: `kernel` (3, 16), `recurrent_kernel` (4, 16), `bias` (16,); and"
        " (3, 12), (4, 12), (2, 12).",
        _X64 + "shapes = []\n"
        "for layer in (keras.layers.LSTM(4), keras.layers.GRU(4)):\n"
        "    layer.build((None, None, 3))\n"
        "    shapes += [tuple(v.shape) for v in layer.trainable_variables]\n"
        "print(*shapes)",
        "(3, 16) (4, 16) (16,) (3, 12) (4, 12) (2, 12)",
    ),
)

TORCH_FACTS = (
    Fact(
        "On the torch backend, `keras.ops.matmul` of two float64 tensors returns float32"
        " (keras-team/keras#23704: `keras.backend.result_type` maps float64 to float32 on every"
        " backend but TensorFlow's), while `keras.ops.add` and `keras.ops.tanh` keep float64.",
        "import keras, numpy as np\n"
        "x = keras.ops.convert_to_tensor(np.full((2, 2), 0.3), 'float64')\n"
        "print(keras.backend.backend(), keras.ops.matmul(x, x).dtype, keras.ops.add(x, x).dtype,"
        " keras.ops.tanh(x).dtype)",
        "torch torch.float32 torch.float64 torch.float64",
    ),
    Fact(
        "So a float64 `keras.layers.Dense` on the torch backend returns float64 (its bias add"
        " promotes the float32 product back) but is float32-accurate: its relative error"
        " against the float64 product lies between 1e-9 and 1e-6.",
        "import keras, numpy as np\n"
        "x = np.random.default_rng(0).standard_normal((4, 3))\n"
        "dense = keras.layers.Dense(5, dtype='float64')\n"
        "y = keras.ops.convert_to_numpy(dense(x))\n"
        "kernel, bias = (keras.ops.convert_to_numpy(v) for v in dense.weights)\n"
        "exact = x @ kernel + bias\n"
        "error = np.max(np.abs(y - exact)) / np.max(np.abs(exact))\n"
        "print(y.dtype, 1e-9 < error < 1e-6)",
        "float64 True",
    ),
)
