"""Ops that move, copy or zero-fill elements (Keras 3 names): stacks, splits, flips, rot90,
append, diagflat, meshgrid, extract_sequences. Each records one node per output whose VJP sums
the upstream gradient back onto the source elements (`_np_common.remap`)."""
import numpy as np

from ._dispatch import op, value
from ._np_common import remap, remap_list


def _stack(fn, name, doc):
    def f(xs):
        if isinstance(xs, (np.ndarray,)) or not hasattr(xs, "__len__"):
            raise TypeError(f"{name} expects a list or tuple of tensors. Received: "
                            f"{type(xs).__name__}")
        return remap(lambda *v: fn(v), *xs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return op(f, name=name)


hstack = _stack(np.hstack, "hstack", "The tensors `xs` joined column-wise (axis 1; axis 0 "
                "for 1-D tensors).")
vstack = _stack(np.vstack, "vstack", "The tensors `xs` joined row-wise (1-D tensors become "
                "rows).")
dstack = _stack(np.dstack, "dstack", "The tensors `xs` joined along the third axis (lower "
                "ranks are first raised to 3-D).")


def _check_axis(name, a, axis):
    if not -max(a.ndim, 1) <= axis < max(a.ndim, 1):
        raise ValueError(f"{name}: axis {axis} is out of bounds for a tensor of rank {a.ndim}. "
                         f"Received: axis={axis}")


@op
def array_split(x, indices_or_sections, axis=0):
    """`x` cut along `axis` into `indices_or_sections` nearly equal parts (the first ones one
    longer when it does not divide), or at the given indices; a list.

    Example:
        >>> tuple(len(p) for p in ops.array_split(np.arange(7), 3))
        (3, 2, 2)
    """
    a = np.asarray(value(x))
    _check_axis("array_split", a, axis)
    return remap_list(lambda v: np.array_split(v, indices_or_sections, axis=axis), x)


def _split(fn, name, min_rank, axis):
    def f(x, indices_or_sections):
        a = np.asarray(value(x))
        if a.ndim < min_rank:
            raise ValueError(f"{name} needs a tensor of rank >= {min_rank}. Received: shape "
                             f"{a.shape}")
        if np.ndim(indices_or_sections) == 0:
            n = a.shape[0 if a.ndim == 1 else axis]
            if int(indices_or_sections) <= 0 or n % int(indices_or_sections):
                raise ValueError(f"{name}: an axis of size {n} cannot be cut into "
                                 f"{indices_or_sections} equal sections. Received: "
                                 f"indices_or_sections={indices_or_sections!r}")
        return remap_list(lambda v: fn(v, indices_or_sections), x)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"`x` cut into equal sections (an int) or at the given indices, like `np.{name}`."
    return op(f, name=name)


hsplit = _split(np.hsplit, "hsplit", 1, 1)         # columns (axis 0 of a 1-D tensor)
vsplit = _split(np.vsplit, "vsplit", 2, 0)
dsplit = _split(np.dsplit, "dsplit", 3, 2)


@op
def append(x1, x2, axis=None):
    """`x2` appended to `x1` along `axis` (None: both flattened first)."""
    return remap(lambda a, b: np.append(a, b, axis=axis), x1, x2)


@op
def fliplr(x):
    """`x` with its columns (axis 1) reversed."""
    if np.ndim(value(x)) < 2:
        raise ValueError(f"fliplr needs a tensor of rank >= 2. Received: shape "
                         f"{np.shape(value(x))}")
    return remap(np.fliplr, x)


@op
def flipud(x):
    """`x` with its rows (axis 0) reversed."""
    if np.ndim(value(x)) < 1:
        raise ValueError("flipud needs a tensor of rank >= 1. Received: a scalar")
    return remap(np.flipud, x)


@op
def rot90(array, k=1, axes=(0, 1)):
    """`array` rotated by 90° `k` times in the plane of `axes` (counter-clockwise from the first
    axis toward the second)."""
    a = np.asarray(value(array))
    if a.ndim < 2:
        raise ValueError(f"rot90 needs a tensor of rank >= 2. Received: shape {a.shape}")
    return remap(lambda v: np.rot90(v, k=int(k), axes=tuple(axes)), array)


@op
def diagflat(x, k=0):
    """A 2-D tensor with the flattened `x` on its `k`-th diagonal, zeros elsewhere."""
    return remap(lambda v: np.diagflat(v, k=int(k)), x)


_INDEXING = ("xy", "ij")


@op
def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D tensors `x` (a list, one grid per input); `indexing` is
    `"xy"` (Cartesian: the first two axes swapped) or `"ij"` (matrix)."""
    if indexing not in _INDEXING:
        raise ValueError(f"meshgrid: indexing must be one of {', '.join(_INDEXING)}. "
                         f"Received: indexing={indexing!r}")
    arrays = [np.asarray(value(t)) for t in x]
    out = []
    for k, t in enumerate(x):
        def grid(v, k=k):
            return np.meshgrid(*arrays[:k], v, *arrays[k + 1:], indexing=indexing)[k]
        out.append(remap(grid, t))
    return out


@op
def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of the last axis: `(..., n)` becomes `(..., num_sequences, sequence_length)`,
    the frames starting every `sequence_stride` steps (no padding)."""
    a = np.asarray(value(x))
    length, stride = int(sequence_length), int(sequence_stride)
    if length <= 0 or stride <= 0:
        raise ValueError("extract_sequences: sequence_length and sequence_stride must be "
                         f"positive. Received: sequence_length={sequence_length}, "
                         f"sequence_stride={sequence_stride}")
    if a.ndim < 1 or a.shape[-1] < length:
        raise ValueError(f"extract_sequences: the last axis must hold at least sequence_length="
                         f"{length} values. Received: shape {a.shape}")

    def frames(v):
        count = 1 + (v.shape[-1] - length) // stride
        idx = np.arange(count)[:, None] * stride + np.arange(length)
        return v[..., idx]
    return remap(frames, x)


__all__ = ["append", "array_split", "diagflat", "dsplit", "dstack", "extract_sequences",
           "fliplr", "flipud", "hsplit", "hstack", "meshgrid", "rot90", "vsplit", "vstack"]
