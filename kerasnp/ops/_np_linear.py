"""Differences, products and distances (Keras 3 names) with their VJPs: diff, kron, cross,
vander, trapezoid, correlate, cdist, corrcoef; and `tri`. Integer inputs keep NumPy's integer
results where Keras does (diff, kron, vander) and get no gradient."""
import numpy as np

from ..autodiff.tape import recording
from ._dispatch import op, value
from ._helpers import floating, floatx, is_floating, need, record, ub
from ._np_common import fpair, record2


@op
def diff(a, n=1, axis=-1):
    """The `n`-th discrete difference along `axis` (`a[1:] - a[:-1]`, `n` times)."""
    x = np.asarray(value(a))
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"diff: axis {axis} is out of bounds for a tensor of rank {x.ndim}. "
                         f"Received: axis={axis}")
    y = np.diff(x, n=int(n), axis=axis)
    if not is_floating(x):
        return y

    def vjp(dy):                      # the transpose of one difference: pad, then subtract
        g = np.asarray(dy)
        width = [(0, 0)] * x.ndim
        for _ in range(int(n)):
            width[axis] = (1, 0)
            lo = np.pad(g, width)
            width[axis] = (0, 1)
            g = lo - np.pad(g, width)
        return g
    return record(y, vjp, a)


@op
def kron(x1, x2):
    """Kronecker product: blocks `x1[i] * x2` laid out on the grid of `x1`."""
    a, b = np.asarray(value(x1)), np.asarray(value(x2))
    y = np.kron(a, b)
    if not (is_floating(a) or is_floating(b)):
        return y
    nd = max(a.ndim, b.ndim)
    ap = a.reshape((1,) * (nd - a.ndim) + a.shape)
    bp = b.reshape((1,) * (nd - b.ndim) + b.shape)

    def outer(dy):                    # dy as (a0, b0, a1, b1, ...) -> (a..., b...)
        inter = [s for pair in zip(ap.shape, bp.shape) for s in pair]
        g = np.reshape(dy, inter)
        return np.transpose(g, list(range(0, 2 * nd, 2)) + list(range(1, 2 * nd, 2)))

    a_ax, b_ax = tuple(range(nd, 2 * nd)), tuple(range(nd))
    return record2(y, x1, x2, a, b,
                   lambda dy: np.sum(outer(dy) * bp.reshape((1,) * nd + bp.shape),
                                     axis=a_ax).reshape(a.shape),
                   lambda dy: np.sum(outer(dy) * ap.reshape(ap.shape + (1,) * nd),
                                     axis=b_ax).reshape(b.shape))


def _three(v):
    """Vectors on the last axis padded from 2 to 3 components (z = 0)."""
    return np.concatenate([v, np.zeros(v.shape[:-1] + (1,), v.dtype)], -1) if v.shape[-1] == 2 \
        else v


@op
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 2- or 3-vectors along `axisa`/`axisb` (`axis` sets all three); the
    result's vectors lie on `axisc` (two 2-vectors give the scalar z component)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a = np.moveaxis(np.asarray(value(x1)), axisa, -1)
    b = np.moveaxis(np.asarray(value(x2)), axisb, -1)
    for name, v in (("x1", a), ("x2", b)):
        if v.shape[-1] not in (2, 3):
            raise ValueError(f"cross: the vectors of {name} must have 2 or 3 components. "
                             f"Received: shape {np.shape(value(x1 if name == 'x1' else x2))}")
    flat = a.shape[-1] == 2 and b.shape[-1] == 2
    a3, b3 = _three(a), _three(b)
    y3 = np.cross(a3, b3)
    y = y3[..., 2] if flat else np.moveaxis(y3, -1, axisc)
    n1, n2 = need(x1, a), need(x2, b)
    if not recording() or not (n1 or n2):
        return y

    def vjp(dy):                      # d(a×b) = da×b + a×db: ga = b×g, gb = g×a
        dy = np.asarray(dy)
        if flat:
            g = np.zeros(dy.shape + (3,), dy.dtype)
            g[..., 2] = dy
        else:
            g = np.moveaxis(dy, axisc, -1)
        ga = np.cross(b3, g)[..., :a.shape[-1]]
        gb = np.cross(g, a3)[..., :b.shape[-1]]
        return (np.moveaxis(ub(ga, a), -1, axisa) if n1 else None,
                np.moveaxis(ub(gb, b), -1, axisb) if n2 else None)
    return record(y, vjp, x1, x2)


@op
def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D `x`: columns `x ** p`, powers from `N - 1` down to 0
    (up when `increasing`)."""
    a = np.asarray(value(x))
    if a.ndim != 1:
        raise ValueError(f"vander expects a 1-D tensor. Received: shape {a.shape}")
    y = np.vander(a, N=N, increasing=increasing).astype(a.dtype, copy=False)
    if not is_floating(a):
        return y
    p = np.arange(y.shape[1])
    p = p if increasing else p[::-1]
    # d x^p = p·x^(p-1); for p = 0 the term is 0 (and x^-1 at x = 0 must not leak)
    dp = np.where(p > 0, p * a[:, None] ** np.maximum(p - 1, 0), 0)
    return record(y, lambda dy: np.sum(dy * dp, axis=1), x)


@op
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of `y` along `axis` by the trapezoid rule, at points `x` (or spacing `dx`)."""
    v, diff_y = floating(y)
    v = np.asarray(v)
    ax = axis % v.ndim if v.ndim else 0
    if x is None:
        h = np.asarray(dx, dtype=v.dtype)
        xv = None
    else:
        xv = np.asarray(floating(x)[0])
        h = np.diff(xv, axis=-1 if xv.ndim == 1 else ax)
        if xv.ndim == 1 and v.ndim > 1:
            h = h.reshape([-1 if i == ax else 1 for i in range(v.ndim)])
    lo = [slice(None)] * v.ndim
    hi = [slice(None)] * v.ndim
    lo[ax], hi[ax] = slice(None, -1), slice(1, None)
    mid = (v[tuple(hi)] + v[tuple(lo)]) / 2
    out = np.sum(h * mid, axis=ax)
    n_y = diff_y and need(y, v)
    n_x = xv is not None and need(x, xv)
    if not recording() or not (n_y or n_x):
        return out

    def vjp(dy):
        g = np.expand_dims(np.asarray(dy), ax)
        gy = gx = None
        if n_y:                       # each y_i weighs (h_{i-1} + h_i) / 2
            hb = np.broadcast_to(h * g, mid.shape)
            width = [(0, 0)] * v.ndim
            width[ax] = (0, 1)
            gy = np.pad(hb, width) / 2
            width[ax] = (1, 0)
            gy = ub(gy + np.pad(hb, width) / 2, v)
        if n_x:                       # d/dh_i = mid_i, h_i = x_{i+1} - x_i
            gh = g * mid
            if xv.ndim == 1 and v.ndim > 1:
                gh = np.moveaxis(gh, ax, -1).reshape(-1, gh.shape[ax]).sum(0)
                axx = 0
            else:
                gh = ub(gh, h)
                axx = ax
            width = [(0, 0)] * gh.ndim
            width[axx] = (1, 0)
            gx = np.pad(gh, width)
            width[axx] = (0, 1)
            gx = gx - np.pad(gh, width)
        return gy, gx
    return record(out, vjp, y, x if n_x else None)


_MODES = ("valid", "same", "full")


@op
def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D tensors, `y[k] = Σₙ x1[n + k] · x2[n]` (NumPy's offsets
    for `mode` "valid", "same" or "full")."""
    if mode not in _MODES:
        raise ValueError(f"correlate: mode must be one of {', '.join(_MODES)}. Received: "
                         f"mode={mode!r}")
    a, b = fpair(x1, x2)                       # Keras gives floats for integers too
    if np.ndim(a) != 1 or np.ndim(b) != 1:
        raise ValueError("correlate expects two 1-D tensors. Received: shapes "
                         f"{np.shape(a)} and {np.shape(b)}")
    y = np.correlate(a, b, mode)
    la, lb = a.size, b.size
    m = min(la, lb) - 1
    start = {"full": 0, "valid": m, "same": m // 2 if la >= lb else (m + 1) // 2}[mode]

    def full(dy):
        g = np.zeros(la + lb - 1, dy.dtype)
        g[start:start + dy.size] = dy
        return g
    # y_full[k] = Σₙ a[n + k - (lb-1)]·b[n]
    return record2(y, x1, x2, a, b,
                   lambda dy: np.convolve(full(dy), b)[lb - 1:lb - 1 + la],
                   lambda dy: np.correlate(full(dy), a, "valid")[::-1])


@op
def cdist(x, y):
    """Euclidean distances between the rows of `x` `(..., m, d)` and of `y` `(..., n, d)`:
    `(..., m, n)`. Where a distance is 0 its gradient is taken as 0."""
    a, b = fpair(x, y)
    d = a[..., :, None, :] - b[..., None, :, :]
    out = np.sqrt(np.sum(d * d, axis=-1))

    def unit(dy):                     # ∂|a_i - b_j| / ∂a_i = (a_i - b_j) / |a_i - b_j|
        safe = np.where(out == 0, 1, out)
        return np.where(out == 0, 0, dy / safe)[..., None] * d
    return record2(out, x, y, a, b, lambda dy: np.sum(unit(dy), axis=-2),
                   lambda dy: -np.sum(unit(dy), axis=-3))


@op
def corrcoef(x):
    """Pearson correlation coefficients of the rows of `x` (each row a variable)."""
    a, diff_ = floating(x)
    a = np.asarray(a)
    if a.ndim not in (1, 2):
        raise ValueError(f"corrcoef expects a 1-D or 2-D tensor. Received: shape {a.shape}")
    X = np.atleast_2d(a)
    xc = X - X.mean(axis=1, keepdims=True)
    c = xc @ xc.T
    s = np.sqrt(np.diag(c))
    r = c / np.outer(s, s)
    y = r[0, 0] if a.ndim == 1 else r
    if not diff_:
        return y

    def vjp(dy):                      # R = C / (s sᵀ), s = √diag C, C = Xc Xcᵀ
        g = np.asarray(dy).reshape(r.shape)
        dc = g / np.outer(s, s)
        ds = -np.sum((g + g.T) * r, axis=1) / s
        dc[np.diag_indices_from(dc)] += ds / (2 * s)
        dxc = (dc + dc.T) @ xc
        return (dxc - dxc.mean(axis=1, keepdims=True)).reshape(a.shape)
    return record(y, vjp, x)


@op
def tri(N, M=None, k=0, dtype=None):
    """A 2-D tensor with ones at and below the `k`-th diagonal (floatx unless `dtype`)."""
    return np.tri(int(N), None if M is None else int(M), int(k),
                  dtype=np.dtype(floatx() if dtype is None else dtype))


__all__ = ["cdist", "corrcoef", "correlate", "cross", "diff", "kron", "trapezoid", "tri", "vander"]
