"""`model.summary()`: Keras 3's table, with thousands separators and parameter sizes.

Columns: `Layer (type)`, `Output Shape`, `Param #`, then `Connected to` for functional models (the
inbound layers as `name[node][tensor]`, one per line, and the InputLayer rows, as Keras prints
them), `Trainable` with `show_trainable=True` and, beyond Keras, `FLOPs` with `show_flops=True`.

FLOPs are counted as multiply-adds per sample in inference, the usual convention for papers and
model zoos (one multiply-add = one "FLOP"; bias additions and activations are not counted):

- Dense: `in * units` per output position (`(None, t, in)` inputs count `t` positions);
- Conv1D/Conv2D: `kh * kw * (cin / groups) * filters` per output position, i.e. the kernel size
  times `oh * ow`; DepthwiseConv2D: `kh * kw * cin * depth_multiplier * oh * ow`;
  SeparableConv2D: depthwise plus pointwise (`cin * depth_multiplier * filters * oh * ow`);
  Conv2DTranspose: `kh * kw * cin * filters` per *input* position (each input pixel is scattered);
- BatchNormalization: 2 per element (normalise `(x - mean) / std`, then `gamma * x + beta`);
- LayerNormalization: 4 per element (mean, variance, normalise, `gamma * x + beta`);
- every other layer: 0 (shown as `-`); a nested model: the sum over its layers.
"""
import math

from ..layers.base import shape_str


def readable_size(nbytes):
    """`215.04 KB` style sizes (1 KB = 1024 B), as Keras prints them."""
    size = float(nbytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024


def _count(variables):
    return sum(v.value.size for v in variables), sum(v.value.nbytes for v in variables)


# -- FLOPs ---------------------------------------------------------------------------------------
# class name -> f(layer, input shapes, output shape) -> multiply-adds per sample. Shapes carry the
# batch axis first; a None in a needed axis makes the count unknown (None).
FLOPS = {}


def _flops(*names):
    def deco(fn):
        for name in names:
            FLOPS[name] = fn
        return fn
    return deco


def _positions(shape):
    """Product of the axes between batch and channels (output positions of one sample)."""
    dims = tuple(shape[1:-1])
    return None if any(d is None for d in dims) else math.prod(dims)


def _elements(shape):
    dims = tuple(shape[1:])
    return None if any(d is None for d in dims) else math.prod(dims)


def _times(a, b):
    return None if a is None or b is None else a * b


@_flops("Dense", "Conv1D", "Conv2D")
def _kernel_per_output(layer, in_shapes, out_shape):
    # The kernel holds exactly the multiply-adds of one output position: in*units for Dense,
    # kh*kw*(cin/groups)*filters for a convolution.
    return _times(layer.kernel.value.size, _positions(out_shape))


@_flops("DepthwiseConv2D")
def _depthwise(layer, in_shapes, out_shape):
    return _times(layer.depthwise_kernel.value.size, _positions(out_shape))


@_flops("SeparableConv2D")
def _separable(layer, in_shapes, out_shape):
    per_position = layer.depthwise_kernel.value.size + layer.pointwise_kernel.value.size
    return _times(per_position, _positions(out_shape))


@_flops("Conv2DTranspose")
def _transpose(layer, in_shapes, out_shape):
    return _times(layer.kernel.value.size, _positions(in_shapes[0]))


@_flops("BatchNormalization")
def _batch_norm(layer, in_shapes, out_shape):
    return _times(2, _elements(out_shape))


@_flops("LayerNormalization")
def _layer_norm(layer, in_shapes, out_shape):
    return _times(4, _elements(out_shape))


def layer_flops(layer, in_shapes, out_shape):
    """Multiply-adds per sample of one call of `layer` (0 when not counted, None if unknown)."""
    if getattr(layer, "_nodes", None):
        return _model_flops(layer)
    for cls in type(layer).__mro__:
        fn = FLOPS.get(cls.__name__)
        if fn is not None:
            return fn(layer, in_shapes, out_shape)
    return 0


def _model_flops(model):
    total = 0
    for node in model._nodes:
        if node.inputs:
            f = layer_flops(node.layer, [model._nodes[j].shape for j in node.inputs], node.shape)
            total = None if total is None or f is None else total + f
    return total


def _fmt_flops(f):
    return "?" if f is None else (f"{f:,}" if f else "-")


# -- rows ----------------------------------------------------------------------------------------
def _layer_rows(model, level, opts):
    """One row per layer of `model` (cells are lists of lines), nested models expanded."""
    nodes = model._nodes
    sequential = type(model).__name__ == "Sequential"
    calls, order = {}, []              # layer id -> its node ids, in call order
    for i, node in enumerate(nodes):
        if id(node.layer) not in calls:
            calls[id(node.layer)] = []
            order.append(node.layer)
        calls[id(node.layer)].append(i)
    call_index = {i: k for ids in calls.values() for k, i in enumerate(ids)}
    rows = []
    for layer in order:
        if sequential and type(layer).__name__ == "InputLayer":
            continue
        ids = calls[id(layer)]
        shapes = {shape_str(nodes[i].shape) for i in ids}
        shape = shapes.pop() if len(shapes) == 1 else "multiple"
        row = ["│ " * level + f"{layer.name} ({type(layer).__name__})", shape,
               f"{sum(v.value.size for v in layer.weights):,}"]
        if opts["functional"]:
            row.append(_connections(model, ids, call_index) if not sequential else "")
        if opts["show_trainable"]:       # Keras: "-" for a layer without weights
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        if opts["show_flops"]:
            flops = [layer_flops(layer, [nodes[j].shape for j in nodes[i].inputs], nodes[i].shape)
                     for i in ids if nodes[i].inputs]
            row.append(_fmt_flops(None if None in flops else sum(flops)))
        rows.append([cell.split("\n") for cell in row])
        if opts["expand_nested"] and getattr(layer, "_nodes", None):
            rows.extend(_layer_rows(layer, level + 1, opts))
    return rows


def _connections(model, ids, call_index):
    """`dense[0][0],` / `dense_1[0][0]`: inbound layer, its call index, tensor index."""
    nodes = model._nodes
    refs = [f"{nodes[j].layer.name}[{call_index[j]}][{k or 0}]"
            for i in ids for j, k in zip(nodes[i].inputs, nodes[i].indices)]
    return ",\n".join(refs) if refs else "-"


def summary_lines(model, line_length=None, show_trainable=False, expand_nested=False,
                  show_flops=False):
    """The summary as a list of text lines (see `print_summary`)."""
    functional = type(model).__name__ != "Sequential"
    columns = [("Layer (type)", 29, False), ("Output Shape", 22, False), ("Param #", 11, True)]
    if functional:
        columns.append(("Connected to", 20, False))
    if show_trainable:
        columns.append(("Trainable", 9, False))
    if show_flops:
        columns.append(("FLOPs", 11, True))
    built = model.built and bool(getattr(model, "_nodes", None))
    opts = dict(functional=functional, show_trainable=show_trainable,
                expand_nested=expand_nested, show_flops=show_flops)
    if built:
        rows = _layer_rows(model, 0, opts)
    else:
        rows = []
        for layer in model.layers:
            row = [f"{layer.name} ({type(layer).__name__})", "?", "0 (unbuilt)"]
            row += [""] * functional + ["Y" if layer.trainable else "N"] * show_trainable
            row += ["?"] * show_flops
            rows.append([[cell] for cell in row])
    header = [[name] for name, _, _ in columns]
    widths = [max(minimum, len(name), *(len(t) for r in rows for t in r[i]))
              for i, (name, minimum, _) in enumerate(columns)]
    if line_length:
        extra = line_length - (sum(widths) + 3 * len(widths) + 1)
        if extra > 0:
            widths[0] += extra
    right = [r for _, _, r in columns]

    def line(cells, v):
        height = max(len(c) for c in cells)
        out = []
        for k in range(height):
            parts = []
            for cell, w, r in zip(cells, widths, right):
                text = cell[k] if k < len(cell) else ""
                parts.append(f" {text:>{w}} " if r else f" {text:<{w}} ")
            out.append(v + v.join(parts) + v)
        return out

    def rule(l, m, r, h):
        return l + m.join(h * (w + 2) for w in widths) + r

    out = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"), *line(header, "┃"),
           rule("┡", "╇", "┩", "━")]
    for k, row in enumerate(rows):
        out.extend(line(row, "│"))
        if k < len(rows) - 1:
            out.append(rule("├", "┼", "┤", "─"))
    out.append(rule("└", "┴", "┘", "─"))
    trainable = model.trainable_weights if built else []
    non_trainable = model.non_trainable_weights if built else []
    t_n, t_b = _count(trainable)
    n_n, n_b = _count(non_trainable)
    out.append(f" Total params: {t_n + n_n:,} ({readable_size(t_b + n_b)})")
    out.append(f" Trainable params: {t_n:,} ({readable_size(t_b)})")
    out.append(f" Non-trainable params: {n_n:,} ({readable_size(n_b)})")
    opt = getattr(model, "optimizer", None)
    slots = getattr(opt, "_slots", None)
    if built and opt is not None and slots:
        arrays = [a for var in trainable for a in opt.get_slots(var).values()]
        if arrays:
            o_n = sum(a.size for a in arrays)
            o_b = sum(a.nbytes for a in arrays)
            out.append(f" Optimizer params: {o_n:,} ({readable_size(o_b)})")
    if show_flops:
        total = _model_flops(model) if built else None
        out.append(f" Total FLOPs: {'?' if total is None else f'{total:,}'}")
    return out


def print_summary(model, line_length=None, print_fn=None, show_trainable=False,
                  expand_nested=False, show_flops=False):
    """Print the summary (or call `print_fn(line)` once per line).

    Args:
        model: a built or unbuilt `Model` / `Sequential`.
        line_length: total width; extra room goes to the first column.
        print_fn: called with each line (default `print`).
        show_trainable: add a `Trainable` column (`Y`/`N`).
        expand_nested: list the layers of nested models under their model's row, indented.
        show_flops: add a `FLOPs` column (multiply-adds per sample, see the module docstring)
            and a `Total FLOPs` line.
    """
    lines = summary_lines(model, line_length=line_length, show_trainable=show_trainable,
                          expand_nested=expand_nested, show_flops=show_flops)
    fn = print_fn or print
    for text in lines:
        fn(text)
