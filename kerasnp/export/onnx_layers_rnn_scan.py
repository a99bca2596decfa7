"""Recurrent layers as an ONNX `Scan` over the steps, the cell's step written out with
elementary ops: the form used where ONNX's own LSTM/GRU/RNN ops cannot say what kerasnp
computes, that is with a mask (a masked step keeps the previous states, as in Keras) or with an
activation outside those ops' vocabulary (`gelu`, `silu`, a configured `relu`, ...).

The body takes the states and one step `x_t (batch, features)` (and `m_t (batch,)`, True for a
real step) and returns the new states and the step's output. Weights keep Keras's layout (gate
blocks i, f, c, o for LSTM; z, r, h for GRU), read from the main graph as outer-scope values.
"""
from ..layers.rnn_cells import LSTMCell
from ..layers.rnn_cells_gru import GRUCell
from .onnx_activations import activation


def _split(b, z, parts, units):
    return b.op("Split", [z, b.ints([units] * parts, "split")], outputs=parts, axis=1)


def _lstm_step(b, layer, cell, w, r, bias, x, states):
    h, c = states
    z = b.add(b.op("MatMul", [x, w]), b.op("MatMul", [h, r]))
    if bias is not None:
        z = b.add(z, bias)
    i, f, g, o = _split(b, z, 4, cell.units)
    ra, act = cell.recurrent_activation, cell.activation
    i, f, o = (activation(b, ra, t, layer) for t in (i, f, o))
    c2 = b.add(b.mul(f, c), b.mul(i, activation(b, act, g, layer)))  # c = f·c + i·act(g)
    return [b.mul(o, activation(b, act, c2, layer)), c2]               # h = o·act(c)


def _gru_step(b, layer, cell, w, r, bias, x, states):
    (h,), u = states, cell.units
    ra, act = cell.recurrent_activation, cell.activation
    xw = b.op("MatMul", [x, w])
    if cell.reset_after:
        rec = b.op("MatMul", [h, r])
        if bias is not None:
            xw, rec = b.add(xw, bias[0]), b.add(rec, bias[1])
        xz, xr, xh = _split(b, xw, 3, u)
        rz, rr, rh = _split(b, rec, 3, u)
        zg = activation(b, ra, b.add(xz, rz), layer)
        rg = activation(b, ra, b.add(xr, rr), layer)
        hh = activation(b, act, b.add(xh, b.mul(rg, rh)), layer)       # act(x·W_h + r·(h·R_h))
    else:
        if bias is not None:
            xw = b.add(xw, bias)
        xz, xr, xh = _split(b, xw, 3, u)
        rz, rr = _split(b, b.op("MatMul", [h, r[0]]), 2, u)
        zg = activation(b, ra, b.add(xz, rz), layer)
        rg = activation(b, ra, b.add(xr, rr), layer)
        hh = activation(b, act, b.add(xh, b.op("MatMul", [b.mul(rg, h), r[1]])), layer)
    one_minus = b.op("Sub", [b.scalar(1.0), zg])
    return [b.add(b.mul(zg, h), b.mul(one_minus, hh))]                  # z·h + (1 - z)·h̃


def _simple_step(b, layer, cell, w, r, bias, x, states):
    z = b.add(b.op("MatMul", [x, w]), b.op("MatMul", [states[0], r]))
    if bias is not None:
        z = b.add(z, bias)
    return [activation(b, cell.activation, z, layer)]


def _weights(b, cell):
    """Kernel, recurrent kernel(s) and bias (pieces) as the step functions read them."""
    w = b.weight(cell.kernel, "kernel")
    bias = None
    if isinstance(cell, GRUCell) and not cell.reset_after:
        u = cell.units
        r = (b.weight(cell.recurrent_kernel, "recurrent_kernel_zr", lambda k: k[:, :2 * u]),
             b.weight(cell.recurrent_kernel, "recurrent_kernel_h", lambda k: k[:, 2 * u:]))
    else:
        r = b.weight(cell.recurrent_kernel, "recurrent_kernel")
    if cell.bias is not None:
        if isinstance(cell, GRUCell) and cell.reset_after:
            bias = (b.weight(cell.bias, "input_bias", lambda v: v[0]),
                    b.weight(cell.bias, "recurrent_bias", lambda v: v[1]))
        else:
            bias = b.weight(cell.bias, "bias")
    return w, r, bias


def scan_rnn(b, layer, sequences, states, mask, reverse_time):
    """`(outputs (batch, steps, units), final states)` of `layer` over `sequences`."""
    cell = layer.cell
    step = (_lstm_step if isinstance(cell, LSTMCell) else
            _gru_step if isinstance(cell, GRUCell) else _simple_step)
    n_states = 2 if isinstance(cell, LSTMCell) else 1
    x, m = sequences, mask
    if layer.go_backwards:
        x = reverse_time(b, x)
        m = None if m is None else reverse_time(b, m)
    states = list(states) or [b.zeros(sequences, cell.units) for _ in range(n_states)]
    w, r, bias = _weights(b, cell)
    features = b.shape(sequences)[-1]
    with b.subgraph():
        s_in = [b.name(f"state_{k}") for k in range(n_states)]
        x_t, m_t = b.name("x_t"), b.name("m_t")
        new = step(b, layer, cell, w, r, bias, x_t, s_in)
        if m is None:
            s_out, y = new, b.op("Identity", [new[0]])
        else:                                   # a masked step keeps the states
            keep = b.unsqueeze(m_t, [1])
            s_out = [b.op("Where", [keep, n, s]) for n, s in zip(new, s_in)]
            other = b.scalar(0.0) if layer.zero_output_for_mask else s_in[0]
            y = b.op("Where", [keep, new[0], other])
    inputs = [b.value_info(s, [None, cell.units]) for s in s_in]
    inputs.append(b.value_info(x_t, [None, features]))
    if m is not None:
        inputs.append(b.value_info(m_t, [None], b.onnx.TensorProto.BOOL))
    outputs = [b.value_info(s, [None, cell.units]) for s in s_out + [y]]
    body = b.helper.make_graph(b.body_nodes, b.name("step"), inputs, outputs)
    scanned = [x] + ([m] if m is not None else [])
    outs = b.op("Scan", states + scanned, outputs=n_states + 1, body=body,
                num_scan_inputs=len(scanned), scan_input_axes=[1] * len(scanned),
                scan_output_axes=[1])
    return outs[-1], outs[:n_states]
