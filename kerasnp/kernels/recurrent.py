"""LSTM recurrence kernels: the time loop forward and back-propagated through time, gates fused.

The input projection `x·W + b` of every step is one BLAS product made by the caller; these
kernels run only what must be sequential: per step one `h·R` product and one fused pass over
the gates. Layouts are time-major and in *processing* order (step `s` is time `T-1-s` for
`go_backwards`): `xp (T, B, 4u)`, states `(T+1, B, u)` with the initial state at index 0, so
each step reads and writes contiguous `(B, ·)` blocks.

Masks are `(T, B)` uint8 in processing order (1 = real step); a masked row keeps its state and
its output is the carried `h` (0 with `zero_out`), as in Keras. `a_code`/`ra_code` are the
activation and recurrent activation (`recurrent_math.ACTIVATION_CODES`); `fast` selects the
vectorised float32 exponential.
"""
import numpy as np

from ._jit import jit
from .recurrent_math import act_inplace, dact, matmul_into


@jit
def lstm_forward(xp, r, mask, has_mask, zero_out, ret_seq, a_code, ra_code, fast,
                 hs, cs, gates, tcs, ys):
    """Run the LSTM over `xp (T, B, 4u)` (input projections, bias included).

    `hs`, `cs` `(T+1, B, u)` hold the initial state at index 0 and receive each step's state;
    `gates (T, B, 4u)` the activated i, f, c̃, o; `tcs (T, B, u)` act(c); `ys (B, T, u)` the
    outputs when `ret_seq` (Keras layout, processing order).
    """
    n_t, n_b, u4 = xp.shape
    u = u4 // 4
    tmp = np.empty(u4, dtype=xp.dtype)
    bits = np.empty(u4, dtype=np.int32)
    for s in range(n_t):
        z = gates[s]
        matmul_into(hs[s], r, z)                                  # Z = h₋₁·R
        for b in range(n_b):
            keep = (not has_mask) or mask[s, b] != 0
            if not keep:
                for j in range(u):
                    hs[s + 1, b, j] = hs[s, b, j]
                    cs[s + 1, b, j] = cs[s, b, j]
            else:
                zb = z[b]
                for j in range(u4):
                    zb[j] += xp[s, b, j]                          # Z += x·W + b
                act_inplace(zb[:2 * u], ra_code, fast, tmp, bits)       # i, f
                act_inplace(zb[2 * u:3 * u], a_code, fast, tmp, bits)   # c̃
                act_inplace(zb[3 * u:], ra_code, fast, tmp, bits)       # o
                tc = tcs[s, b]
                for j in range(u):
                    c = zb[u + j] * cs[s, b, j] + zb[j] * zb[2 * u + j]   # c = f·c₋₁ + i·c̃
                    cs[s + 1, b, j] = c
                    tc[j] = c
                act_inplace(tc, a_code, fast, tmp, bits)
                for j in range(u):
                    hs[s + 1, b, j] = zb[3 * u + j] * tc[j]       # h = o·act(c)
            if ret_seq:
                if keep or not zero_out:
                    for j in range(u):
                        ys[b, s, j] = hs[s + 1, b, j]
                else:
                    for j in range(u):
                        ys[b, s, j] = 0.0


@jit
def lstm_backward(dys, dh, dc, r_t, mask, has_mask, zero_out, ret_seq, a_code, ra_code,
                  cs, gates, tcs, dz):
    """Back-propagate through time. `dh`, `dc (B, u)` enter as the gradients of the final
    state and leave as those of the initial state (updated in place); `dys (B, T, u)` is the
    output sequence's gradient when `ret_seq`. Writes `dz (T, B, 4u)`, the gradient of the
    gate pre-activations (zero on masked rows); the caller turns it into dx, dW, dR, db."""
    n_t, n_b, u4 = gates.shape
    u = u4 // 4
    dhr = np.empty((n_b, u), dtype=gates.dtype)
    for s in range(n_t - 1, -1, -1):
        for b in range(n_b):
            keep = (not has_mask) or mask[s, b] != 0
            if ret_seq and (keep or not zero_out):
                for j in range(u):
                    dh[b, j] += dys[b, s, j]
            if not keep:                  # h, c passed through: so do their gradients
                for j in range(u4):
                    dz[s, b, j] = 0.0
                continue
            g4 = gates[s, b]
            d4 = dz[s, b]
            for j in range(u):
                i = g4[j]
                f = g4[u + j]
                g = g4[2 * u + j]
                o = g4[3 * u + j]
                tc = tcs[s, b, j]
                dct = dc[b, j] + dh[b, j] * o * dact(tc, a_code)   # ∂c, also through h = o·act(c)
                d4[j] = dct * g * dact(i, ra_code)                 # ∂i = ∂c·c̃
                d4[u + j] = dct * cs[s, b, j] * dact(f, ra_code)   # ∂f = ∂c·c₋₁
                d4[2 * u + j] = dct * i * dact(g, a_code)          # ∂c̃ = ∂c·i
                d4[3 * u + j] = dh[b, j] * tc * dact(o, ra_code)   # ∂o = ∂h·act(c)
                dc[b, j] = dct * f                                 # ∂c₋₁ = ∂c·f
        matmul_into(dz[s], r_t, dhr)                               # ∂h₋₁ = dZ·Rᵀ
        for b in range(n_b):
            if (not has_mask) or mask[s, b] != 0:
                for j in range(u):
                    dh[b, j] = dhr[b, j]
