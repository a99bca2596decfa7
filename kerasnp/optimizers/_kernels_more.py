"""Fused Numba kernels of Lion, Lamb, Ftrl and ScheduleFreeAdamW (the contract of `_kernels.py`:
`(p, bp, g, *slots, *new_slots, keep, scale, clip, *hyper)`, returning whether every value
written is finite). Lamb needs the norms of the whole weight and update, so it makes two
passes; the others one."""
import numpy as np

from kerasnp.optimizers._kernels import _finite, _flush, _grad, _jit


@_jit
def lion(p, bp, g, m, m2, keep, scale, clip, lr, b1, c1, b2, c2):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        u = b1 * m[i] + c1 * gi                            # interpolation for the sign
        mi = b2 * m[i] + c2 * gi                           # m = β₂·m + (1-β₂)·g
        m2[i] = mi
        pi = p[i]
        bp[i] = pi
        pi = keep * pi - lr * np.sign(u)
        p[i] = pi
        ok &= _finite(pi) & _finite(mi)
    return ok


@_jit
def lamb(p, bp, g, m, v, m2, v2, keep, scale, clip, lr, b1, c1, b2, c2, inv_bc1, inv_bc2, eps):
    ok = True
    w_sq = p.dtype.type(0.0)
    r_sq = p.dtype.type(0.0)
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = _flush(b1 * m[i] + c1 * gi)
        vi = _flush(b2 * v[i] + c2 * gi * gi)
        m2[i] = mi
        v2[i] = vi
        pi = p[i]
        bp[i] = pi
        pi = keep * pi                                     # decayed weight, as Keras reads it
        p[i] = pi
        r = mi * inv_bc1 / (np.sqrt(vi * inv_bc2) + eps)   # Adam's update
        w_sq += pi * pi
        r_sq += r * r
        ok &= _finite(mi) & _finite(vi)
    ratio = p.dtype.type(1.0)
    if w_sq > 0 and r_sq > 0:
        ratio = np.sqrt(w_sq) / np.sqrt(r_sq)              # trust ratio ‖w‖ / ‖r‖
    step = ratio * lr
    for i in range(p.size):
        r = m2[i] * inv_bc1 / (np.sqrt(v2[i] * inv_bc2) + eps)
        pi = p[i] - step * r
        p[i] = pi
        ok &= _finite(pi)
    return ok


@_jit
def ftrl(p, bp, g, acc, lin, acc2, lin2, keep, scale, clip, lr, power, l1, l2, shrink2):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        pi = p[i]
        bp[i] = pi
        pi = keep * pi
        a = acc[i]
        na = a + gi * gi                                   # accumulator += g²
        sig = (na ** -power - a ** -power) / lr            # σ = (n_new^-c - n^-c) / lr
        li = lin[i] + gi + shrink2 * pi - sig * pi         # z += g + 2·λ_shrink·w - σ·w
        acc2[i] = na
        lin2[i] = li
        quad = na ** -power / lr + 2.0 * l2
        pi = (min(max(li, -l1), l1) - li) / quad           # closed-form proximal step
        p[i] = pi
        ok &= _finite(pi) & _finite(na) & _finite(li)
    return ok


@_jit
def schedule_free_adamw(p, bp, g, z, v, z2, v2, keep, scale, clip, lr, b1, c1, b2, c2, inv_bc2,
                        eps, w):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        vi = _flush(b2 * v[i] + c2 * gi * gi)
        zo = z[i]
        zi = zo - lr * gi / (np.sqrt(vi * inv_bc2) + eps)  # z: the SGD-like sequence
        v2[i] = vi
        z2[i] = zi
        pi = p[i]
        bp[i] = pi
        x = (keep * pi - c1 * zo) / b1                     # x from y = (1-β₁)·z + β₁·x
        x = (1.0 - w) * x + w * zi                         # x: the running average of z
        pi = c1 * zi + b1 * x
        p[i] = pi
        ok &= _finite(pi) & _finite(vi) & _finite(zi)
    return ok
