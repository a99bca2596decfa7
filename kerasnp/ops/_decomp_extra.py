"""Matrix decompositions (Keras 3 names): cholesky, eigh, eig, qr, svd, lu_factor, with their
VJPs (the standard formulas for distinct eigen/singular values; see each VJP's comment)."""
import numpy as np

from ._dispatch import is_tracked, op
from ._helpers import floating, record
from ._linalg_extra import T, matrices, record_outputs, square_matrices


def _phi(m):
    """Lower triangle with the diagonal halved."""
    return np.tril(m) - 0.5 * np.eye(m.shape[-1]) * m


@op
def cholesky(x, upper=False):
    """The Cholesky factor of a symmetric positive-definite matrix: lower `L` with `x = L·Lᵀ`
    (`upper=True`: `U = Lᵀ`). Only the lower triangle of `x` is read.

    Example:
        >>> ops.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
        array([[2., 0.],
               [1., 2.]])
    """
    a, diff = floating(x)
    square_matrices(a, "cholesky")
    try:
        low = np.linalg.cholesky(a)
    except np.linalg.LinAlgError as e:
        raise ValueError(f"cholesky: the input is not positive definite ({e}). "
                         f"Received: x.shape={a.shape}") from None
    y = T(low) if upper else low
    if not (diff and is_tracked(x)):
        return y

    def vjp(dy):
        dl = T(dy) if upper else np.asarray(dy)
        # Ā = ½·sym(L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹), Φ: lower triangle, halved diagonal (Murray 2016).
        inv_l = np.linalg.inv(low)
        s = T(inv_l) @ _phi(T(low) @ dl) @ inv_l
        return 0.5 * (s + T(s))
    return record(y, vjp, x)


def _off_diag_inverse(w):
    """F with F_ij = 1/(w_j - w_i) off the diagonal, 0 on it."""
    diff = w[..., None, :] - w[..., :, None]
    eye = np.eye(w.shape[-1], dtype=bool)
    with np.errstate(divide="ignore"):
        return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, diff))


def _eigenvalue_term(a, dw):
    """`diag(w̄)` (zeros when the eigenvalues get no cotangent), the eigenvalues' share of both
    eigen VJPs' inner matrix."""
    inner = np.zeros(a.shape, dtype=a.dtype)
    if dw is not None:
        inner = inner + np.asarray(dw)[..., None] * np.eye(a.shape[-1])
    return inner


@op
def eigh(x):
    """`(eigenvalues, eigenvectors)` of a symmetric matrix, eigenvalues ascending; only the
    lower triangle is read. The gradient assumes distinct eigenvalues."""
    a, diff = floating(x)
    square_matrices(a, "eigh")
    w, v = np.linalg.eigh(a)
    if not diff:
        return w, v

    def vjp(dw, dv):
        # Ā = V·(diag(w̄) + F∘(Vᵀ·V̄))·Vᵀ, symmetrised.
        inner = _eigenvalue_term(a, dw)
        if dv is not None:
            inner = inner + _off_diag_inverse(w) * (T(v) @ dv)
        g = v @ inner @ T(v)
        return 0.5 * (g + T(g))
    return record_outputs((w, v), vjp, (x,))


@op
def eig(x):
    """`(eigenvalues, eigenvectors)` of a square matrix whose eigenvalues are all real
    (eigenvectors of unit norm). kerasnp's arrays are real, so a matrix with complex
    eigenvalues raises a ValueError (use `eigh` for symmetric matrices)."""
    a, diff = floating(x)
    square_matrices(a, "eig")
    w, v = np.linalg.eig(a)
    if np.iscomplexobj(w):
        if np.any(np.abs(w.imag) > 1e3 * np.finfo(a.dtype).eps * (1 + np.abs(w.real))):
            raise ValueError("eig: this matrix has complex eigenvalues; kerasnp's arrays are "
                             "real, so only matrices with real eigenvalues are supported (use "
                             f"eigh for symmetric matrices). Received: x.shape={a.shape}")
        w, v = w.real.astype(a.dtype), v.real.astype(a.dtype)
    if not diff:
        return w, v

    def vjp(dw, dv):
        # Ā = V⁻ᵀ·(diag(w̄) + F∘(Vᵀ·V̄ - VᵀV·diag(diag(Vᵀ·V̄))))·Vᵀ (unit-norm eigenvectors).
        inner = _eigenvalue_term(a, dw)
        if dv is not None:
            vtg = T(v) @ dv
            d = np.diagonal(vtg, axis1=-2, axis2=-1)
            inner = inner + _off_diag_inverse(w) * (vtg - (T(v) @ v) * d[..., None, :])
        return T(np.linalg.inv(v)) @ inner @ T(v)
    return record_outputs((w, v), vjp, (x,))


def _qr_grad_tall(q, r, dq, dr):
    """QR VJP for M >= N (reduced): M = R·R̄ᵀ - Q̄ᵀ·Q; Ā = (Q̄ + Q·copyltu(M))·R⁻ᵀ."""
    m = r @ T(dr) - T(dq) @ q
    ltu = np.tril(m) + T(np.tril(m, -1))
    rhs = dq + q @ ltu
    return T(np.linalg.solve(r, T(rhs)))                         # rhs·R⁻ᵀ


@op
def qr(x, mode="reduced"):
    """`(q, r)` with `x = q @ r`, `q` orthonormal columns, `r` upper triangular.
    `mode`: `"reduced"` (`q` is M×K, K = min(M, N)) or `"complete"` (`q` is M×M). The gradient
    needs full-rank input and, for `"complete"` with M > N, is not offered."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete'. Received: mode={mode!r}")
    a, diff = floating(x)
    matrices(a, "qr")
    q, r = np.linalg.qr(a, mode=mode)
    mrows, ncols = a.shape[-2:]
    if not (diff and is_tracked(x)):
        return q, r
    if mode == "complete" and mrows > ncols:
        raise NotImplementedError("qr: the gradient of mode='complete' for a matrix with more "
                                  "rows than columns is not defined (the extra columns of q "
                                  "are arbitrary); use mode='reduced'. Received: "
                                  f"x.shape={a.shape}")

    def vjp(dq, dr):
        dq = np.zeros_like(q) if dq is None else np.asarray(dq)
        dr = np.zeros_like(r) if dr is None else np.asarray(dr)
        if mrows >= ncols:
            return _qr_grad_tall(q, r, dq, dr)
        # Wide: A = [X | Y], R = [U | V]; X = Q·U is square, Y = Q·V.
        y, u, dv, du = a[..., mrows:], r[..., :mrows], dr[..., mrows:], dr[..., :mrows]
        dx = _qr_grad_tall(q, u, dq + y @ T(dv), du)
        return np.concatenate([dx, q @ dv], axis=-1)
    return record_outputs((q, r), vjp, (x,))


def _svd_grad(a, u, s, vh, du, ds, dvh):
    """Reduced-SVD VJP (distinct non-zero singular values), as torch's svd_backward:
    Ā = U·[(J∘skew(UᵀŪ))·S + S·(J∘skew(VᵀV̄)) + diag(s̄)]·Vᵀ
        + (I - UUᵀ)·Ū·S⁻¹·Vᵀ + U·S⁻¹·V̄ᵀ·(I - VVᵀ),  J_ij = 1/(s_j² - s_i²)."""
    v = T(vh)
    k = s.shape[-1]
    inner = np.zeros(s.shape + (k,), dtype=a.dtype)
    if ds is not None:
        inner = inner + np.asarray(ds)[..., None] * np.eye(k)
    j = _off_diag_inverse(s * s)
    out = 0
    if du is not None:
        ut = T(u) @ du
        inner = inner + (j * (ut - T(ut))) * s[..., None, :]
        out = out + (du - u @ ut) / s[..., None, :] @ vh
    if dvh is not None:
        dv = T(dvh)
        vt = T(v) @ dv
        inner = inner + s[..., :, None] * (j * (vt - T(vt)))
        out = out + u @ ((T(dv) - T(dv) @ v @ vh) / s[..., :, None])
    return u @ inner @ vh + out


@op
def svd(x, full_matrices=True, compute_uv=True):
    """Singular value decomposition: `(u, s, vh)` with `x = u @ diag(s) @ vh`, `s` descending
    (`compute_uv=False`: `s` only). The gradient assumes distinct singular values; through `u`
    or `vh` it needs `full_matrices=False` or a square matrix.

    Example:
        >>> u, s, vh = ops.svd(np.array([[3.0, 0.0], [0.0, -2.0]]))
        >>> s
        array([3., 2.])
    """
    a, diff = floating(x)
    matrices(a, "svd")
    if not compute_uv:
        s = np.linalg.svd(a, compute_uv=False)
        if not (diff and is_tracked(x)):
            return s
        u, _, vh = np.linalg.svd(a, full_matrices=False)
        return record(s, lambda ds: _svd_grad(a, u, s, vh, None, ds, None), x)
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    if not (diff and is_tracked(x)):
        return u, s, vh
    k = s.shape[-1]
    square = a.shape[-1] == a.shape[-2]

    def vjp(du, ds, dvh):
        if not (full_matrices and not square):
            return _svd_grad(a, u, s, vh, du, ds, dvh)
        if du is not None or dvh is not None:
            raise NotImplementedError("svd: the gradient through u or vh of a non-square "
                                      "matrix needs full_matrices=False (the extra singular "
                                      f"vectors are arbitrary). Received: x.shape={a.shape}")
        return _svd_grad(a, u[..., :k], s, vh[..., :k, :], None, ds, None)
    return record_outputs((u, s, vh), vjp, (x,))


def _lu_packed(a):
    """Partial-pivoting LU of a square batch: packed LU (L's unit diagonal implied) and
    LAPACK-style 0-based pivots (row k was swapped with row piv[k])."""
    n = a.shape[-1]
    lu = np.array(a, dtype=a.dtype, copy=True).reshape(-1, n, n)
    piv = np.zeros(lu.shape[:-1], dtype=np.int32)
    b = np.arange(lu.shape[0])
    for k in range(n):
        p = k + np.argmax(np.abs(lu[:, k:, k]), axis=-1)
        piv[:, k] = p
        lu[b, k], lu[b, p] = lu[b, p].copy(), lu[b, k].copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            lu[:, k + 1:, k] /= lu[:, k, k][:, None]
        lu[:, k + 1:, k + 1:] -= lu[:, k + 1:, k:k + 1] * lu[:, k:k + 1, k + 1:]
    return lu.reshape(a.shape), piv.reshape(a.shape[:-1])


def _permutation(piv, n):
    """The permutation matrix P with A = P·L·U from LAPACK pivots."""
    order = np.broadcast_to(np.arange(n), piv.shape).copy()
    for k in range(n):
        p = piv[..., k]
        a, b = order[..., k].copy(), np.take_along_axis(order, p[..., None], -1)[..., 0]
        order[..., k] = b
        np.put_along_axis(order, p[..., None], a[..., None], -1)
    return T(np.eye(n)[order])                                       # P·(PᵀA) = A


@op
def lu_factor(x):
    """`(lu, pivots)`: the partial-pivoting LU factorisation of a square matrix, packed (L below
    the diagonal with its unit diagonal implied, U on and above it) with 0-based row-swap pivots
    (int32), as LAPACK's getrf. The gradient flows through `lu` (invertible input)."""
    a, diff = floating(x)
    square_matrices(a, "lu_factor")
    lu, piv = _lu_packed(a)
    if not diff:
        return lu, piv
    n = a.shape[-1]

    def vjp(dlu, dpiv):
        # Ā = P·L⁻ᵀ·(tril(Lᵀ·L̄, -1) + triu(Ū·Uᵀ))·U⁻ᵀ, with L̄, Ū the halves of dlu.
        low = np.tril(lu, -1) + np.eye(n)
        up = np.triu(lu)
        dl, du = np.tril(dlu, -1), np.triu(dlu)
        mid = np.tril(T(low) @ dl, -1) + np.triu(du @ T(up))
        g = np.linalg.solve(T(low), mid)
        g = T(np.linalg.solve(up, T(g)))
        return _permutation(piv, n) @ g
    return record_outputs((lu, piv), vjp, (x,), (True, False))


__all__ = ["cholesky", "eig", "eigh", "lu_factor", "qr", "svd"]
