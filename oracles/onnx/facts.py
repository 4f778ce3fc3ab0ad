"""ONNX Runtime's and torch.onnx's layout facts (``core.facts``), each shown by a snippet;
docs/frameworks.md states each word for word. The TorchScript exporter (``dynamo=False``) is
the one the oracle uses; the dynamo exporter's facts say why."""

from gradparity.core.facts import Fact

_EXPORT = (
    "import io, warnings, onnx, torch\n"
    "warnings.simplefilter('ignore')\n"
    "def export(module, args, **kw):\n"
    "    buffer = io.BytesIO()\n"
    "    torch.onnx.export(module, args, buffer, dynamo=False, **kw)\n"
    "    return onnx.load_from_string(buffer.getvalue())\n"
    "def node(model, op):\n"
    "    return next(n for n in model.graph.node if n.op_type == op)\n"
    "def attributes(n):\n"
    "    return {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}\n"
)

_BLOCKS = (
    "from onnx import numpy_helper\n"
    "def blocks(model, op, module, gates):\n"
    "    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}\n"
    "    W, R, B = (init[name] for name in node(model, op).input[1:4])\n"
    "    theirs = W[0].reshape(len(gates), -1, W.shape[-1])\n"
    "    ours = module.weight_ih_l0.detach().numpy().reshape(len(gates), -1, W.shape[-1])\n"
    "    order = [gates[next(k for k in range(len(gates)) if (t == ours[k]).all())]"
    " for t in theirs]\n"
    "    bias = (module.bias_ih_l0.detach().numpy(), module.bias_hh_l0.detach().numpy())\n"
    "    b = B[0].reshape(2, len(gates), -1)\n"
    "    ours_b = [x.reshape(len(gates), -1) for x in bias]\n"
    "    same = all((b[j, k] == ours_b[j][gates.index(g)]).all()"
    " for j in range(2) for k, g in enumerate(order))\n"
    "    return W.shape, R.shape, B.shape, ' '.join(order), same\n"
)

_DYNAMO = (
    "import logging, warnings, onnx, torch\n"
    "warnings.simplefilter('ignore'); logging.disable(logging.WARNING)\n"
    "def dynamo(module, args, **kw):\n"
    "    return torch.onnx.export(module, args, dynamo=True, verbose=False, **kw).model_proto\n"
)

FACTS = (
    Fact(
        "ONNX Runtime's CPU kernels have no float64 LSTM, GRU or RNN: a float64 LSTM or GRU fails"
        ' when run ("LSTM operator does not support double yet"), a float64 RNN has no kernel,'
        " so the oracle computes in float32.",
        _EXPORT + "import numpy as np, onnxruntime as ort\n"
        "ort.set_default_logger_severity(4)\n"
        "said = []\n"
        "for cls in (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN):\n"
        "    x = torch.zeros(5, 2, 3, dtype=torch.float64)\n"
        "    model = export(cls(3, 4, dtype=torch.float64), (x,), input_names=['x'])\n"
        "    try:\n"
        "        s = ort.InferenceSession(model.SerializeToString(),"
        " providers=['CPUExecutionProvider'])\n"
        "        s.run(None, {'x': x.numpy()})\n"
        "        said.append('ran')\n"
        "    except Exception as error:\n"
        "        said.append(str(error).split(' : ')[-1].split('Status Message: ')[-1])\n"
        "print(' | '.join(said))",
        "LSTM operator does not support double yet | GRU operator does not support double yet"
        " | Could not find an implementation for RNN(14) node with name '/RNN'",
    ),
    Fact(
        "The TorchScript exporter writes `nn.LSTM(I, H, bidirectional=True)` as one ONNX `LSTM`"
        " node with `W` [D, 4H, I], `R` [D, 4H, H] and `B` [D, 8H] = [Wb; Rb] (torch's"
        " `bias_ih`, then `bias_hh`); its gate blocks are i, o, f, c (torch's i, o, f, g).",
        _EXPORT + _BLOCKS + "m = torch.nn.LSTM(3, 4, bidirectional=True)\n"
        "print(*blocks(export(m, (torch.zeros(5, 2, 3),)), 'LSTM', m, 'ifgo'))",
        "(2, 16, 3) (2, 16, 4) (2, 32) i o f g True",
    ),
    Fact(
        "ONNX's `LSTM`, `GRU` and `RNN` are time-major: `Y` is [T, D, B, H], and for a"
        " batch-first module the exporter transposes it to torch's [B, T, D·H].",
        _EXPORT + "m = torch.nn.LSTM(3, 4, bidirectional=True, batch_first=True)\n"
        "model = onnx.shape_inference.infer_shapes(export(m, (torch.zeros(2, 5, 3),)))\n"
        "shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]"
        " for v in [*model.graph.value_info, *model.graph.output]}\n"
        "n = node(model, 'LSTM')\n"
        "print(attributes(n).get('layout', 0), shapes[n.output[0]],"
        " shapes[model.graph.output[0].name])",
        "0 [5, 2, 2, 4] [2, 5, 8]",
    ),
    Fact(
        "The TorchScript exporter writes `nn.GRU` as an ONNX `GRU` node with"
        " `linear_before_reset` 1 (torch's reset after the recurrent product) and gate blocks"
        " z, r, h (torch's z, r, n); `B` [D, 6H] = [Wb; Rb].",
        _EXPORT + _BLOCKS + "m = torch.nn.GRU(3, 4)\n"
        "model = export(m, (torch.zeros(5, 2, 3),))\n"
        "print(attributes(node(model, 'GRU'))['linear_before_reset'],"
        " *blocks(model, 'GRU', m, 'rzn'))",
        "1 (1, 12, 3) (1, 12, 4) (1, 24) z r n True",
    ),
    Fact(
        "The TorchScript exporter writes `nn.RNN(nonlinearity='relu', bidirectional=True)` as"
        " an ONNX `RNN` node with `activations` Relu, Relu (one per direction) and `B` [D, 2H].",
        _EXPORT + "from onnx import numpy_helper\n"
        "m = torch.nn.RNN(3, 4, nonlinearity='relu', bidirectional=True)\n"
        "model = export(m, (torch.zeros(5, 2, 3),))\n"
        "n = node(model, 'RNN')\n"
        "init = {i.name: i for i in model.graph.initializer}\n"
        "print([a.decode() for a in attributes(n)['activations']],"
        " numpy_helper.to_array(init[n.input[3]]).shape)",
        "['Relu', 'Relu'] (2, 8)",
    ),
    Fact(
        "With `export_params=False` and `do_constant_folding=False` the graph's inputs are x,"
        " the initial states and the module's parameters by torch's names, and the conversion"
        " to ONNX's layout stays in the graph as Slice and Concat nodes: one session serves"
        " every problem's weights.",
        _EXPORT + "m = torch.nn.GRU(3, 4, num_layers=2, batch_first=True)\n"
        "model = export(m, (torch.zeros(2, 5, 3), torch.zeros(2, 2, 4)),"
        " input_names=['x', 'h0'], export_params=False, do_constant_folding=False)\n"
        "ops = {n.op_type for n in model.graph.node}\n"
        "print([i.name for i in model.graph.input], len(model.graph.initializer),"
        " {'Slice', 'Concat', 'GRU'} <= ops)",
        "['x', 'h0', 'weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0',"
        " 'weight_ih_l1', 'weight_hh_l1', 'bias_ih_l1', 'bias_hh_l1'] 0 True",
    ),
    Fact(
        "ONNX Runtime's results for an exported two-layer bidirectional module are the"
        " module's: outputs [B, T, 2H] and final states [L·D, B, H] in torch's order l0,"
        " l0_reverse, l1, l1_reverse.",
        _EXPORT + "import numpy as np, onnxruntime as ort\n"
        "torch.manual_seed(0)\n"
        "m = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)\n"
        "x, h0, c0 = torch.randn(2, 5, 3), torch.randn(4, 2, 4), torch.randn(4, 2, 4)\n"
        "model = export(m, (x, (h0, c0)), input_names=['x', 'h0', 'c0'])\n"
        "s = ort.InferenceSession(model.SerializeToString(), providers=['CPUExecutionProvider'])\n"
        "got = s.run(None, {'x': x.numpy(), 'h0': h0.numpy(), 'c0': c0.numpy()})\n"
        "with torch.no_grad():\n"
        "    y, (h, c) = m(x, (h0, c0))\n"
        "want = [t.numpy() for t in (y, h, c)]\n"
        "print([g.shape for g in got],"
        " all(np.abs(g - w).max() < 1e-6 for g, w in zip(got, want, strict=True)))",
        "[(2, 5, 8), (4, 2, 4), (4, 2, 4)] True",
    ),
    Fact(
        'The TorchScript exporter refuses `nn.LSTM(proj_size=P)`: "Unsupported: ONNX export'
        ' of operator LSTM, LSTMs with projections".',
        _EXPORT + "try:\n"
        "    export(torch.nn.LSTM(3, 4, proj_size=2), (torch.zeros(5, 2, 3),))\n"
        "    print('exported')\n"
        "except Exception as error:\n"
        "    print(str(error).split('. ')[0])",
        "Unsupported: ONNX export of operator LSTM, LSTMs with projections",
    ),
    Fact(
        "The dynamo exporter (`dynamo=True`) also writes `linear_before_reset` 1 for `nn.GRU`"
        " here: pytorch/pytorch#189225 (it wrote 0) is fixed in the onnxscript of this"
        " environment.",
        _DYNAMO + "model = dynamo(torch.nn.GRU(3, 4), (torch.zeros(5, 2, 3),), optimize=False)\n"
        "print([(n.op_type, [a.i for a in n.attribute if a.name == 'linear_before_reset'])"
        " for n in model.graph.node if n.op_type == 'GRU'])",
        "[('GRU', [1])]",
    ),
    Fact(
        "The dynamo exporter writes `nn.LSTM(3, 4, proj_size=2)` as an ONNX `LSTM` of"
        ' `hidden_size` 2 with no projection, which ONNX Runtime then rejects ("Input initial_c'
        ' must have shape {1,2,2}. Actual:{1,2,4}").',
        _DYNAMO + "import onnxruntime as ort\n"
        "ort.set_default_logger_severity(4)\n"
        "m = torch.nn.LSTM(3, 4, proj_size=2)\n"
        "x, h0, c0 = torch.zeros(5, 2, 3), torch.zeros(1, 2, 2), torch.zeros(1, 2, 4)\n"
        "model = dynamo(m, (x, (h0, c0)), optimize=False)\n"
        "n = next(n for n in model.graph.node if n.op_type == 'LSTM')\n"
        "size = [a.i for a in n.attribute if a.name == 'hidden_size']\n"
        "s = ort.InferenceSession(model.SerializeToString(), providers=['CPUExecutionProvider'])\n"
        "try:\n"
        "    s.run(None, dict(zip([i.name for i in s.get_inputs()],"
        " (x.numpy(), h0.numpy(), c0.numpy()))))\n"
        "    print(size, 'ran')\n"
        "except Exception as error:\n"
        "    print(size, str(error).split('Status Message: ')[-1])",
        "[2] Input initial_c must have shape {1,2,2}. Actual:{1,2,4}",
    ),
    Fact(
        "The dynamo exporter writes `nn.RNN` without an ONNX `RNN` node: the recurrence is"
        " unrolled over the example's steps (one Tanh per step), so the graph serves that T only.",
        _DYNAMO + "model = dynamo(torch.nn.RNN(3, 4), (torch.zeros(5, 2, 3),), optimize=False)\n"
        "types = [n.op_type for n in model.graph.node]\n"
        "print('RNN' in types, types.count('Tanh'))",
        "False 5",
    ),
)
