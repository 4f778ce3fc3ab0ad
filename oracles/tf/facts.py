"""TensorFlow's (and Keras on it) layout facts (``core.facts``); docs/frameworks.md."""

from gradparity.core.facts import Fact

FACTS = (
    Fact(
        "`keras.layers.LSTM(H)` has `kernel` [I, 4H], `recurrent_kernel` [H, 4H] and one `bias`"
        " [4H]; the blocks are i, f, c, o (torch's order).",
        "import keras\n"
        "layer = keras.layers.LSTM(4)\n"
        "layer.build((None, None, 3))\n"
        "print([(v.name, tuple(v.shape)) for v in layer.trainable_variables])",
        "[('kernel', (3, 16)), ('recurrent_kernel', (4, 16)), ('bias', (16,))]",
    ),
    Fact(
        "`keras.layers.GRU(reset_after=True)` has `bias` [2, 3H] (row 0 input, row 1 recurrent);"
        " the blocks are z, r, h.",
        "import keras\n"
        "layer = keras.layers.GRU(4, reset_after=True)\n"
        "layer.build((None, None, 3))\n"
        "print([(v.name, tuple(v.shape)) for v in layer.trainable_variables])",
        "[('kernel', (3, 12)), ('recurrent_kernel', (4, 12)), ('bias', (2, 12))]",
    ),
    Fact(
        "TF 1.x `LSTMCell(use_peepholes=True)` has `kernel` [I+H, 4H] in the order i, j, f, o,"
        " `bias` [4H] and `w_f_diag`, `w_i_diag`, `w_o_diag` [H]; its state is (c, h).",
        "import warnings; warnings.simplefilter('ignore')\n"
        "from tensorflow.python.keras.layers.legacy_rnn import rnn_cell_impl as r\n"
        "cell = r.LSTMCell(4, use_peepholes=True)\n"
        "cell.build((None, 3))\n"
        "print([(w.name.split('/')[-1], tuple(w.shape)) for w in cell.trainable_weights],"
        " r.LSTMStateTuple._fields)",
        "[('kernel:0', (7, 16)), ('bias:0', (16,)), ('w_f_diag:0', (4,)), ('w_i_diag:0', (4,)),"
        " ('w_o_diag:0', (4,))] ('c', 'h')",
    ),
    Fact(
        "With a mask, Keras's recurrent layers carry the last valid output over the masked steps"
        " (`return_sequences`) and return the state after the last valid step (so the Keras"
        " builders zero the outputs past each length, to compare the defined part).",
        "import keras, numpy as np\n"
        "layer = keras.layers.SimpleRNN(2, return_sequences=True, return_state=True)\n"
        "x = np.arange(8.0).reshape(1, 4, 2) / 10\n"
        "out, h = layer(x, mask=np.array([[True, True, False, False]]))\n"
        "out, h = np.asarray(out)[0], np.asarray(h)[0]\n"
        "print(bool((out[2:] == out[1]).all()), bool((h == out[1]).all()))\n",
        "True True",
    ),
)
