"""Linear algebra on the last two axes (Keras 3's `keras.ops.linalg` names): inverses,
determinants and solvers, with their VJPs. Decompositions are in `_decomp_extra`.

Every op works on batches (`(..., M, N)`). Float inputs record one tape node per output;
a multi-output op's nodes share one VJP, each output's node passing only its own cotangent (the
VJP is linear in the cotangents, so the sum over nodes is the joint VJP).
"""
import numpy as np

from ._dispatch import is_tracked, op, value
from ._helpers import floating, need, record


def T(a):
    """Transpose of the last two axes."""
    return np.swapaxes(a, -1, -2)


def square_matrices(a, name, arg="x"):
    """Raise unless `a` is a (batch of) square matrices."""
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: `{arg}` must be a square matrix or a batch of them, of shape "
                         f"(..., N, N). Received: {arg}.shape={a.shape}")


def matrices(a, name, arg="x"):
    if a.ndim < 2:
        raise ValueError(f"{name}: `{arg}` must have rank >= 2 (a matrix or a batch of "
                         f"matrices). Received: {arg}.shape={a.shape}")


def checked(fn, name, *args):
    """`fn(*args)`, a LAPACK failure (a singular matrix...) raised as a ValueError naming the
    op instead of NumPy's LinAlgError."""
    try:
        return fn(*args)
    except np.linalg.LinAlgError as e:
        raise ValueError(f"{name}: {e} (the input matrix is singular or ill-posed). "
                         f"Received shapes: {[np.shape(a) for a in args]}") from None


def record_outputs(ys, vjp, inputs, differentiable=None):
    """Record each output of a multi-output op on the tape (see module doc).

    Args:
        ys: the outputs (arrays).
        vjp: `vjp(*dys)` -> gradients for `inputs`; an output's cotangent is None when only
            another output's node is asking.
        inputs: the op's differentiable inputs.
        differentiable: per output, whether it gets a node (default: all).
    """
    if not any(is_tracked(x) for x in inputs):
        return tuple(ys)
    n = len(ys)
    diff = differentiable or [True] * n

    def one(i):
        return lambda dy: vjp(*[dy if j == i else None for j in range(n)])
    return tuple(record(y, one(i), *inputs) if diff[i] else y for i, y in enumerate(ys))


@op
def inv(x):
    """The inverse of a square matrix (or of each in a batch).

    Example:
        >>> ops.inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
        array([[0.5 , 0.  ],
               [0.  , 0.25]])
    """
    a, diff = floating(x)
    square_matrices(a, "inv")
    y = checked(np.linalg.inv, "inv", a)
    if not (diff and is_tracked(x)):
        return y
    return record(y, lambda dy: -T(y) @ dy @ T(y), x)                # dA = -Yᵀ·dY·Yᵀ


@op
def det(x):
    """The determinant of a square matrix (or of each in a batch)."""
    a, diff = floating(x)
    square_matrices(a, "det")
    y = np.linalg.det(a)
    if not (diff and is_tracked(x)):
        return y
    # d det = det·A⁻ᵀ; written with the adjugate-free inverse, so A must be invertible.
    return record(y, lambda dy: (np.asarray(dy) * y)[..., None, None] * T(np.linalg.inv(a)), x)


@op
def slogdet(x):
    """`(sign, log|det|)` of a square matrix (or of each in a batch); the log is the
    differentiable output."""
    a, diff = floating(x)
    square_matrices(a, "slogdet")
    sign, logabs = np.linalg.slogdet(a)
    if not diff:
        return sign, logabs

    def vjp(dsign, dlog):
        if dlog is None:
            return np.zeros_like(a)
        return np.asarray(dlog)[..., None, None] * T(np.linalg.inv(a))   # d log|det| = A⁻ᵀ
    return record_outputs((sign, logabs), vjp, (x,), (False, True))


@op
def logdet(x):
    """`log(det(x))`: NaN where the determinant is negative (as Keras)."""
    a, diff = floating(x)
    square_matrices(a, "logdet")
    sign, logabs = np.linalg.slogdet(a)
    y = np.where(sign > 0, logabs, np.nan)
    if not (diff and is_tracked(x)):
        return y
    return record(y, lambda dy: np.asarray(dy)[..., None, None] * T(np.linalg.inv(a)), x)


def _rhs(a, b, name):
    """`(b as a matrix, was_vector)`: a 1-D (or `(..., N)` with `a` one rank higher than `b`...)
    right-hand side is solved as a column, as NumPy and torch do for a vector `b`."""
    if b.ndim == 1:
        if b.shape[0] != a.shape[-1]:
            raise ValueError(f"{name}: `b` has {b.shape[0]} entries but `a` is "
                             f"{a.shape[-2]}x{a.shape[-1]}. Received: a.shape={a.shape}, "
                             f"b.shape={b.shape}")
        return b[:, None], True
    if b.shape[-2] != a.shape[-2]:
        raise ValueError(f"{name}: `b` must have as many rows as `a` (shape (..., "
                         f"{a.shape[-2]}, K)). Received: a.shape={a.shape}, b.shape={b.shape}")
    return b, False


def _solve_node(x_out, vec, a, bm, xa, xb, solve_t, mask=None):
    """Record `X = A⁻¹B`: dB = A⁻ᵀ·dX, dA = -dB·Xᵀ (kept on `mask`'s triangle if given)."""
    n1, n2 = need(xa, a), need(xb, bm)
    if not (n1 or n2):
        return x_out
    xm = x_out[..., None] if vec else x_out

    def vjp(dy):
        dym = np.asarray(dy)[..., None] if vec else np.asarray(dy)
        db = solve_t(dym)
        da = None
        if n1:
            da = -db @ T(xm)
            da = mask(da) if mask else da
            extra = da.ndim - a.ndim
            da = da.sum(axis=tuple(range(extra))) if extra else da
        if n2:
            extra = db.ndim - bm.ndim
            db = db.sum(axis=tuple(range(extra))) if extra else db
            db = db[..., 0] if vec else db
        return da, (db if n2 else None)
    return record(x_out, vjp, xa, xb)


@op
def solve(a, b):
    """The `x` with `a @ x = b` (`a` square; `b` a matrix `(..., N, K)` or a vector `(N,)`).

    Example:
        >>> ops.solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([2.0, 2.0]))
        array([1. , 0.5])
    """
    av, _ = floating(a)
    bv, _ = floating(b)
    square_matrices(av, "solve", "a")
    bm, vec = _rhs(av, bv, "solve")
    xm = checked(np.linalg.solve, "solve", av, bm)
    y = xm[..., 0] if vec else xm
    return _solve_node(y, vec, av, bm, a, b, lambda d: np.linalg.solve(T(av), d))


@op
def solve_triangular(a, b, lower=False):
    """The `x` with `a @ x = b` for a triangular `a`: only its lower (`lower=True`) or upper
    triangle is read."""
    av, _ = floating(a)
    bv, _ = floating(b)
    square_matrices(av, "solve_triangular", "a")
    bm, vec = _rhs(av, bv, "solve_triangular")
    tri = np.tril if lower else np.triu
    at = tri(av)
    xm = checked(np.linalg.solve, "solve_triangular", at, bm)
    y = xm[..., 0] if vec else xm
    return _solve_node(y, vec, av, bm, a, b, lambda d: np.linalg.solve(T(at), d), tri)


@op
def cholesky_inverse(x, upper=False):
    """`inv(L @ Lᵀ)` from a Cholesky factor `L` (`upper=True`: `inv(Uᵀ @ U)`); only the factor's
    triangle is read."""
    f, diff = floating(x)
    square_matrices(f, "cholesky_inverse")
    f = np.triu(f) if upper else np.tril(f)
    m = T(f) @ f if upper else f @ T(f)
    y = checked(np.linalg.inv, "cholesky_inverse", m)
    if not (diff and is_tracked(x)):
        return y

    def vjp(dy):
        dm = -T(y) @ dy @ T(y)
        s = dm + T(dm)                                       # M = F·Fᵀ: dF = (dM + dMᵀ)·F
        return np.triu(f @ s) if upper else np.tril(s @ f)
    return record(y, vjp, x)


def _pinv_grad(a, p, g):
    """VJP of `P = pinv(A)` for upstream `g` (constant rank): -Pᵀ·G·Pᵀ
    + (I - A·P)·Gᵀ·P·Pᵀ + Pᵀ·P·Gᵀ·(I - P·A)."""
    m, n = a.shape[-2], a.shape[-1]
    i_ap = np.eye(m) - a @ p
    i_pa = np.eye(n) - p @ a
    return -T(p) @ g @ T(p) + i_ap @ T(g) @ p @ T(p) + T(p) @ p @ T(g) @ i_pa


def _rcond(rcond, a):
    if rcond is None:
        return max(a.shape[-2:]) * np.finfo(a.dtype).eps
    return float(rcond)


@op
def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse; singular values below `rcond` times the largest are
    treated as zero (default: `max(M, N)·eps`)."""
    a, diff = floating(x)
    matrices(a, "pinv")
    y = np.linalg.pinv(a, rcond=_rcond(rcond, a))
    if not (diff and is_tracked(x)):
        return y
    return record(y, lambda dy: _pinv_grad(a, y, np.asarray(dy)), x)


@op
def lstsq(a, b, rcond=None):
    """The least-squares solution `x` of `a @ x ≈ b` (`a` of shape `(M, N)`, `b` `(M,)` or
    `(M, K)`), as `pinv(a) @ b`."""
    av, _ = floating(a)
    bv, _ = floating(b)
    if av.ndim != 2 or bv.ndim not in (1, 2) or bv.shape[0] != av.shape[0]:
        raise ValueError("lstsq: `a` must be a matrix (M, N) and `b` of shape (M,) or (M, K). "
                         f"Received: a.shape={av.shape}, b.shape={bv.shape}")
    p = np.linalg.pinv(av, rcond=_rcond(rcond, av))
    y = p @ bv
    n1, n2 = need(a, av), need(b, bv)
    if not (n1 or n2):
        return y

    def vjp(dy):
        dy = np.asarray(dy)
        da = _pinv_grad(av, p, np.multiply.outer(dy, bv) if bv.ndim == 1 else dy @ bv.T) \
            if n1 else None
        return da, (p.T @ dy if n2 else None)
    return record(y, vjp, a, b)


@op
def matrix_rank(x, tol=None):
    """The number of singular values above `tol` (default `max(M, N)·eps·σ_max`); no gradient."""
    a = np.asarray(value(x))
    matrices(a, "matrix_rank")
    return np.asarray(np.linalg.matrix_rank(a, tol=tol), dtype=np.int32)


__all__ = ["cholesky_inverse", "det", "inv", "logdet", "lstsq", "matrix_rank", "pinv", "slogdet",
           "solve", "solve_triangular"]
