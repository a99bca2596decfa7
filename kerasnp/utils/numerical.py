"""Array helpers with Keras's semantics: one-hot encoding and Lp normalisation."""
import numpy as np

from .. import _validate
from .. import config


def to_categorical(x, num_classes=None):
    """Convert integer class labels to a one-hot (binary class) matrix.

    Args:
        x: array-like of integer labels in `[0, num_classes)`, shape `(n,)`, `(n, 1)` or any
            `(..., 1)` / `(...)` shape. Floats are accepted when they hold whole numbers.
        num_classes: positive int, or None to use `max(x) + 1`.

    Returns:
        float32 array of shape `x.shape + (num_classes,)`, with a trailing axis of size 1 in `x`
        dropped first (so `(n, 1)` labels give `(n, num_classes)`).

    Raises:
        ValueError: for negative, non-integer or too-large labels (naming the first offender).

    Example:
        >>> to_categorical([0, 2, 1], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    a = np.asarray(x)
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer)
                                or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"to_categorical expected integer class labels, received an array of "
                         f"dtype {a.dtype}. Received: x={_short(a)}")
    shape = a.shape[:-1] if a.ndim > 1 and a.shape[-1] == 1 else a.shape
    flat = a.reshape(-1)
    if np.issubdtype(flat.dtype, np.floating):
        bad = ~np.isfinite(flat)
        bad[~bad] = flat[~bad] != np.floor(flat[~bad])
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"to_categorical expected integer class labels, received the "
                             f"non-integer label {_item(flat[i])} at flat index {i}. "
                             f"Received: x={_short(a)}")
    if num_classes is not None:
        num_classes = _validate.positive_int(num_classes, "num_classes", "to_categorical")
    if flat.size:
        lo, hi = flat.min(), flat.max()
        if lo < 0:
            i = int(np.argmax(flat < 0))
            raise ValueError(f"to_categorical expected non-negative class labels, received the "
                             f"label {_item(flat[i])} at flat index {i}. Received: x={_short(a)}")
        if num_classes is None:
            num_classes = int(hi) + 1
        elif hi >= num_classes:
            i = int(np.argmax(flat >= num_classes))
            raise ValueError(f"to_categorical expected class labels in [0, {num_classes}), "
                             f"received the label {_item(flat[i])} at flat index {i}. "
                             f"Received: num_classes={num_classes}")
    elif num_classes is None:
        raise ValueError("to_categorical cannot infer num_classes from empty labels; pass "
                         "num_classes. Received: x=[], num_classes=None")
    out = np.zeros((flat.size, num_classes), dtype=np.float32)
    out[np.arange(flat.size), flat.astype(np.intp)] = 1.0
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Divide `x` by its `order`-norm along `axis` (zero-norm slices are left unchanged).

    Args:
        x: array-like. Float inputs keep their dtype; other inputs become `floatx()`.
        axis: int, the axis along which to normalise.
        order: norm order as in `np.linalg.norm` (2 for L2, 1 for L1, `np.inf` for max).

    Returns:
        A normalised copy of `x`, same shape.

    Example:
        >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
        array([[0.6, 0.8],
               [0. , 0. ]])
    """
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(config.floatx())
    if a.ndim == 0:
        raise ValueError(f"normalize expected an array with at least one axis, received a scalar. "
                         f"Received: x={x!r}")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -a.ndim <= axis < a.ndim:
        raise ValueError(f"normalize expected `axis` to be an int in [{-a.ndim}, {a.ndim}) for "
                         f"an input of shape {a.shape}. Received: axis={axis!r}")
    norm = np.linalg.norm(a, ord=order, axis=int(axis), keepdims=True)
    norm[norm == 0] = 1
    return a / norm


def _item(v):
    return v.item() if hasattr(v, "item") else v


def _short(a):
    s = np.array2string(np.asarray(a), threshold=8, edgeitems=3)
    return s if len(s) <= 80 else s[:77] + "..."
