"""Building blocks of the recurrent kernels: a small matrix product and vectorised activations.

Activations are coded ints (`ACTIVATION_CODES`) so one compiled kernel serves tanh, sigmoid,
relu and linear; derivatives are read from the saved outputs. In float32 (`fast=True`) sigmoid
and tanh use an exp written out as a polynomial that LLVM vectorises (libm's `exp` is a scalar
call: about 4x slower, and the gates' exponentials dominate an LSTM step); its relative error
is about 2e-7, float32's own rounding. float64 (gradient checks, parity tests) uses `math`.
"""
import math

import numpy as np

from ._jit import HAVE_NUMBA, jit, numba

#: The activations the kernels implement (anything else takes the layers' generic path).
ACTIVATION_CODES = {"tanh": 0, "sigmoid": 1, "relu": 2, "linear": 3}

_F = np.float32
_LOG2E, _LN2_HI, _LN2_LO = _F(1.4426950408889634), _F(0.693359375), _F(-2.12194440e-4)
_LO, _HI, _HALF, _ONE, _TWO = _F(-87.0), _F(88.0), _F(0.5), _F(1.0), _F(2.0)
ONE, ZERO = _ONE, _F(0.0)
_C2, _C3, _C4, _C5, _C6 = _F(1 / 2), _F(1 / 6), _F(1 / 24), _F(1 / 120), _F(1 / 720)


@jit
def matmul_into(a, b, c, out):
    """`out = c + a·b` for small C-contiguous 2-D arrays; `c` is `(n, p)` or one row `(1, p)`
    added to every row (a bias, or zeros).

    Written as loops LLVM vectorises without reassociating sums: each pass over `j` adds four
    rank-1 terms to four rows of `out` at once (`out[i, j] += a[i, k]·b[k, j] + ... +
    a[i, k+3]·b[k+3, j]` for i..i+3), so every load of `b` and of `out` feeds four FMAs. On the
    per-step products of a recurrence (64 x 64 by 64 x 256 in the reference workload) this runs
    at single-thread BLAS speed (25 us) where one term per pass took 60 us; those products are
    too small for BLAS threads to pay off, and a loop keeps the kernels free of SciPy (which
    Numba's np.dot needs)."""
    n, m = a.shape
    p = b.shape[1]
    m4 = m - m % 4
    n4 = n - n % 4
    rows_c = c.shape[0]
    for i in range(0, n4, 4):
        o0, o1, o2, o3 = out[i], out[i + 1], out[i + 2], out[i + 3]
        if rows_c > 1:
            o0[:], o1[:], o2[:], o3[:] = c[i], c[i + 1], c[i + 2], c[i + 3]
        else:
            o0[:], o1[:], o2[:], o3[:] = c[0], c[0], c[0], c[0]
        for k in range(0, m4, 4):
            b0, b1, b2, b3 = b[k], b[k + 1], b[k + 2], b[k + 3]
            a0, a1, a2, a3 = a[i, k], a[i, k + 1], a[i, k + 2], a[i, k + 3]
            e0, e1, e2, e3 = a[i + 1, k], a[i + 1, k + 1], a[i + 1, k + 2], a[i + 1, k + 3]
            f0, f1, f2, f3 = a[i + 2, k], a[i + 2, k + 1], a[i + 2, k + 2], a[i + 2, k + 3]
            g0, g1, g2, g3 = a[i + 3, k], a[i + 3, k + 1], a[i + 3, k + 2], a[i + 3, k + 3]
            for j in range(p):
                v0, v1, v2, v3 = b0[j], b1[j], b2[j], b3[j]
                o0[j] += a0 * v0 + a1 * v1 + a2 * v2 + a3 * v3
                o1[j] += e0 * v0 + e1 * v1 + e2 * v2 + e3 * v3
                o2[j] += f0 * v0 + f1 * v1 + f2 * v2 + f3 * v3
                o3[j] += g0 * v0 + g1 * v1 + g2 * v2 + g3 * v3
        for k in range(m4, m):
            bk = b[k]
            a0, e0, f0, g0 = a[i, k], a[i + 1, k], a[i + 2, k], a[i + 3, k]
            for j in range(p):
                o0[j] += a0 * bk[j]
                o1[j] += e0 * bk[j]
                o2[j] += f0 * bk[j]
                o3[j] += g0 * bk[j]
    for i in range(n4, n):            # the same sums in the same order as the 4-row blocks
        o = out[i]
        o[:] = c[i if rows_c > 1 else 0]
        for k in range(0, m4, 4):
            b0, b1, b2, b3 = b[k], b[k + 1], b[k + 2], b[k + 3]
            a0, a1, a2, a3 = a[i, k], a[i, k + 1], a[i, k + 2], a[i, k + 3]
            for j in range(p):
                o[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j]
        for k in range(m4, m):
            v = a[i, k]
            bk = b[k]
            for j in range(p):
                o[j] += v * bk[j]


def jit_vector(func):
    """`jit` with Numba's NumPy error model, for the elementwise loops of the activations.

    Under the default (Python) model every float division checks its divisor for zero to raise
    ZeroDivisionError, and that branch stops LLVM vectorising the loop: `1/(1 + e)` over a
    16,384-long float32 array took 13.7 us scalar, 2.0 us vectorised. The divisors here are
    `1 + exp(..) >= 1`, so the check never fires and results are unchanged bit for bit."""
    if not HAVE_NUMBA:
        return func
    return numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")(func)


@jit_vector
def _exp_neg_scaled(x, scale, out, bits):
    """out[k] = exp(-scale·x[k]) in float32 arithmetic: 2ⁿ·p(r) with n = round(v/ln 2), r the
    remainder (|r| ≤ ln2/2), p a degree-6 Taylor polynomial and 2ⁿ built from its exponent
    bits; v is clamped to float32's range."""
    n = x.shape[0]
    for k in range(n):
        v = min(max(-scale * x[k], _LO), _HI)
        fn = np.floor(v * _LOG2E + _HALF)
        r = v - fn * _LN2_HI - fn * _LN2_LO
        out[k] = _ONE + r * (_ONE + r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * _C6)))))
        bits[k] = (np.int32(fn) + 127) << 23
    pow2 = bits[:n].view(np.float32)
    for k in range(n):
        out[k] *= pow2[k]


@jit_vector
def act_inplace(x, code, fast, tmp, bits):
    """Apply the activation `code` to the 1-D array `x` in place (`tmp`, `bits`: scratch of at
    least `len(x)`, float and int32)."""
    n = x.shape[0]
    if code == 0:                                          # tanh
        if fast:
            _exp_neg_scaled(x, _TWO, tmp, bits)            # tanh(x) = 2/(1 + e⁻²ˣ) - 1
            for k in range(n):
                x[k] = _TWO / (_ONE + tmp[k]) - _ONE
        else:
            for k in range(n):
                x[k] = math.tanh(x[k])
    elif code == 1:                                        # sigmoid
        if fast:
            _exp_neg_scaled(x, _ONE, tmp, bits)
            for k in range(n):
                x[k] = _ONE / (_ONE + tmp[k])
        else:
            for k in range(n):
                v = x[k]
                if v >= 0:
                    x[k] = 1.0 / (1.0 + math.exp(-v))
                else:
                    e = math.exp(v)
                    x[k] = e / (1.0 + e)
    elif code == 2:                                        # relu
        for k in range(n):
            if x[k] < 0:
                x[k] = 0.0


@jit
def dact(y, code):
    """The activation's derivative, read from its output `y` (float32 constants: they keep a
    float32 kernel in float32 and widen in a float64 one)."""
    if code == 0:
        return ONE - y * y                    # tanh' = 1 - y²
    if code == 1:
        return y * (ONE - y)                  # σ' = σ(1 - σ)
    if code == 2:
        return ONE if y > 0 else ZERO
    return ONE


def scratch(n, dtype):
    """The two scratch buffers `act_inplace` needs for rows of length `n`."""
    return np.empty(n, dtype=dtype), np.empty(n, dtype=np.int32)


@jit_vector
def lstm_cells_fast(z, c_old, c_new, tc, h_new, neg_scale, mul, sub, tmp, bits):
    """One LSTM step for every row of a float32 block, tanh/sigmoid, in two loops per row.

    `z (n, 4u)` holds the pre-activations i, f, c̃, o and receives the gates; then
    `c = f·c₋₁ + i·c̃` into `c_new`, tanh(c) into `tc` and `h = o·tanh(c)` into `h_new` (all
    `(n, u)`). The same arithmetic as `act_inplace` gate by gate (bit for bit), but one loop
    covers a row's four gates (the columns' constants -s, m, d of m/(1 + e^(-s·x)) - d in
    `neg_scale`, `mul`, `sub`: σ is 1, 1, 0 and tanh 2, 2, 1) and no call is made per row:
    per-row calls on 64-long gates cost more than their arithmetic. `tmp`, `bits`: scratch of
    `4u` float32 and int32."""
    n, u4 = z.shape
    u = u4 // 4
    pow2 = bits[:u4].view(np.float32)
    for b in range(n):
        zb = z[b]
        for j in range(u4):                              # e^(-s·x) = 2ⁿ·p(r), as _exp_neg_scaled
            v = min(max(neg_scale[j] * zb[j], _LO), _HI)
            fn = np.floor(v * _LOG2E + _HALF)
            r = v - fn * _LN2_HI - fn * _LN2_LO
            tmp[j] = _ONE + r * (_ONE + r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * _C6)))))
            bits[j] = (np.int32(fn) + 127) << 23
        for j in range(u4):
            zb[j] = mul[j] / (_ONE + tmp[j] * pow2[j]) - sub[j]
        co, cn, t = c_old[b], c_new[b], tc[b]
        for j in range(u):
            c = zb[u + j] * co[j] + zb[j] * zb[2 * u + j]       # c = f·c₋₁ + i·c̃
            cn[j] = c
            v = min(max(-_TWO * c, _LO), _HI)
            fn = np.floor(v * _LOG2E + _HALF)
            r = v - fn * _LN2_HI - fn * _LN2_LO
            tmp[j] = _ONE + r * (_ONE + r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * _C6)))))
            bits[j] = (np.int32(fn) + 127) << 23
        h = h_new[b]
        for j in range(u):
            tv = _TWO / (_ONE + tmp[j] * pow2[j]) - _ONE             # tanh(c)
            t[j] = tv
            h[j] = zb[3 * u + j] * tv                                # h = o·tanh(c)


@jit_vector
def lstm_cells_back(dh, dc, g, tc, cp, dz):
    """One step of the LSTM's back-propagation for every row of a block, tanh/sigmoid.

    `g (n, 4u)` the step's gates i, f, c̃, o, `tc` tanh(c), `cp` c₋₁; `dh`, `dc (n, u)` enter as
    ∂h, ∂c of the step (∂c leaves as ∂c₋₁, in place); writes `dz (n, 4u)`, the gradient of the
    pre-activations. One call per step instead of a loop of rows inside the time loop: the
    rows' loops then vectorise (about 4 us a step for 64 x 64 where the per-row loop took 19)."""
    n, u4 = g.shape
    u = u4 // 4
    for b in range(n):
        gb, db, t, c, dhb, dcb = g[b], dz[b], tc[b], cp[b], dh[b], dc[b]
        gi, gf, gg, go = gb[:u], gb[u:2 * u], gb[2 * u:3 * u], gb[3 * u:]
        di, df, dg, do = db[:u], db[u:2 * u], db[2 * u:3 * u], db[3 * u:]
        for j in range(u):
            i, f, gv, o, tv, d = gi[j], gf[j], gg[j], go[j], t[j], dhb[j]
            dct = dcb[j] + d * o * (_ONE - tv * tv)       # ∂c, also through h = o·tanh(c)
            di[j] = dct * gv * i * (_ONE - i)             # ∂i = ∂c·c̃
            df[j] = dct * c[j] * f * (_ONE - f)           # ∂f = ∂c·c₋₁
            dg[j] = dct * i * (_ONE - gv * gv)            # ∂c̃ = ∂c·i
            do[j] = d * tv * o * (_ONE - o)               # ∂o = ∂h·tanh(c)
            dcb[j] = dct * f                              # ∂c₋₁ = ∂c·f


@jit_vector
def _exp_parts(v):
    """e^v = p·2ⁿ as in `_exp_neg_scaled` (v already clamped): `(p, bits of 2ⁿ)`."""
    fn = np.floor(v * _LOG2E + _HALF)
    r = v - fn * _LN2_HI - fn * _LN2_LO
    p = _ONE + r * (_ONE + r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * _C6)))))
    return p, (np.int32(fn) + 127) << 23


@jit_vector
def gru_cells_fast(xp, rec, g, h_old, h_new, tmp, bits):
    """One GRU step (reset_after) for every row of a float32 block, tanh/sigmoid: `g (n, 3u)`
    receives z, r = σ(x + rec) and h̃ = tanh(x_h + r·rec_h); `h_new = z·h₋₁ + (1 - z)·h̃`.
    The arithmetic of `act_inplace`, bit for bit, without a call per row (see
    `lstm_cells_fast`). `tmp`, `bits`: scratch of `3u` float32 and int32."""
    n, u3 = g.shape
    u = u3 // 3
    pow2 = bits[:u3].view(np.float32)
    for b in range(n):
        xb, rb, gb = xp[b], rec[b], g[b]
        for j in range(2 * u):                                   # σ(x + rec) for z, r
            gb[j] = xb[j] + rb[j]
            tmp[j], bits[j] = _exp_parts(min(max(-_ONE * gb[j], _LO), _HI))
        for j in range(2 * u):
            gb[j] = _ONE / (_ONE + tmp[j] * pow2[j])
        for j in range(u):                                       # tanh(x_h + r·rec_h)
            a = xb[2 * u + j] + gb[u + j] * rb[2 * u + j]
            tmp[j], bits[j] = _exp_parts(min(max(-_TWO * a, _LO), _HI))
        ho, hn = h_old[b], h_new[b]
        for j in range(u):
            gh = _TWO / (_ONE + tmp[j] * pow2[j]) - _ONE
            gb[2 * u + j] = gh
            z = gb[j]
            hn[j] = z * ho[j] + (_ONE - z) * gh                   # h = z·h₋₁ + (1 - z)·h̃


@jit_vector
def gru_cells_back(dh, g, h_prev, rec, dx, dr):
    """One step of the GRU's back-propagation for every row of a block, tanh/sigmoid (as
    `lstm_cells_back`): from ∂h `dh (n, u)`, the gates z, r, h̃ `g (n, 3u)`, h₋₁ and the
    recurrent projections `rec (n, 3u)`, writes the gradients of the input projections
    `dx (n, 3u)` and of the recurrent ones `dr (n, 3u)`."""
    n, u3 = g.shape
    u = u3 // 3
    for b in range(n):
        gb, hp, rh, dxb, drb, dhb = g[b], h_prev[b], rec[b, 2 * u:], dx[b], dr[b], dh[b]
        gz, gr, gh = gb[:u], gb[u:2 * u], gb[2 * u:]
        dxz, dxr, dxh = dxb[:u], dxb[u:2 * u], dxb[2 * u:]
        drz, drr, drh = drb[:u], drb[u:2 * u], drb[2 * u:]
        for j in range(u):
            z, rr, hh, d = gz[j], gr[j], gh[j], dhb[j]
            dzp = d * (hp[j] - hh) * z * (_ONE - z)       # ∂z = ∂h·(h₋₁ - h̃)
            dah = d * (_ONE - z) * (_ONE - hh * hh)       # ∂h̃ = ∂h·(1 - z)
            drp = dah * rh[j] * rr * (_ONE - rr)          # ∂r = ∂h̃·rec_h
            dxz[j] = dzp
            drz[j] = dzp                                  # ∂rec_z,r = ∂xz,r
            dxr[j] = drp
            drr[j] = drp
            dxh[j] = dah
            drh[j] = dah * rr                             # ∂rec_h = ∂h̃·r
