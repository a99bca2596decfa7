"""ONNX converters of `kerasnp.ops` calls on symbolic tensors (`OpLayer` nodes: `x + y`,
`x[:, 0]`, `ops.mean(x, axis=1)` in a functional model or a traced subclassed `call`).

The op's arguments are bound to its signature; tensors arrive as `TensorName`s, anything else
(Python numbers, arrays, variables) becomes a constant in the model's float dtype.
"""
import inspect

import numpy as np

from .. import activations
from ..layers.op_layer import OpLayer
from ..ops._dispatch import OPS
from .onnx_activations import activation
from .onnx_builder import TensorName
from .onnx_registry import converts, unsupported

_BINARY = {"add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div",
           "true_divide": "Div", "power": "Pow", "maximum": "Max", "minimum": "Min",
           "matmul": "MatMul", "equal": "Equal", "greater": "Greater",
           "greater_equal": "GreaterOrEqual", "less": "Less", "less_equal": "LessOrEqual",
           "logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}
_UNARY = {"negative": "Neg", "abs": "Abs", "absolute": "Abs", "exp": "Exp", "log": "Log",
          "sqrt": "Sqrt", "tanh": "Tanh", "erf": "Erf", "sin": "Sin", "cos": "Cos",
          "tan": "Tan", "floor": "Floor", "ceil": "Ceil", "sign": "Sign", "round": "Round",
          "reciprocal": "Reciprocal", "logical_not": "Not", "stop_gradient": "Identity"}
_ACTIVATIONS = ("relu", "relu6", "sigmoid", "softmax", "log_softmax", "gelu", "silu", "swish",
                "elu", "selu", "leaky_relu", "softplus", "softsign", "hard_sigmoid",
                "hard_silu", "hard_swish", "log_sigmoid")
_REDUCE = {"sum": "ReduceSum", "mean": "ReduceMean", "max": "ReduceMax", "amax": "ReduceMax",
           "min": "ReduceMin", "amin": "ReduceMin", "prod": "ReduceProd",
           "logsumexp": "ReduceLogSumExp"}
_END = np.iinfo(np.int64).max


def operand(b, v):
    """A tensor's name as it is; a number, array or variable as a constant."""
    if isinstance(v, TensorName):
        return v
    if hasattr(v, "value") and not isinstance(v, np.ndarray):
        return b.weight(v, "variable")
    arr = np.asarray(v)
    return b.const(arr, "bool" if arr.dtype == bool else "const",
                   np.bool_ if arr.dtype == bool else b.dtype)


def _axes(b, x, axis):
    rank = b.rank(x)
    items = range(rank) if axis is None else (axis if isinstance(axis, (list, tuple))
                                              else [axis])
    return [int(a) % rank for a in items]


def _get_item(b, x, key):
    items = list(key) if isinstance(key, tuple) else [key]
    if any(isinstance(k, (TensorName, list, np.ndarray)) for k in items):
        return None                                           # advanced indexing
    rank = b.rank(x)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        fill = rank - sum(1 for k in items if k is not None and k is not Ellipsis)
        items[at:at + 1] = [slice(None)] * fill
    starts, ends, axes, steps, drop, new = [], [], [], [], [], []
    axis = out = 0
    for k in items:
        if k is None:
            new.append(out)
            out += 1
            continue
        if isinstance(k, slice):
            step = 1 if k.step is None else int(k.step)
            if (k.start, k.stop, step) != (None, None, 1):
                starts.append(k.start if k.start is not None else (0 if step > 0 else -1))
                ends.append(k.stop if k.stop is not None else (_END if step > 0 else -_END - 1))
                axes.append(axis)
                steps.append(step)
            out += 1
        else:
            i = int(k)
            starts.append(i)
            ends.append(i + 1 if i != -1 else _END)
            axes.append(axis)
            steps.append(1)
            drop.append(axis)
        axis += 1
    y = b.slice(x, starts, ends, axes, steps) if axes else x
    if drop:
        y = b.squeeze(y, drop)
    return b.unsqueeze(y, new) if new else y


def _convert(b, name, a):
    """The output of op `name` with bound arguments `a`, or None when it has no converter."""
    if name in _BINARY:
        return b.op(_BINARY[name], [operand(b, a["x1"]), operand(b, a["x2"])])
    if name == "not_equal":
        return b.op("Not", [b.op("Equal", [operand(b, a["x1"]), operand(b, a["x2"])])])
    if name == "floor_divide":
        return b.op("Floor", [b.op("Div", [operand(b, a["x1"]), operand(b, a["x2"])])])
    if name in _UNARY:
        return b.op(_UNARY[name], [operand(b, a.get("x", a.get("variable")))])
    if name in _ACTIVATIONS:
        params = {k: v for k, v in a.items() if k != "x"}
        return activation(b, activations.get(name).with_params(**params), a["x"])
    x = a.get("x")
    if name in ("square", "rsqrt", "log1p", "expm1"):
        return {"square": lambda: b.mul(x, x),
                "rsqrt": lambda: b.op("Reciprocal", [b.op("Sqrt", [x])]),
                "log1p": lambda: b.op("Log", [b.add(x, b.scalar(1.0))]),
                "expm1": lambda: b.op("Sub", [b.op("Exp", [x]), b.scalar(1.0)])}[name]()
    if name in _REDUCE and a.get("initial") is None and a.get("dtype") is None:
        return b.reduce(_REDUCE[name], x, _axes(b, x, a["axis"]), a["keepdims"])
    if name in ("var", "std"):
        axes = _axes(b, x, a["axis"])
        xc = b.op("Sub", [x, b.reduce("ReduceMean", x, axes)])
        var = b.reduce("ReduceMean", b.mul(xc, xc), axes, a["keepdims"])
        return var if name == "var" else b.op("Sqrt", [var])
    if name == "reshape":
        return b.reshape(x, [-1 if d is None else int(d) for d in a["newshape"]])
    if name == "transpose":
        perm = a["axes"] if a["axes"] is not None else range(b.rank(x) - 1, -1, -1)
        return b.transpose(x, perm)
    if name in ("swapaxes", "moveaxis"):
        perm = list(range(b.rank(x)))
        if name == "swapaxes":
            i, j = a["axis1"] % len(perm), a["axis2"] % len(perm)
            perm[i], perm[j] = perm[j], perm[i]
        else:
            perm = list(np.moveaxis(np.arange(len(perm)), a["source"], a["destination"]))
        return b.transpose(x, perm)
    if name == "expand_dims":
        return b.unsqueeze(x, a["axis"] if isinstance(a["axis"], (list, tuple)) else [a["axis"]])
    if name == "squeeze":
        shape = b.shape(x)
        axes = _axes(b, x, a["axis"]) if a["axis"] is not None else \
            [i for i, d in enumerate(shape) if d == 1]
        return b.squeeze(x, axes)
    if name in ("concatenate", "stack"):
        xs = [operand(b, t) for t in (a["xs"] if name == "concatenate" else a["x"])]
        if name == "stack":
            xs = [b.unsqueeze(t, [a["axis"]]) for t in xs]
        return b.op("Concat", xs, axis=int(a["axis"]))
    if name == "get_item":
        return _get_item(b, x, a["key"])
    if name == "flip":
        axes = _axes(b, x, a["axis"])
        return b.slice(x, [-1] * len(axes), [-_END - 1] * len(axes), axes, [-1] * len(axes))
    if name == "tile":
        reps = list(np.atleast_1d(a["repeats"]).astype(int))
        reps = [1] * (b.rank(x) - len(reps)) + reps
        return b.op("Tile", [x, b.ints(reps, "repeats")])
    if name == "clip":
        return b.op("Clip", [x, operand(b, a["x_min"]), operand(b, a["x_max"])])
    if name == "where" and a["x1"] is not None and a["x2"] is not None:
        cond = b.op("Cast", [operand(b, a["condition"])], to=b.onnx.TensorProto.BOOL)
        return b.op("Where", [cond, operand(b, a["x1"]), operand(b, a["x2"])])
    if name == "cast":
        to = b.helper.np_dtype_to_tensor_dtype(np.dtype(a["dtype"]))
        return b.op("Cast", [x], to=to)
    if name == "einsum":
        return b.op("Einsum", [operand(b, t) for t in a["operands"]],
                    equation=a["subscripts"].replace(" ", ""))
    if name == "pad" and a["mode"] == "constant":
        width = np.broadcast_to(np.asarray(a["pad_width"], dtype=np.int64), (b.rank(x), 2))
        value = b.scalar(a["constant_values"] or 0.0)
        return b.op("Pad", [x, b.ints(list(width[:, 0]) + list(width[:, 1]), "pads"), value])
    return None


@converts(OpLayer)
def _op_layer(b, layer, *args, **kwargs):
    name = layer.op
    try:
        bound = inspect.signature(OPS[name].raw).bind(*args, **kwargs)
    except TypeError as err:
        unsupported(layer, f"its arguments do not fit ops.{name}: {err}")
    bound.apply_defaults()
    a = dict(bound.arguments)
    for k, p in inspect.signature(OPS[name].raw).parameters.items():
        if p.kind is p.VAR_POSITIONAL:
            a[k] = list(a[k])
    y = _convert(b, name, a)
    if y is None:
        unsupported(layer, f"kerasnp has no ONNX form for ops.{name} called this way. Ops that "
                    f"export: {', '.join(supported_ops())}.")
    return y


def supported_ops():
    return sorted(set(_BINARY) | set(_UNARY) | set(_ACTIVATIONS) | set(_REDUCE) | {
        "not_equal", "floor_divide", "square", "rsqrt", "log1p", "expm1", "var", "std",
        "reshape", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze", "concatenate",
        "stack", "get_item", "flip", "tile", "clip", "where", "cast", "einsum", "pad"})
