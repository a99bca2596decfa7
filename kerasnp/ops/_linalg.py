"""Products: matmul, dot, tensordot, einsum, outer, inner, vdot, with their VJPs.

The gradient of a product with respect to one operand is the product of the upstream gradient
with the other operands, contracted over what the operand did not share with the output; each
VJP below says which product that is. Only the operands that need a gradient get one.
"""
import string
from collections import Counter

import numpy as np

from ._dispatch import op, value
from ._helpers import need, record, ub
from ._arith import multiply


@op
def matmul(x1, x2):
    """Matrix product with NumPy's `@` rules (1-D and batched operands included)."""
    a, b = value(x1), value(x2)
    y = a @ b
    n1, n2 = need(x1, a), need(x2, b)
    if not (n1 or n2):
        return y

    def vjp(dy):
        if a.ndim == 1 and b.ndim == 1:                 # dot product: dy is a scalar
            return (dy * b if n1 else None), (dy * a if n2 else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        d = dy
        if a.ndim == 1:
            d = np.expand_dims(d, -2)
        if b.ndim == 1:
            d = np.expand_dims(d, -1)
        da = db = None
        if n1:
            da = d @ np.swapaxes(b2, -1, -2)           # dA = dY·Bᵀ
            da = ub(da[..., 0, :] if a.ndim == 1 else da, a)
        if n2:
            db = np.swapaxes(a2, -1, -2) @ d           # dB = Aᵀ·dY
            db = ub(db[..., :, 0] if b.ndim == 1 else db, b)
        return da, db
    return record(y, vjp, x1, x2)


def _axis_list(ax, ndim):
    items = [ax] if isinstance(ax, (int, np.integer)) else list(ax)
    return [int(i) % ndim for i in items]


def _tensordot(x1, x2, a, b, axa, axb, y):
    """Record `y = tensordot(a, b, (axa, axb))`: output axes are a's free axes, then b's."""
    n1, n2 = need(x1, a), need(x2, b)
    if not (n1 or n2):
        return y
    free_a = [i for i in range(a.ndim) if i not in axa]
    free_b = [j for j in range(b.ndim) if j not in axb]
    ka = len(free_a)

    def vjp(dy):
        da = db = None
        if n1:       # dA = dY ·(free_b) B, then a's axes put back in order
            r = np.tensordot(dy, b, (list(range(ka, np.ndim(dy))), free_b))
            src = free_a + [axa[axb.index(j)] for j in sorted(axb)]
            da = np.transpose(r, np.argsort(src)) if src else r
        if n2:       # dB = A ·(free_a) dY
            r = np.tensordot(a, dy, (free_a, list(range(ka))))
            src = [axb[axa.index(i)] for i in sorted(axa)] + free_b
            db = np.transpose(r, np.argsort(src)) if src else r
        return da, db
    return record(y, vjp, x1, x2)


@op
def tensordot(x1, x2, axes=2):
    """Sum of products over `axes`: an int N (last N of `x1` with first N of `x2`) or a pair
    `(axes_1, axes_2)` of ints or sequences."""
    a, b = np.asarray(value(x1)), np.asarray(value(x2))
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        axa, axb = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        if len(axes) != 2:
            raise ValueError("tensordot: axes must be an int or a pair (axes_1, axes_2). "
                             f"Received: axes={axes!r}")
        axa, axb = _axis_list(axes[0], a.ndim), _axis_list(axes[1], b.ndim)
    y = np.tensordot(a, b, (axa, axb))
    return _tensordot(x1, x2, a, b, axa, axb, y)


@op
def dot(x1, x2):
    """NumPy's `dot`: matrix product for 2-D, sum over the last axis of `x1` and the
    second-to-last of `x2` for N-D, a product when either is a scalar."""
    a, b = value(x1), value(x2)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return multiply.raw(x1, x2)
    y = np.dot(a, b)
    return _tensordot(x1, x2, a, b, [a.ndim - 1], [max(b.ndim - 2, 0)], y)


@op
def inner(x1, x2):
    """Sum of products over the last axes of `x1` and `x2` (a product for scalars)."""
    a, b = value(x1), value(x2)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return multiply.raw(x1, x2)
    y = np.inner(a, b)
    return _tensordot(x1, x2, a, b, [a.ndim - 1], [b.ndim - 1], y)


@op
def outer(x1, x2):
    """Outer product of the flattened `x1` and `x2`: shape `(x1.size, x2.size)`."""
    a, b = np.asarray(value(x1)), np.asarray(value(x2))
    af, bf = a.ravel(), b.ravel()
    y = np.outer(af, bf)
    n1, n2 = need(x1, a), need(x2, b)
    if not (n1 or n2):
        return y
    return record(y, lambda dy: ((dy @ bf).reshape(a.shape) if n1 else None,    # da = dY·b
                                 (af @ dy).reshape(b.shape) if n2 else None),   # db = aᵀ·dY
                  x1, x2)


@op
def vdot(x1, x2):
    """Dot product of the flattened `x1` and `x2` (a scalar)."""
    a, b = np.asarray(value(x1)), np.asarray(value(x2))
    y = np.vdot(a, b)
    n1, n2 = need(x1, a), need(x2, b)
    if not (n1 or n2):
        return y
    return record(y, lambda dy: ((dy * b).reshape(a.shape) if n1 else None,
                                 (dy * a).reshape(b.shape) if n2 else None), x1, x2)


# -- einsum ------------------------------------------------------------------------------------
def _parse(subscripts, shapes):
    """Input terms and output term with every '...' spelled out as letters (right-aligned)."""
    s = subscripts.replace(" ", "")
    lhs, out = s.split("->") if "->" in s else (s, None)
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: the subscripts name {len(terms)} operands but "
                         f"{len(shapes)} were given. Received: subscripts={subscripts!r}")
    unused = [c for c in string.ascii_letters if c not in s]
    n_ell = max([len(shp) - (len(t) - 3) for t, shp in zip(terms, shapes) if "..." in t],
                default=0)
    ell = "".join(unused[:n_ell])
    full = [t.replace("...", ell[n_ell - (len(shp) - len(t) + 3):] if "..." in t else "")
            for t, shp in zip(terms, shapes)]
    for t, shp in zip(full, shapes):
        if len(t) != len(shp):
            raise ValueError(f"einsum: term {t!r} has {len(t)} indices but its operand has "
                             f"rank {len(shp)}. Received: subscripts={subscripts!r}")
    if out is None:                   # implicit: ellipsis axes, then indices seen once, sorted
        counts = Counter(c for t in terms for c in t if c != ".")
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1))
    else:
        out = out.replace("...", ell)
    return full, out


def _einsum_grad(i, dy, terms, out, arrays):
    """Gradient of einsum with respect to operand i: the einsum of the others and dY into
    operand i's indices; indices only operand i has are broadcast back, size-1 (broadcast) axes
    summed, repeated indices (diagonals) scattered back onto the diagonal."""
    term, a = terms[i], arrays[i]
    uniq = "".join(dict.fromkeys(term))
    others = [terms[j] for j in range(len(terms)) if j != i] + [out]
    operands = [arrays[j] for j in range(len(arrays)) if j != i] + [dy]
    avail = set("".join(others))
    keep = "".join(c for c in uniq if c in avail)
    g = np.einsum(",".join(others) + "->" + keep, *operands, optimize=len(operands) > 1)
    size = {c: a.shape[k] for k, c in enumerate(term)}
    squash = tuple(k for k, c in enumerate(keep) if size[c] == 1 and g.shape[k] != 1)
    if squash:
        g = g.sum(axis=squash, keepdims=True)
    if len(keep) < len(uniq):
        g = np.expand_dims(g, tuple(k for k, c in enumerate(uniq) if c not in avail))
        g = np.broadcast_to(g, tuple(size[c] for c in uniq)).copy()
    if len(uniq) < len(term):
        full = np.zeros(a.shape, dtype=g.dtype)
        np.einsum(term + "->" + uniq, full)[...] = g        # a writeable diagonal view
        g = full
    return g


@op
def einsum(subscripts, *operands):
    """Einstein summation (NumPy's notation, explicit `->` or implicit, with `...`)."""
    arrays = [np.asarray(value(x)) for x in operands]
    terms, out = _parse(subscripts, [a.shape for a in arrays])
    spec = ",".join(terms) + "->" + out
    y = np.einsum(spec, *arrays, optimize=len(arrays) > 1)
    needs = [need(x, a) for x, a in zip(operands, arrays)]
    if not any(needs):
        return y
    return record(y, lambda dy: tuple(_einsum_grad(i, dy, terms, out, arrays) if n else None
                                      for i, n in enumerate(needs)), *operands)


__all__ = ["dot", "einsum", "inner", "matmul", "outer", "tensordot", "vdot"]
