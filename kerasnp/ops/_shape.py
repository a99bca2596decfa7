"""Shape ops (Keras 3 names) with their VJPs: each gradient undoes the rearrangement (reshape
back, inverse permutation, opposite roll, slicing for concatenate and pad, summing the copies for
tile, repeat and broadcast_to)."""
import numpy as np

from ._dispatch import op, value
from ._helpers import need, record, record_float, ub
from ._indexing import gather


def _reshaped_back(a):
    return lambda dy: np.reshape(dy, np.shape(a))


@op
def reshape(x, newshape):
    """`x` with shape `newshape` (one entry may be -1)."""
    a = value(x)
    return record_float(np.reshape(a, newshape), _reshaped_back(a), x, a)


@op
def ravel(x):
    """`x` flattened to 1-D."""
    a = value(x)
    return record_float(np.ravel(a), _reshaped_back(a), x, a)


@op
def expand_dims(x, axis):
    """`x` with new axes of size 1 at `axis` (an int or a tuple)."""
    a = value(x)
    return record_float(np.expand_dims(a, axis), _reshaped_back(a), x, a)


@op
def squeeze(x, axis=None):
    """`x` without its size-1 axes (all, or those in `axis`)."""
    a = value(x)
    return record_float(np.squeeze(a, axis=axis), _reshaped_back(a), x, a)


@op
def transpose(x, axes=None):
    """`x` with its axes permuted (reversed when `axes` is None)."""
    a = value(x)
    y = np.transpose(a, axes)
    if axes is None:
        return record_float(y, np.transpose, x, a)
    inverse = np.argsort([int(i) % np.ndim(a) for i in axes])
    return record_float(y, lambda dy: np.transpose(dy, inverse), x, a)


@op
def swapaxes(x, axis1, axis2):
    """`x` with `axis1` and `axis2` exchanged."""
    a = value(x)
    return record_float(np.swapaxes(a, axis1, axis2),
                        lambda dy: np.swapaxes(dy, axis1, axis2), x, a)


@op
def moveaxis(x, source, destination):
    """`x` with the axes `source` moved to `destination` (ints or sequences)."""
    a = value(x)
    return record_float(np.moveaxis(a, source, destination),
                        lambda dy: np.moveaxis(dy, destination, source), x, a)


@op
def flip(x, axis=None):
    """`x` reversed along `axis` (None: all axes)."""
    a = value(x)
    return record_float(np.flip(a, axis=axis), lambda dy: np.flip(dy, axis=axis), x, a)


@op
def roll(x, shift, axis=None):
    """`x` rolled by `shift` along `axis` (None: over the flattened input, shape kept)."""
    a = value(x)
    return record_float(np.roll(a, shift, axis=axis),
                        lambda dy: np.roll(dy, np.negative(shift), axis=axis), x, a)


@op
def broadcast_to(x, shape):
    """`x` broadcast to `shape` (a read-only view, as NumPy)."""
    a = value(x)
    return record_float(np.broadcast_to(a, shape), lambda dy: ub(dy, a), x, a)


@op
def tile(x, repeats):
    """`x` repeated `repeats` times along each axis, as whole blocks."""
    a = np.asarray(value(x))
    reps = (int(repeats),) if np.ndim(repeats) == 0 else tuple(int(r) for r in repeats)
    y = np.tile(a, reps)
    d = max(len(reps), a.ndim)
    shape = (1,) * (d - a.ndim) + a.shape
    reps = (1,) * (d - len(reps)) + reps

    def vjp(dy):            # each output axis is (repeat, original): sum over the repeats
        g = np.reshape(dy, tuple(v for r, s in zip(reps, shape) for v in (r, s)))
        return g.sum(axis=tuple(range(0, 2 * d, 2))).reshape(a.shape)
    return record_float(y, vjp, x, a)


@op
def repeat(x, repeats, axis=None):
    """Each element of `x` repeated `repeats` times along `axis` (None: flattened)."""
    a = np.asarray(value(x))
    r = np.asarray(value(repeats))
    y = np.repeat(a, r, axis=axis)
    src = a.ravel() if axis is None else a
    ax = 0 if axis is None else axis % a.ndim
    n = src.shape[ax]

    def vjp(dy):
        if r.size == 1:     # element-major copies: split the axis into (n, r) and sum the r
            k = int(r.reshape(-1)[0])
            shape = dy.shape[:ax] + (n, k) + dy.shape[ax + 1:]
            g = dy.reshape(shape).sum(axis=ax + 1)
        else:
            g = np.zeros(src.shape, dtype=dy.dtype)
            np.add.at(np.moveaxis(g, ax, 0), np.repeat(np.arange(n), r),
                      np.moveaxis(dy, ax, 0))
        return g.reshape(a.shape)
    return record_float(y, vjp, x, a)


@op
def concatenate(xs, axis=0):
    """The tensors `xs` joined along an existing `axis` (None: flattened first)."""
    arrays = [np.asarray(value(x)) for x in xs]
    y = np.concatenate(arrays, axis=axis)
    needs = [need(x, a) for x, a in zip(xs, arrays)]
    if not any(needs):
        return y
    flat = axis is None
    sizes = [a.size if flat else a.shape[axis] for a in arrays]
    cuts = np.cumsum(sizes)[:-1]

    def vjp(dy):
        parts = np.split(dy, cuts, axis=0 if flat else axis)
        return tuple(p.reshape(a.shape) if n else None for p, a, n in zip(parts, arrays, needs))
    return record(y, vjp, *xs)


@op
def stack(x, axis=0):
    """The same-shaped tensors `x` joined along a new `axis`."""
    arrays = [np.asarray(value(t)) for t in x]
    y = np.stack(arrays, axis=axis)
    needs = [need(t, a) for t, a in zip(x, arrays)]
    if not any(needs):
        return y

    def vjp(dy):
        parts = np.moveaxis(dy, axis, 0)
        return tuple(parts[i] if n else None for i, n in enumerate(needs))
    return record(y, vjp, *x)


@op
def split(x, indices_or_sections, axis=0):
    """`x` cut along `axis` into equal sections (an int) or at the given indices; a list."""
    a = np.asarray(value(x))
    ax = axis % a.ndim
    n = a.shape[ax]
    if np.ndim(indices_or_sections) == 0:
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"split: axis {axis} of size {n} cannot be cut into {k} equal "
                             f"sections. Received: indices_or_sections={indices_or_sections!r}")
        cuts = [n // k * i for i in range(1, k)]
    else:
        cuts = [int(i) for i in indices_or_sections]
    bounds = zip([0] + cuts, cuts + [n])
    lead = (np.s_[:],) * ax
    return [gather(x, a, lead + (np.s_[s:e],)) for s, e in bounds]


@op
def unstack(x, num=None, axis=0):
    """The slices of `x` along `axis`, as a list (`num` must match that axis if given)."""
    a = np.asarray(value(x))
    ax = axis % a.ndim
    n = a.shape[ax]
    if num is not None and int(num) != n:
        raise ValueError(f"unstack: num={num} does not match axis {axis} of size {n}. "
                         f"Received: num={num!r}")
    lead = (np.s_[:],) * ax
    return [gather(x, a, lead + (i,)) for i in range(n)]


_PAD_MODES = ("constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum",
              "reflect", "symmetric", "wrap", "empty")
_COPY_MODES = ("edge", "reflect", "symmetric", "wrap")


@op
def pad(x, pad_width, mode="constant", constant_values=None):
    """`x` padded by `pad_width` (`((before, after), ...)`, a pair or an int) in NumPy's `mode`.

    Gradients exist for `constant`/`empty` (a slice) and for the modes that copy elements
    (`edge`, `reflect`, `symmetric`, `wrap`: the copies' gradients are summed back).
    """
    a = np.asarray(value(x))
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unknown mode {mode!r}. Valid: {', '.join(_PAD_MODES)}. "
                         f"Received: mode={mode!r}")
    if constant_values is not None and mode != "constant":
        raise ValueError("pad: constant_values is only used with mode='constant'. "
                         f"Received: mode={mode!r}, constant_values={constant_values!r}")
    width = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (a.ndim, 2))
    kw = {} if constant_values is None else {"constant_values": value(constant_values)}
    y = np.pad(a, width, mode=mode, **kw)
    if mode in ("constant", "empty"):
        inner = tuple(np.s_[b:b + s] for (b, _), s in zip(width, a.shape))
        return record_float(y, lambda dy: np.array(dy[inner]), x, a)
    if mode in _COPY_MODES:
        def vjp(dy):        # pad the element numbers: each output knows its source element
            src = np.pad(np.arange(a.size).reshape(a.shape), width, mode=mode)
            g = np.bincount(src.ravel(), weights=np.ravel(dy), minlength=a.size)
            return g.reshape(a.shape).astype(dy.dtype, copy=False)
        return record_float(y, vjp, x, a)
    if need(x, a):
        raise NotImplementedError(f"pad: mode={mode!r} has no gradient. Use one of "
                                  f"constant, empty, {', '.join(_COPY_MODES)}.")
    return y


@op
def tril(x, k=0):
    """`x` with the elements above the `k`-th diagonal set to zero (last two axes)."""
    a = value(x)
    return record_float(np.tril(a, k), lambda dy: np.tril(dy, k), x, a)


@op
def triu(x, k=0):
    """`x` with the elements below the `k`-th diagonal set to zero (last two axes)."""
    a = value(x)
    return record_float(np.triu(a, k), lambda dy: np.triu(dy, k), x, a)


__all__ = ["broadcast_to", "concatenate", "expand_dims", "flip", "moveaxis", "pad", "ravel",
           "repeat", "reshape", "roll", "split", "squeeze", "stack", "swapaxes", "tile",
           "transpose", "tril", "triu", "unstack"]
