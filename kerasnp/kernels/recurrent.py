"""LSTM recurrence kernels: the time loop forward and back-propagated through time, gates fused.

The input projection `x·W + b` of every step is one BLAS product made by the caller; these
kernels run only what must be sequential: per step one `h·R` product and one fused pass over
the gates. Layouts are time-major and in *processing* order (step `s` is time `T-1-s` for
`go_backwards`): `xp (T, B, 4u)`, states `(T+1, B, u)` with the initial state at index 0, so
each step reads and writes contiguous `(B, ·)` blocks.

Every kernel runs the rows `b0:b1` of the batch only (the recurrences of different sequences
are independent), so the caller may split a batch between threads: the kernels release the GIL
and the rows' blocks `a[s][b0:b1]` stay contiguous.

Masks are `(T, B)` uint8 in processing order (1 = real step); a masked row keeps its state and
its output is the carried `h` (0 with `zero_out`), as in Keras. `a_code`/`ra_code` are the
activation and recurrent activation (`recurrent_math.ACTIVATION_CODES`); `fast` selects the
vectorised float32 exponential.
"""
import numpy as np

from ._jit import jit
from .recurrent_math import (ONE, act_inplace, dact, lstm_cells_back, lstm_cells_fast,
                             matmul_into)


@jit
def lstm_forward(b0, b1, xp, r, mask, has_mask, zero_out, ret_seq, a_code, ra_code, fast, rdm,
                 has_rdrop, hs, cs, hds, gates, tcs, ys):
    """Run the LSTM over `xp (T, B, 4u)` (input projections, bias included).

    `hs`, `cs` `(T+1, B, u)` hold the initial state at index 0 and receive each step's state;
    `gates (T, B, 4u)` the activated i, f, c̃, o; `tcs (T, B, u)` act(c); `ys (B, T, u)` the
    outputs when `ret_seq` (Keras layout, processing order). With `has_rdrop` the recurrent
    product reads `h₋₁·rdm` (recurrent dropout, one `(B, u)` mask), kept in `hds (T, B, u)`.
    """
    n_t, u4 = xp.shape[0], xp.shape[2]
    u = u4 // 4
    tmp = np.empty(u4, dtype=xp.dtype)
    bits = np.empty(u4, dtype=np.int32)
    # float32 tanh/sigmoid: a whole step's block in one call (`lstm_cells_fast`); its gate
    # columns' constants -s, m, d of m/(1 + e^(-s·x)) - d (σ: 1, 1, 0; tanh: 2, 2, 1)
    block = fast and a_code == 0 and ra_code == 1
    neg_scale = np.full(u4, -1.0, dtype=np.float32)
    mul = np.ones(u4, dtype=np.float32)
    sub = np.zeros(u4, dtype=np.float32)
    neg_scale[2 * u:3 * u], mul[2 * u:3 * u], sub[2 * u:3 * u] = -2.0, 2.0, 1.0
    for s in range(n_t):
        z = gates[s]
        hp = hs[s]
        if has_rdrop:
            hp = hds[s]
            for b in range(b0, b1):
                hp[b] = hs[s, b] * rdm[b]                         # dropped h₋₁
        matmul_into(hp[b0:b1], r, xp[s][b0:b1], z[b0:b1])        # Z = x·W + b + h₋₁·R
        if block:
            lstm_cells_fast(z[b0:b1], cs[s][b0:b1], cs[s + 1][b0:b1], tcs[s][b0:b1],
                            hs[s + 1][b0:b1], neg_scale, mul, sub, tmp, bits)
        for b in range(b0, b1):
            # 1-D row views: loops over them vectorise (3-D indexing did not)
            keep = (not has_mask) or mask[s, b] != 0
            h_old, h_new, c_old, c_new = hs[s, b], hs[s + 1, b], cs[s, b], cs[s + 1, b]
            if not keep:
                h_new[:] = h_old
                c_new[:] = c_old
            elif not block:
                zb = z[b]
                act_inplace(zb[:2 * u], ra_code, fast, tmp, bits)       # i, f
                act_inplace(zb[2 * u:3 * u], a_code, fast, tmp, bits)   # c̃
                act_inplace(zb[3 * u:], ra_code, fast, tmp, bits)       # o
                gi, gf, gg, go = zb[:u], zb[u:2 * u], zb[2 * u:3 * u], zb[3 * u:]
                tc = tcs[s, b]
                for j in range(u):
                    c = gf[j] * c_old[j] + gi[j] * gg[j]          # c = f·c₋₁ + i·c̃
                    c_new[j] = c
                    tc[j] = c
                act_inplace(tc, a_code, fast, tmp, bits)
                for j in range(u):
                    h_new[j] = go[j] * tc[j]                      # h = o·act(c)
            if ret_seq:
                if keep or not zero_out:
                    ys[b, s] = h_new
                else:
                    ys[b, s] = 0.0


@jit
def lstm_backward(b0, b1, dys, dh, dc, r_t, mask, has_mask, zero_out, ret_seq, a_code, ra_code,
                  rdm, has_rdrop, cs, gates, tcs, dz):
    """Back-propagate through time. `dh`, `dc (B, u)` enter as the gradients of the final
    state and leave as those of the initial state (updated in place); `dys (B, T, u)` is the
    output sequence's gradient when `ret_seq`. Writes `dz (T, B, 4u)`, the gradient of the
    gate pre-activations (zero on masked rows); the caller turns it into dx, dW, dR, db."""
    n_t, u4 = gates.shape[0], gates.shape[2]
    u = u4 // 4
    dhr = np.empty((b1 - b0, u), dtype=gates.dtype)
    zero = np.zeros((1, u), dtype=gates.dtype)
    plain = a_code == 0 and ra_code == 1          # tanh/sigmoid: derivatives written out
    block = plain and not has_mask                # then every row of a step in one call
    for s in range(n_t - 1, -1, -1):
        if block:
            if ret_seq:
                for b in range(b0, b1):
                    dh[b] += dys[b, s]
            lstm_cells_back(dh[b0:b1], dc[b0:b1], gates[s][b0:b1], tcs[s][b0:b1],
                            cs[s][b0:b1], dz[s][b0:b1])
        else:
            for b in range(b0, b1):
                keep = (not has_mask) or mask[s, b] != 0
                dhb, dcb, d4 = dh[b], dc[b], dz[s, b]
                if ret_seq and (keep or not zero_out):
                    dyb = dys[b, s]
                    for j in range(u):
                        dhb[j] += dyb[j]
                if not keep:                  # h, c passed through: so do their gradients
                    d4[:] = 0.0
                    continue
                g4, tc, cp = gates[s, b], tcs[s, b], cs[s, b]
                gi, gf, gg, go = g4[:u], g4[u:2 * u], g4[2 * u:3 * u], g4[3 * u:]
                di, df, dg, do = d4[:u], d4[u:2 * u], d4[2 * u:3 * u], d4[3 * u:]
                if plain:
                    for j in range(u):
                        i, f, g, o, t, d = gi[j], gf[j], gg[j], go[j], tc[j], dhb[j]
                        dct = dcb[j] + d * o * (ONE - t * t)          # ∂c, also via h = o·tanh(c)
                        di[j] = dct * g * i * (ONE - i)               # ∂i = ∂c·c̃
                        df[j] = dct * cp[j] * f * (ONE - f)           # ∂f = ∂c·c₋₁
                        dg[j] = dct * i * (ONE - g * g)               # ∂c̃ = ∂c·i
                        do[j] = d * t * o * (ONE - o)                 # ∂o = ∂h·tanh(c)
                        dcb[j] = dct * f                              # ∂c₋₁ = ∂c·f
                else:
                    for j in range(u):
                        i, f, g, o, t, d = gi[j], gf[j], gg[j], go[j], tc[j], dhb[j]
                        dct = dcb[j] + d * o * dact(t, a_code)
                        di[j] = dct * g * dact(i, ra_code)
                        df[j] = dct * cp[j] * dact(f, ra_code)
                        dg[j] = dct * i * dact(g, a_code)
                        do[j] = d * t * dact(o, ra_code)
                        dcb[j] = dct * f
        if block and not has_rdrop:
            matmul_into(dz[s][b0:b1], r_t, zero, dh[b0:b1])      # ∂h₋₁ = dZ·Rᵀ
            continue
        matmul_into(dz[s][b0:b1], r_t, zero, dhr)                 # ∂h₋₁ = dZ·Rᵀ
        for b in range(b0, b1):
            if (not has_mask) or mask[s, b] != 0:
                if has_rdrop:
                    dh[b] = dhr[b - b0] * rdm[b]                  # through h₋₁·rdm
                else:
                    dh[b] = dhr[b - b0]
