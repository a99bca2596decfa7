"""ONNX forms of kerasnp's activation functions, and the converter of the activation layers
(`Activation`, `ReLU`, `LeakyReLU`, `ELU`, `Softmax`, `PReLU`).

`activation(b, fn, x)` writes `fn(x)` with the parameters the activation object carries
(`relu` with `max_value`, `softmax` over a tuple of axes, ...). Where ONNX has no op of its own,
or its op came in a newer opset than the one targeted (Gelu, Mish), the formula is written out
with elementary ops.
"""
import math

from ..activations import UserActivation
from ..activations.relu_family import _SELU_ALPHA, _SELU_SCALE
from ..layers.activation import PReLU, _FnLayer
from .onnx_registry import ExportError, converts


def _relu(b, fn, x):
    s, m, t = fn.negative_slope, fn.max_value, fn.threshold
    if t == 0:
        y = b.op("Relu", [x])
    else:                                               # x·[x > t]
        above = b.op("Cast", [b.op("Greater", [x, b.scalar(t)])], to=b.elem_type)
        y = b.mul(x, above)
    if m is not None:
        y = b.op("Clip", [y, b.scalar(0.0), b.scalar(m)])
    if s != 0:                                          # - s·max(t - x, 0)
        below = b.op("Relu", [b.op("Sub", [b.scalar(t), x])])
        y = b.op("Sub", [y, b.mul(below, b.scalar(s))])
    return y


def _gelu(b, fn, x):
    if fn.approximate:          # 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))
        cube = b.mul(b.mul(x, x), x)
        inner = b.add(x, b.mul(cube, b.scalar(0.044715)))
        t = b.op("Tanh", [b.mul(inner, b.scalar(math.sqrt(2.0 / math.pi)))])
    else:                       # 0.5·x·(1 + erf(x/√2))
        t = b.op("Erf", [b.mul(x, b.scalar(math.sqrt(0.5)))])
    return b.mul(b.mul(x, b.scalar(0.5)), b.add(t, b.scalar(1.0)))


def _axis_softmax(b, x, axis, log):
    if isinstance(axis, int):
        return b.op("LogSoftmax" if log else "Softmax", [x], axis=axis)
    z = b.op("Sub", [x, b.reduce("ReduceMax", x, axis)])        # shift: exp cannot overflow
    e = b.op("Exp", [z])
    total = b.reduce("ReduceSum", e, axis)
    if log:
        return b.op("Sub", [z, b.op("Log", [total])])
    return b.op("Div", [e, total])


def _squareplus(b, fn, x):      # (x + sqrt(x² + b)) / 2
    root = b.op("Sqrt", [b.add(b.mul(x, x), b.scalar(fn.b))])
    return b.mul(b.add(x, root), b.scalar(0.5))


_FORMS = {
    "linear": lambda b, fn, x: x,
    "relu": _relu,
    "relu6": lambda b, fn, x: b.op("Clip", [x, b.scalar(0.0), b.scalar(6.0)]),
    "leaky_relu": lambda b, fn, x: b.op("LeakyRelu", [x], alpha=float(fn.negative_slope)),
    "elu": lambda b, fn, x: b.op("Elu", [x], alpha=float(fn.alpha)),
    "selu": lambda b, fn, x: b.op("Selu", [x], alpha=_SELU_ALPHA, gamma=_SELU_SCALE),
    "celu": lambda b, fn, x: b.op("Celu", [x], alpha=float(fn.alpha)),
    "gelu": _gelu,
    "sigmoid": lambda b, fn, x: b.op("Sigmoid", [x]),
    "hard_sigmoid": lambda b, fn, x: b.op("HardSigmoid", [x], alpha=1 / 6, beta=0.5),
    "hard_silu": lambda b, fn, x: b.op("HardSwish", [x]),
    "tanh": lambda b, fn, x: b.op("Tanh", [x]),
    "hard_tanh": lambda b, fn, x: b.op("Clip", [x, b.scalar(-1.0), b.scalar(1.0)]),
    "tanh_shrink": lambda b, fn, x: b.op("Sub", [x, b.op("Tanh", [x])]),
    "softmax": lambda b, fn, x: _axis_softmax(b, x, fn.axis, log=False),
    "log_softmax": lambda b, fn, x: _axis_softmax(b, x, fn.axis, log=True),
    "softplus": lambda b, fn, x: b.op("Softplus", [x]),
    "log_sigmoid": lambda b, fn, x: b.op("Neg", [b.op("Softplus", [b.op("Neg", [x])])]),
    "softsign": lambda b, fn, x: b.op("Softsign", [x]),
    "silu": lambda b, fn, x: b.mul(x, b.op("Sigmoid", [x])),
    "mish": lambda b, fn, x: b.mul(x, b.op("Tanh", [b.op("Softplus", [x])])),
    "exponential": lambda b, fn, x: b.op("Exp", [x]),
    "squareplus": _squareplus,
    "soft_shrink": lambda b, fn, x: b.op("Shrink", [x], lambd=float(fn.threshold),
                                         bias=float(fn.threshold)),
    "hard_shrink": lambda b, fn, x: b.op("Shrink", [x], lambd=float(fn.threshold), bias=0.0),
}


def activation(b, fn, x, owner=None):
    """The ONNX tensor of `fn(x)` for a kerasnp activation function `fn`."""
    form = None if isinstance(fn, UserActivation) else _FORMS.get(getattr(fn, "name", None))
    if form is None:
        where = f"Layer '{owner.name}' ({type(owner).__name__}) " if owner is not None else ""
        raise ExportError(
            f"{where}cannot be exported to ONNX: its activation "
            f"{getattr(fn, 'name', fn)!r} is a user function (kerasnp cannot see inside it). "
            f"Activations that export: {', '.join(sorted(_FORMS))}.")
    return form(b, fn, x)


def names():
    """The activation names that export."""
    return sorted(_FORMS)


@converts(_FnLayer)
def _fn_layer(b, layer, inputs):
    return activation(b, layer.activation, inputs, layer)


@converts(PReLU)
def _prelu(b, layer, inputs):
    # kerasnp's alpha has the input's shape without the batch axis (1 on shared axes), which
    # broadcasts against (batch, ...) from the right, as ONNX's PRelu slope must.
    return b.op("PRelu", [inputs, b.weight(layer.alpha, "alpha")])
