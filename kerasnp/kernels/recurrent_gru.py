"""GRU (Keras's `reset_after=True`, the default) and SimpleRNN recurrence kernels.

Same conventions as `recurrent.py`: each kernel runs the batch rows `b0:b1`; time-major
arrays in processing order, the input projections `xp` made by the caller in one BLAS product,
states `(T+1, B, u)` with the initial state at index 0, uint8 masks `(T, B)`, outputs written
in Keras's `(B, T, u)` layout.

GRU, gate order z, r, h as Keras; `brec (1, 3u)` is the recurrent bias (`bias[1]`):
    rec = h₋₁·R + brec;  z = σ(xz + rec_z);  r = σ(xr + rec_r);  h̃ = tanh(xh + r·rec_h)
    h = z·h₋₁ + (1 - z)·h̃
"""
import numpy as np

from ._jit import jit
from .recurrent_math import (ONE, act_inplace, dact, gru_cells_back, gru_cells_fast,
                             matmul_into)


@jit
def gru_forward(b0, b1, xp, r, brec, mask, has_mask, zero_out, ret_seq, a_code, ra_code, fast, rdm,
                has_rdrop, hs, hds, gates, rec, ys):
    """Run the GRU over `xp (T, B, 3u)`. Writes the states `hs`, the activated z, r, h̃ in
    `gates (T, B, 3u)`, the recurrent projection `rec (T, B, 3u)` (h₋₁·R + brec; its h block
    is needed by the backward) and `ys (B, T, u)` when `ret_seq`. With `has_rdrop` the
    recurrent product reads `h₋₁·rdm` (kept in `hds`); the update `z·h₋₁` uses h₋₁ itself,
    as Keras."""
    n_t, u3 = xp.shape[0], xp.shape[2]
    u = u3 // 3
    tmp = np.empty(u3, dtype=xp.dtype)
    bits = np.empty(u3, dtype=np.int32)
    block = fast and a_code == 0 and ra_code == 1    # float32 tanh/sigmoid: one call a step
    for s in range(n_t):
        hp = hs[s]
        if has_rdrop:
            hp = hds[s]
            for b in range(b0, b1):
                hp[b] = hs[s, b] * rdm[b]                         # dropped h₋₁
        matmul_into(hp[b0:b1], r, brec, rec[s][b0:b1])            # h₋₁·R + brec
        if block:
            gru_cells_fast(xp[s][b0:b1], rec[s][b0:b1], gates[s][b0:b1], hs[s][b0:b1],
                           hs[s + 1][b0:b1], tmp, bits)
        for b in range(b0, b1):
            keep = (not has_mask) or mask[s, b] != 0
            h_old, h_new = hs[s, b], hs[s + 1, b]
            if not keep:
                h_new[:] = h_old
            elif not block:
                rb, g, xb = rec[s, b], gates[s, b], xp[s, b]
                for j in range(2 * u):
                    g[j] = xb[j] + rb[j]
                act_inplace(g[:2 * u], ra_code, fast, tmp, bits)        # z, r
                gr, gh, xh, rh = g[u:2 * u], g[2 * u:], xb[2 * u:], rb[2 * u:]
                for j in range(u):
                    gh[j] = xh[j] + gr[j] * rh[j]                 # xh + r·rec_h
                act_inplace(gh, a_code, fast, tmp, bits)          # h̃
                for j in range(u):
                    z = g[j]
                    h_new[j] = z * h_old[j] + (ONE - z) * gh[j]   # h = z·h₋₁ + (1 - z)·h̃
            if ret_seq:
                if keep or not zero_out:
                    ys[b, s] = h_new
                else:
                    ys[b, s] = 0.0


@jit
def gru_backward(b0, b1, dys, dh, r_t, mask, has_mask, zero_out, ret_seq, a_code, ra_code, rdm,
                 has_rdrop, hs, gates, rec, dxp, drec):
    """Back-propagate through time; `dh (B, u)` enters as the final state's gradient and
    leaves as the initial state's. Writes `dxp (T, B, 3u)`, the gradient of the input
    projections, and `drec (T, B, 3u)`, that of the recurrent projections (zero rows where
    masked)."""
    n_t, u3 = gates.shape[0], gates.shape[2]
    u = u3 // 3
    dhr = np.empty((b1 - b0, u), dtype=gates.dtype)
    zero = np.zeros((1, u), dtype=gates.dtype)
    plain = a_code == 0 and ra_code == 1          # tanh/sigmoid: derivatives written out
    block = plain and not has_mask                # then every row of a step in one call
    for s in range(n_t - 1, -1, -1):
        if block:
            if ret_seq:
                for b in range(b0, b1):
                    dh[b] += dys[b, s]
            gru_cells_back(dh[b0:b1], gates[s][b0:b1], hs[s][b0:b1], rec[s][b0:b1],
                           dxp[s][b0:b1], drec[s][b0:b1])
        else:
            for b in range(b0, b1):
                keep = (not has_mask) or mask[s, b] != 0
                dhb, dx, dr = dh[b], dxp[s, b], drec[s, b]
                if ret_seq and (keep or not zero_out):
                    dyb = dys[b, s]
                    for j in range(u):
                        dhb[j] += dyb[j]
                if not keep:
                    dx[:] = 0.0
                    dr[:] = 0.0
                    continue
                g, hp, rh = gates[s, b], hs[s, b], rec[s, b, 2 * u:]
                gz, gr, gh = g[:u], g[u:2 * u], g[2 * u:]
                dxz, dxr, dxh, drh = dx[:u], dx[u:2 * u], dx[2 * u:], dr[2 * u:]
                for j in range(u):
                    z, rr, hh, d = gz[j], gr[j], gh[j], dhb[j]
                    if plain:
                        dzp = d * (hp[j] - hh) * z * (ONE - z)        # ∂z = ∂h·(h₋₁ - h̃)
                        dah = d * (ONE - z) * (ONE - hh * hh)         # ∂h̃ = ∂h·(1 - z)
                        drp = dah * rh[j] * rr * (ONE - rr)           # ∂r = ∂h̃·rec_h
                    else:
                        dzp = d * (hp[j] - hh) * dact(z, ra_code)
                        dah = d * (ONE - z) * dact(hh, a_code)
                        drp = dah * rh[j] * dact(rr, ra_code)
                    dxz[j] = dzp
                    dxr[j] = drp
                    dxh[j] = dah
                    drh[j] = dah * rr                                 # ∂rec_h = ∂h̃·r
                dr[:2 * u] = dx[:2 * u]                               # ∂rec_z,r = ∂xz,r
        matmul_into(drec[s][b0:b1], r_t, zero, dhr)               # ∂h₋₁ = dRec·Rᵀ + ∂h·z
        for b in range(b0, b1):
            if (not has_mask) or mask[s, b] != 0:
                dhb, dhrb, gz = dh[b], dhr[b - b0], gates[s, b, :u]
                if has_rdrop:
                    dhrb *= rdm[b]                                # through h₋₁·rdm
                for j in range(u):
                    dhb[j] = dhrb[j] + dhb[j] * gz[j]


@jit
def simple_rnn_forward(b0, b1, xp, r, mask, has_mask, zero_out, ret_seq, a_code, fast, rdm,
                       has_rdrop, hs, hds, ys):
    """h = act(x·W + b + h₋₁·R) over `xp (T, B, u)`; writes `hs` and `ys` (when `ret_seq`);
    with `has_rdrop` the product reads `h₋₁·rdm` (kept in `hds`)."""
    n_t, u = xp.shape[0], xp.shape[2]
    tmp = np.empty(u, dtype=xp.dtype)
    bits = np.empty(u, dtype=np.int32)
    for s in range(n_t):
        hp = hs[s]
        if has_rdrop:
            hp = hds[s]
            for b in range(b0, b1):
                hp[b] = hs[s, b] * rdm[b]                         # dropped h₋₁
        matmul_into(hp[b0:b1], r, xp[s][b0:b1], hs[s + 1][b0:b1])   # x·W + b + h₋₁R
        for b in range(b0, b1):
            keep = (not has_mask) or mask[s, b] != 0
            h = hs[s + 1, b]
            if not keep:
                h[:] = hs[s, b]
            else:
                act_inplace(h, a_code, fast, tmp, bits)
            if ret_seq:
                if keep or not zero_out:
                    ys[b, s] = h
                else:
                    ys[b, s] = 0.0


@jit
def simple_rnn_backward(b0, b1, dys, dh, r_t, mask, has_mask, zero_out, ret_seq, a_code,
                        rdm, has_rdrop, hs, da):
    """Back-propagate through time; writes `da (T, B, u)`, the pre-activation gradient."""
    n_t, u = da.shape[0], da.shape[2]
    dhr = np.empty((b1 - b0, u), dtype=da.dtype)
    zero = np.zeros((1, u), dtype=da.dtype)
    for s in range(n_t - 1, -1, -1):
        for b in range(b0, b1):
            keep = (not has_mask) or mask[s, b] != 0
            dhb, dab, hb = dh[b], da[s, b], hs[s + 1, b]
            if ret_seq and (keep or not zero_out):
                dyb = dys[b, s]
                for j in range(u):
                    dhb[j] += dyb[j]
            if not keep:
                dab[:] = 0.0
                continue
            for j in range(u):                                     # ∂a = ∂h·act'(a)
                dab[j] = dhb[j] * dact(hb[j], a_code)
        matmul_into(da[s][b0:b1], r_t, zero, dhr)                 # ∂h₋₁ = ∂a·Rᵀ
        for b in range(b0, b1):
            if (not has_mask) or mask[s, b] != 0:
                if has_rdrop:
                    dh[b] = dhr[b - b0] * rdm[b]
                else:
                    dh[b] = dhr[b - b0]
