"""Fused Numba update kernels: one pass over each weight per step.

Every kernel takes flat, C-contiguous arrays of one dtype (float32 or float64) and scalars already
cast to that dtype (so float32 math stays float32). The common prefix is
`(p, bp, g, *slots, *new_slots, keep, scale, clip)`:

- `p` is updated in place and its old values are copied into `bp` in the same pass; the slots
  are read from `slots` and their new values written to `new_slots` (the optimizer swaps the
  two sets after a step that succeeded). So a step can be undone exactly, at the price of one
  more stream of writes instead of a copy of everything;
- `keep`: decoupled weight decay folded into the step, `p <- keep * p - update` with
  `keep = 1 - lr * weight_decay` (1 when there is none);
- `scale`, `clip`: gradient clipping, `g <- clip_to_[-clip, clip](scale * g)` (`scale` comes from
  clipnorm/global_clipnorm, `clip` from clipvalue; 1 and inf when unused).

Each kernel returns whether every value it wrote is finite: `abs(x) < inf` is False for inf and
NaN, and the AND over the loop vectorises (`np.isfinite` does not survive fastmath).

Slots that decay geometrically (momentum, the moment estimates, the RMS accumulators) are flushed
to 0 once they drop below the smallest normal float (`_flush`). Where a gradient is exactly 0 (a
dead ReLU unit) such a slot sinks into the subnormal range and stays there: 0.9·(4·2⁻¹⁴⁹) rounds
back to 4·2⁻¹⁴⁹. Arithmetic on subnormals is slow on x86: with 2% of its slots subnormal, Adam's
pass over the reference MLP's first kernel took 150 us instead of 67 (2-core AMD EPYC), and
such slots accumulate as training goes on. A subnormal slot cannot move a normal weight, so the
flush changes no weight (TensorFlow's CPU threads flush subnormals too). It costs 67 -> 73 us on
that pass when nothing is subnormal. Lion keeps its slot: its step is the sign of the slot.

Bias corrections and other per-step constants are computed once per step in Python floats by the
optimizer and passed in. `_reference.py` holds the NumPy twin of every kernel (the test oracle and
the path for dtypes Numba does not handle).
"""
import numba
import numpy as np
from numba import types
from numba.extending import overload

# No `nnan`/`ninf`: clip is +inf when clipvalue is unset and must compare as such, and the
# finiteness flags must see inf and NaN.
_FLAGS = {"nsz", "arcp", "contract", "afn", "reassoc"}
_jit = numba.njit(cache=True, fastmath=_FLAGS, error_model="numpy", nogil=True)


@numba.njit(cache=True, inline="always")
def _grad(gi, scale, clip):
    gi = gi * scale
    return min(max(gi, -clip), clip)


@numba.njit(cache=True, inline="always")
def _finite(x):
    return abs(x) < np.inf


def _flush(x):
    """`x`, or 0 where it is subnormal; NaN and inf stay (the finiteness flags must see them).
    For jitted code: the overload below is what the kernels compile."""
    return x * 0 if abs(x) < np.finfo(np.asarray(x).dtype).tiny else x


@overload(_flush)
def _flush_typed(x):
    # The bound in x's own type, so float32 math stays float32 and the loop vectorises.
    dt = np.float32 if x == types.float32 else np.float64
    tiny, zero = dt(np.finfo(dt).tiny), dt(0)

    def impl(x):
        return zero if abs(x) < tiny else x          # (NaN compares False: kept)
    return impl


@_jit
def sgd(p, bp, g, keep, scale, clip, lr):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        pi = p[i]
        bp[i] = pi
        pi = keep * pi - lr * gi                           # p -= lr·g
        p[i] = pi
        ok &= _finite(pi)
    return ok


@_jit
def sgd_momentum(p, bp, g, m, m2, keep, scale, clip, lr, momentum):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = _flush(momentum * m[i] - lr * gi)             # m = μ·m - lr·g
        m2[i] = mi
        pi = p[i]
        bp[i] = pi
        pi = keep * pi + mi
        p[i] = pi
        ok &= _finite(pi) & _finite(mi)
    return ok


@_jit
def sgd_nesterov(p, bp, g, m, m2, keep, scale, clip, lr, momentum):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = _flush(momentum * m[i] - lr * gi)
        m2[i] = mi
        pi = p[i]
        bp[i] = pi
        pi = keep * pi + momentum * mi - lr * gi           # look-ahead step
        p[i] = pi
        ok &= _finite(pi) & _finite(mi)
    return ok


@_jit
def rmsprop(p, bp, g, vel, vel2, keep, scale, clip, lr, rho, c_rho, eps, momentum):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        vi = _flush(rho * vel[i] + c_rho * gi * gi)        # v = ρ·v + (1-ρ)·g²
        vel2[i] = vi
        pi = p[i]
        bp[i] = pi
        pi = keep * pi - lr * gi / np.sqrt(vi + eps)
        p[i] = pi
        ok &= _finite(pi) & _finite(vi)
    return ok


@_jit
def rmsprop_momentum(p, bp, g, vel, mom, vel2, mom2, keep, scale, clip, lr, rho, c_rho, eps,
                     momentum):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        vi = _flush(rho * vel[i] + c_rho * gi * gi)
        vel2[i] = vi
        mo = _flush(momentum * mom[i] + lr * gi / np.sqrt(vi + eps))
        mom2[i] = mo
        pi = p[i]
        bp[i] = pi
        pi = keep * pi - mo
        p[i] = pi
        ok &= _finite(pi) & _finite(vi) & _finite(mo)
    return ok


@_jit
def rmsprop_centered(p, bp, g, vel, avg, vel2, avg2, keep, scale, clip, lr, rho, c_rho, eps,
                     momentum):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        vi = _flush(rho * vel[i] + c_rho * gi * gi)
        ai = _flush(rho * avg[i] + c_rho * gi)             # running mean of g
        vel2[i] = vi
        avg2[i] = ai
        pi = p[i]
        bp[i] = pi
        pi = keep * pi - lr * gi / np.sqrt(vi - ai * ai + eps)
        p[i] = pi
        ok &= _finite(pi) & _finite(vi) & _finite(ai)
    return ok


@_jit
def rmsprop_centered_momentum(p, bp, g, vel, avg, mom, vel2, avg2, mom2, keep, scale, clip, lr,
                              rho, c_rho, eps, momentum):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        vi = _flush(rho * vel[i] + c_rho * gi * gi)
        ai = _flush(rho * avg[i] + c_rho * gi)
        vel2[i] = vi
        avg2[i] = ai
        mo = _flush(momentum * mom[i] + lr * gi / np.sqrt(vi - ai * ai + eps))
        mom2[i] = mo
        pi = p[i]
        bp[i] = pi
        pi = keep * pi - mo
        p[i] = pi
        ok &= _finite(pi) & _finite(vi) & _finite(ai) & _finite(mo)
    return ok


@_jit
def adam(p, bp, g, m, v, m2, v2, keep, scale, clip, alpha, b1, c1, b2, c2, eps):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = _flush(b1 * m[i] + c1 * gi)                   # m = β₁·m + (1-β₁)·g
        vi = _flush(b2 * v[i] + c2 * gi * gi)              # v = β₂·v + (1-β₂)·g²
        m2[i] = mi
        v2[i] = vi
        pi = p[i]
        bp[i] = pi
        pi = keep * pi - alpha * mi / (np.sqrt(vi) + eps)
        p[i] = pi
        ok &= _finite(pi) & _finite(mi) & _finite(vi)
    return ok


@_jit
def adam_amsgrad(p, bp, g, m, v, vhat, m2, v2, vhat2, keep, scale, clip, alpha, b1, c1, b2, c2,
                 eps):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = _flush(b1 * m[i] + c1 * gi)
        vi = _flush(b2 * v[i] + c2 * gi * gi)
        hi = max(vhat[i], vi)                              # v̂ = max(v̂, v)
        m2[i] = mi
        v2[i] = vi
        vhat2[i] = hi
        pi = p[i]
        bp[i] = pi
        pi = keep * pi - alpha * mi / (np.sqrt(hi) + eps)
        p[i] = pi
        ok &= _finite(pi) & _finite(mi) & _finite(vi) & _finite(hi)
    return ok


@_jit
def adamax(p, bp, g, m, u, m2, u2, keep, scale, clip, alpha, b1, c1, b2, eps):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = _flush(b1 * m[i] + c1 * gi)
        ui = _flush(max(b2 * u[i], abs(gi)))               # u = max(β₂·u, |g|)
        m2[i] = mi
        u2[i] = ui
        pi = p[i]
        bp[i] = pi
        pi = keep * pi - alpha * mi / (ui + eps)
        p[i] = pi
        ok &= _finite(pi) & _finite(mi) & _finite(ui)
    return ok


@_jit
def nadam(p, bp, g, m, v, m2, v2, keep, scale, clip, lr, b1, c1, b2, c2, cm, cg, inv_bc2, eps):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = _flush(b1 * m[i] + c1 * gi)
        vi = _flush(b2 * v[i] + c2 * gi * gi)
        m2[i] = mi
        v2[i] = vi
        mhat = cm * mi + cg * gi                           # Nesterov-corrected first moment
        pi = p[i]
        bp[i] = pi
        pi = keep * pi - lr * mhat / (np.sqrt(vi * inv_bc2) + eps)
        p[i] = pi
        ok &= _finite(pi) & _finite(mi) & _finite(vi)
    return ok


@_jit
def adagrad(p, bp, g, acc, acc2, keep, scale, clip, lr, eps):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        ai = acc[i] + gi * gi                              # accumulator += g²
        acc2[i] = ai
        pi = p[i]
        bp[i] = pi
        pi = keep * pi - lr * gi / np.sqrt(ai + eps)
        p[i] = pi
        ok &= _finite(pi) & _finite(ai)
    return ok


@_jit
def adadelta(p, bp, g, acc_g, acc_d, acc_g2, acc_d2, keep, scale, clip, lr, rho, c_rho, eps):
    ok = True
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        ag = _flush(rho * acc_g[i] + c_rho * gi * gi)
        d = -np.sqrt(acc_d[i] + eps) * gi / np.sqrt(ag + eps)   # Δ = -RMS[Δ]·g / RMS[g]
        ad = _flush(rho * acc_d[i] + c_rho * d * d)
        acc_g2[i] = ag
        acc_d2[i] = ad
        pi = p[i]
        bp[i] = pi
        pi = keep * pi + lr * d
        p[i] = pi
        ok &= _finite(pi) & _finite(ag) & _finite(ad)
    return ok


from kerasnp.optimizers._kernels_more import (ftrl, lamb, lion,  # noqa: E402,F401
                                              schedule_free_adamw)
