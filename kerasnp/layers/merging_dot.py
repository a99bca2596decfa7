"""The Dot merging layer: sample-wise dot products along chosen axes (Keras's batch_dot), with
optional L2 normalisation of both inputs first (cosine similarity)."""
import numpy as np

from .. import _validate, config
from ..autodiff.tape import is_tracked, record
from ..ops._dispatch import value
from .base import register, shape_str
from .merging import _Merge, _int_arg


def _l2_normalize(x, axis):
    """`x / max(‖x‖, ε)` along `axis`; also returns what the backward pass needs."""
    norm = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    clipped = np.maximum(norm, x.dtype.type(config.epsilon()))
    return x / clipped, (norm, clipped)


def _l2_normalize_backward(du, u, axis, saved):
    norm, clipped = saved                            # dx = (du - u·(u·du)) / ‖x‖, or du / ε
    proj = np.sum(du * u, axis=axis, keepdims=True)
    proj *= norm > clipped.dtype.type(config.epsilon())
    return (du - u * proj) / clipped


@register
class Dot(_Merge):
    """Dot product of two inputs, sample by sample, along `axes` (batch_dot).

    The output holds the first input's remaining axes followed by the second's; when nothing
    remains it is `(batch, 1)`.

    Args:
        axes: int (the same axis of both inputs) or a tuple of two ints (one per input);
            negative values count from the end; the batch axis 0 cannot be used.
        normalize: L2-normalise both inputs along their dot axes first, so the output is the
            cosine similarity of the two samples.

    Input shape: two tensors whose dot axes have the same size, e.g. `(batch, d)` and
        `(batch, d)`, or `(batch, n, d)` and `(batch, m, d)`.
    Output shape: `(batch, 1)` for two `(batch, d)`; `(batch, n, m)` for `(batch, n, d)` and
        `(batch, m, d)` with `axes=2`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Dot(axes=(1, 2))([np.ones((1, 5, 2)), np.ones((1, 2, 5))]).shape
        (1, 2, 2)
    """

    max_inputs = 2

    supports_masking = False   # Keras's Dot ends the mask (its compute_mask gives None)

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"{_validate.describe(self)}: axes must be an int or a tuple of "
                                 f"2 ints (one per input). Received: axes={axes!r}")
            axes = tuple(_int_arg(a, "axes", self) for a in axes)
        else:
            axes = _int_arg(axes, "axes", self)
        if 0 in ((axes,) if isinstance(axes, int) else axes):
            raise ValueError(f"{_validate.describe(self)}: axes cannot include the batch axis 0. "
                             f"Received: axes={axes!r}")
        self.axes = axes
        self.normalize = _validate.boolean(normalize, "normalize", self)

    def _resolve(self, shapes):
        """The two dot axes as non-negative ints, checked against the input ranks."""
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        out = []
        for k, (axis, shape) in enumerate(zip(axes, shapes)):
            ndim = len(shape)
            if not -ndim < axis < ndim or axis % ndim == 0:
                raise ValueError(
                    f"{_validate.describe(self)}: axis {axis} of input {k} (shape "
                    f"{shape_str(shape)}) must be a non-batch axis in 1..{ndim - 1} or "
                    f"-{ndim - 1}..-1. Received: axes={self.axes!r}")
            out.append(axis % ndim)
        return out

    def build(self, input_shape):
        self._check_inputs(input_shape)
        (a, b), (ia, ib) = input_shape, self._resolve(input_shape)
        if a[ia] is not None and b[ib] is not None and a[ia] != b[ib]:
            raise ValueError(
                f"{_validate.describe(self)} needs dot axes of the same size; got axis {ia} of "
                f"{shape_str(a)} and axis {ib} of {shape_str(b)}{self._pair(1)}. "
                f"Received: axes={self.axes!r}, input_shape={shape_str(input_shape)}")

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        (a, b), (ia, ib) = input_shape, self._resolve(input_shape)
        rest = tuple(a[1:ia] + a[ia + 1:]) + tuple(b[1:ib] + b[ib + 1:])
        return (a[0],) + (rest or (1,))

    def call(self, inputs):
        a, b = inputs
        ia, ib = self._resolve([np.shape(value(a)), np.shape(value(b))])
        return _batch_dot(a, b, ia, ib, self.normalize)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axes=self.axes if isinstance(self.axes, int) else list(self.axes),
                   normalize=self.normalize)
        return cfg


def _batch_dot(x1, x2, ia, ib, normalize):
    """Sample-wise dot product of `x1` and `x2` along axes `ia` and `ib`, as one node."""
    a, b = value(x1), value(x2)
    need_a, need_b = is_tracked(x1), is_tracked(x2)
    if normalize:
        a, sa = _l2_normalize(a, ia)
        b, sb = _l2_normalize(b, ib)
    n, k = a.shape[0], a.shape[ia]
    if a.ndim == 2 and b.ndim == 2:
        y = np.einsum("nk,nk->n", a, b)[:, None]              # y = Σₖ aₖ bₖ

        def grads(dy):
            return (dy * b if need_a else None), (dy * a if need_b else None)  # ∂y/∂a = b
    else:
        a3 = np.moveaxis(a, ia, -1)                  # (n, ..., k)
        b3 = np.moveaxis(b, ib, 1)                   # (n, k, ...)
        ra, rb = a3.shape[1:-1], b3.shape[2:]
        a3, b3 = a3.reshape(n, -1, k), b3.reshape(n, k, -1)
        y = (a3 @ b3).reshape((n,) + ((ra + rb) or (1,)))      # batched (p, k)·(k, q)

        def grads(dy):
            dy3 = dy.reshape(n, a3.shape[1], b3.shape[2])
            da = db = None
            if need_a:                               # dA = dY·Bᵀ
                da = (dy3 @ b3.transpose(0, 2, 1)).reshape((n,) + ra + (k,))
                da = np.moveaxis(da, -1, ia)
            if need_b:                               # dB = Aᵀ·dY
                db = (a3.transpose(0, 2, 1) @ dy3).reshape((n, k) + rb)
                db = np.moveaxis(db, 1, ib)
            return da, db

    def vjp(dy):
        da, db = grads(dy)
        if normalize:
            da = None if da is None else _l2_normalize_backward(da, a, ia, sa)
            db = None if db is None else _l2_normalize_backward(db, b, ib, sb)
        return da, db
    return record(y, vjp, x1, x2)
