"""`OpLayer`: a `kerasnp.ops` call on symbolic tensors, as one node of a functional model.

`x + y`, `x[:, 0]` or `ops.mean(x, axis=1)` on `keras.Input` tensors make an `OpLayer` that
remembers the op's registered name and its non-tensor arguments; saving stores just those (the
op is looked up in `kerasnp.ops.OPS` by name on load, never imported).

Output shapes of such calls (and of `call()`-style layers without `compute_output_shape`) are
found by running the call on zeros twice, with unknown dimensions set to two different sizes:
a dimension that changes with them is unknown (None) in the output.
"""
import numpy as np

from .. import config
from ..autodiff.tape import stop_recording, unwrap
from . import _context
from .base import Layer, register

_PROBES = (2, 3)


@register
class OpLayer(Layer):
    """Applies the op `op` (a name in `kerasnp.ops.OPS`) to its tensor arguments.

    Args:
        op: registered op name, e.g. `"add"`, `"get_item"`, `"mean"`.
        args, kwargs: the op's arguments, tensors replaced by placeholders (kept by the graph).
    """

    def __init__(self, op, **kwargs):
        super().__init__(**kwargs)
        from ..ops._dispatch import OPS
        if op not in OPS:
            valid = ", ".join(sorted(OPS))
            raise ValueError(f"OpLayer: unknown op {op!r}. Valid: {valid}. Received: op={op!r}")
        self.op = op
        self._fn = OPS[op].raw

    def call(self, *args, **kwargs):
        kwargs.pop("training", None)
        return self._fn(*args, **kwargs)

    def get_config(self):
        cfg = super().get_config()
        cfg["op"] = self.op
        return cfg


def symbolic_op_call(name, args, kwargs):
    """`ops.<name>(*args, **kwargs)` with symbolic arguments: a new OpLayer node."""
    from ..models.graph import call_symbolic
    layer = OpLayer(name, name=_op_name(name))
    return call_symbolic(layer, tuple(args), kwargs)


def _op_name(op):
    from .base import unique_name
    return unique_name(op)


def _zeros(shape, dtype, size):
    dims = tuple(size if d is None else d for d in shape)
    return np.zeros(dims, dtype=dtype or config.floatx())


def infer_call(fn, targs, tkwargs, tensors):
    """Output shape(s) and dtype(s) of `fn(*args, **kwargs)`, by running it on zeros."""
    from ..models.graph import fill
    outs = []
    for size in _PROBES:
        vals = [_zeros(t.shape, _float_or(t.dtype), size) for t in tensors]
        with stop_recording(), _context.isolated(), np.errstate(all="ignore"):
            y = fn(*fill(targs, vals), training=False, **fill(tkwargs, vals))
        outs.append(y)
    return _merge(outs[0], outs[1])


def _float_or(dtype):
    return dtype if dtype is not None else None


def _merge(a, b):
    if isinstance(a, (list, tuple)):
        pairs = [_merge(x, y) for x, y in zip(a, b)]
        return [p[0] for p in pairs], [p[1] for p in pairs]
    a, b = np.asarray(unwrap(a)), np.asarray(unwrap(b))
    shape = tuple(None if (i < b.ndim and da != b.shape[i]) else int(da)
                  for i, da in enumerate(a.shape))
    return shape, a.dtype.name


def infer_output_shape(layer, input_shape):
    """Output shape of `layer` for `input_shape` (batch axis None), by running it on zeros."""
    from ..models.graph import KerasTensor, _Ref
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    tensors = [KerasTensor(s, layer, []) for s in shapes]
    arg = [_Ref(k) for k in range(len(shapes))] if isinstance(input_shape, list) else _Ref(0)
    shape, _ = infer_call(lambda *a, **k: layer(*a, **k), (arg,), {}, tensors)
    return shape
