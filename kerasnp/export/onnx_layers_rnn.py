"""ONNX converters of the recurrent layers: SimpleRNN, LSTM, GRU (and `RNN` over one of their
cells), Bidirectional, and TimeDistributed.

ONNX's RNN/LSTM/GRU ops take time-major input `(steps, batch, features)` and weights per gate
laid out as rows: `W (dirs, gates·units, features)`, `R (dirs, gates·units, units)` and
`B (dirs, 2·gates·units)` (input biases, then recurrent biases). Keras's kernels are the
transposes, with LSTM gates in the order i, f, c, o where ONNX has i, o, f, c (GRU's z, r, h
order is ONNX's). Keras's GRU with `reset_after=True` is ONNX's `linear_before_reset=1`, its
`(2, 3·units)` bias the input and recurrent biases. `go_backwards` reverses the steps before the
op, which makes the returned sequence come out in processing order, as kerasnp returns it.
With a mask, or an activation those ops do not have, a layer becomes a Scan instead
(`onnx_layers_rnn_scan.py`).
"""
import numpy as np

from ..layers.bidirectional import Bidirectional
from ..layers.rnn import RNN
from ..layers.rnn_cells import LSTMCell, SimpleRNNCell
from ..layers.rnn_cells_gru import GRUCell
from ..layers.wrappers import TimeDistributed
from .onnx_layers_rnn_scan import scan_rnn
from .onnx_registry import converts, unsupported

_REVERSE_END = np.iinfo(np.int64).min          # Slice end before index 0 (step -1)


_NATIVE = {"sigmoid": ("Sigmoid", None, None), "tanh": ("Tanh", None, None),
           "relu": ("Relu", None, None), "linear": ("Affine", 1.0, 0.0),
           "hard_sigmoid": ("HardSigmoid", 1 / 6, 0.5), "softsign": ("Softsign", None, None),
           "softplus": ("Softplus", None, None)}


def _native_attrs(fns):
    """The activation attributes of ONNX's recurrent ops for `fns`, or None when one of them
    has no form there (then the layer runs as a Scan)."""
    acts = []
    for fn in fns:
        params = fn.get_config() if hasattr(fn, "get_config") else {}
        name = getattr(fn, "name", None)
        if name == "elu":
            acts.append(("Elu", float(params["alpha"]), None))
        elif name in _NATIVE and not (name == "relu" and any(params.values())):
            acts.append(_NATIVE[name])
        else:
            return None
    # onnxruntime reads the alphas (betas) in order, one per activation that takes one
    alphas = [float(a[1]) for a in acts if a[1] is not None]
    betas = [float(a[2]) for a in acts if a[2] is not None]
    return {"activations": [a[0] for a in acts], "activation_alpha": alphas or None,
            "activation_beta": betas or None}


def _lstm_gates(a, units):
    """Keras's gate blocks i, f, c, o along the last axis -> ONNX's i, o, f, c."""
    i, f, c, o = (a[..., k * units:(k + 1) * units] for k in range(4))
    return np.concatenate([i, o, f, c], axis=-1)


def reverse_time(b, x):
    return b.slice(x, [-1], [_REVERSE_END], [1], [-1])


@converts(RNN)
def _rnn(b, layer, sequences, initial_state=None, mask=None):
    cell = layer.cell
    kinds = {LSTMCell: "LSTM", GRUCell: "GRU", SimpleRNNCell: "RNN"}
    if type(cell) not in kinds:
        unsupported(layer, f"its cell {type(cell).__name__} is not one of LSTMCell, GRUCell, "
                    "SimpleRNNCell.")
    if layer.stateful:
        unsupported(layer, "it is stateful: its states carry from one batch to the next, which "
                    "a served model cannot do. Export a copy built with stateful=False.")
    states = [] if initial_state is None else (
        list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state])
    op = kinds[type(cell)]
    fns = [cell.activation] if op == "RNN" else [cell.recurrent_activation, cell.activation]
    attrs = None if mask is not None else _native_attrs(fns + [cell.activation] * (op == "LSTM"))
    if attrs is None:                       # masks, or activations ONNX's ops do not have
        ys, finals = scan_rnn(b, layer, sequences, states, mask, reverse_time)
        out = ys if layer.return_sequences else b.op("Gather", [ys, b.ints(-1, "last")],
                                                     axis=1)
    else:
        out, finals = _native(b, layer, op, sequences, states, attrs)
    return [out] + finals if layer.return_state else out


def _native(b, layer, op, sequences, states, attrs):
    """ONNX's own LSTM/GRU/RNN op: (output, final states)."""
    cell = layer.cell
    units = cell.units
    if op == "LSTM":
        reorder = lambda a: _lstm_gates(a, units)          # noqa: E731
    else:
        reorder = lambda a: a                               # noqa: E731
    w = b.weight(cell.kernel, "W", lambda k: reorder(k).T[None])
    r = b.weight(cell.recurrent_kernel, "R", lambda k: reorder(k).T[None])
    bias = None
    if cell.bias is not None:
        def joined(v):                                      # [input biases, recurrent biases]
            if v.ndim == 2:                                 # GRU reset_after: (2, 3·units)
                return v.reshape(1, -1)
            return np.concatenate([reorder(v), np.zeros_like(v)])[None]
        bias = b.weight(cell.bias, "B", joined)
    x = reverse_time(b, sequences) if layer.go_backwards else sequences
    x = b.transpose(x, [1, 0, 2])                           # time-major
    states = [b.unsqueeze(s, [0]) for s in states]          # (1 direction, batch, units)
    if op == "GRU":
        attrs["linear_before_reset"] = int(cell.reset_after)
    outs = b.op(op, [x, w, r, bias, None] + states, outputs=3 if op == "LSTM" else 2,
                hidden_size=units, **attrs)
    y, finals = outs[0], [b.squeeze(s, [0]) for s in outs[1:]]
    if layer.return_sequences:
        return b.transpose(b.squeeze(y, [1]), [1, 0, 2]), finals   # (steps, 1, batch, u)
    return finals[0], finals


@converts(Bidirectional)
def _bidirectional(b, layer, sequences, initial_state=None, mask=None):
    fwd_kw, bwd_kw = ({}, {}) if mask is None else ({"mask": mask}, {"mask": mask})
    if initial_state is not None:
        half = len(initial_state) // 2
        fwd_kw["initial_state"], bwd_kw["initial_state"] = initial_state[:half], \
            initial_state[half:]
    from .onnx_graph import convert_layer
    y = convert_layer(b, layer.forward_layer, (sequences,), fwd_kw)
    y_rev = convert_layer(b, layer.backward_layer, (sequences,), bwd_kw)
    states = []
    if layer.return_state:
        states = list(y[1:]) + list(y_rev[1:])
        y, y_rev = y[0], y_rev[0]
    if layer.return_sequences:
        y_rev = reverse_time(b, y_rev)                      # back to forward time order
    mode = layer.merge_mode
    if mode == "concat":
        output = [b.op("Concat", [y, y_rev], axis=-1)]
    elif mode == "sum":
        output = [b.add(y, y_rev)]
    elif mode == "ave":
        output = [b.mul(b.add(y, y_rev), b.scalar(0.5))]
    elif mode == "mul":
        output = [b.mul(y, y_rev)]
    else:
        output = [y, y_rev]
    if layer.return_state or mode is None:
        return output + states
    return output[0]


@converts(TimeDistributed)
def _time_distributed(b, layer, inputs, mask=None):
    from .onnx_graph import convert_layer
    if mask is not None:
        unsupported(layer, "it is called with a mask.")
    shape = b.shape(inputs)
    inner_in = (None,) + tuple(shape[2:])
    if any(d is None for d in inner_in[1:]):
        unsupported(layer, f"its input's per-step shape {shape[2:]} is not fully known.")
    folded = b.reshape(inputs, (-1,) + inner_in[1:])        # (batch·steps, ...)
    b.set_shape(folded, inner_in)
    y = convert_layer(b, layer.layer, (folded,), {})
    out = layer.layer.compute_output_shape(inner_in)
    if isinstance(y, (list, tuple)) or any(d is None for d in out[1:]):
        unsupported(layer, f"its layer {type(layer.layer).__name__} gives {out}; one output of "
                    "known shape is needed.")
    lead = b.slice(b.op("Shape", [inputs]), [0], [2], [0])  # (batch, steps) at run time
    target = b.op("Concat", [lead, b.ints(out[1:], "inner_shape")], axis=0)
    return b.op("Reshape", [y, target])
