"""PyTorch's layout facts (``core.facts``), each shown by a snippet; docs/frameworks.md."""

from gradparity.core.facts import Fact

FACTS = (
    Fact(
        "`nn.LSTM(I, H)` has `weight_ih_l0` [4H, I], `weight_hh_l0` [4H, H], `bias_ih_l0` and"
        " `bias_hh_l0` [4H]; the blocks are i, f, g, o.",
        "import torch\n"
        "m = torch.nn.LSTM(3, 4)\n"
        "print(sorted((k, tuple(v.shape)) for k, v in m.named_parameters()))",
        "[('bias_hh_l0', (16,)), ('bias_ih_l0', (16,)), ('weight_hh_l0', (16, 4)),"
        " ('weight_ih_l0', (16, 3))]",
    ),
    Fact(
        "`nn.LSTM(proj_size=P)` adds `weight_hr_l0` [P, H], and `weight_hh_l0` becomes [4H, P].",
        "import torch\n"
        "m = torch.nn.LSTM(3, 4, proj_size=2)\n"
        "print(tuple(m.weight_hr_l0.shape), tuple(m.weight_hh_l0.shape))",
        "(2, 4) (16, 2)",
    ),
    Fact(
        "`nn.GRU` has `bias_ih_l0` and `bias_hh_l0` [3H], blocks r, z, n, with `b_hn` inside"
        " r ∘ (…).",
        "import torch\n"
        "m = torch.nn.GRU(3, 4)\n"
        "print(tuple(m.bias_hh_l0.shape), tuple(m.weight_ih_l0.shape))",
        "(12,) (12, 3)",
    ),
    Fact(
        "A bidirectional two-layer module's final states are [L·D, B, H], in the order l0,"
        " l0_reverse, l1, l1_reverse.",
        "import torch\n"
        "m = torch.nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)\n"
        "print(sorted(k for k, _ in m.named_parameters() if k.startswith('weight_ih')),"
        " tuple(m(torch.zeros(2, 5, 3))[1].shape))",
        "['weight_ih_l0', 'weight_ih_l0_reverse', 'weight_ih_l1', 'weight_ih_l1_reverse']"
        " (4, 2, 4)",
    ),
    Fact(
        "`pack_padded_sequence` refuses a row of length 0 (so the torch oracle refuses cases"
        " with one).",
        "import torch\n"
        "from torch.nn.utils.rnn import pack_padded_sequence\n"
        "try:\n"
        "    x, lengths = torch.zeros(2, 3, 1), torch.tensor([3, 0])\n"
        "    pack_padded_sequence(x, lengths, enforce_sorted=False)\n"
        "except RuntimeError as error:\n"
        '    print(str(error).split(",")[0])\n',
        "Length of all samples has to be greater than 0",
    ),
)
