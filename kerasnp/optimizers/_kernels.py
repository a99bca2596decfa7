"""Fused Numba update kernels: one pass over each weight per step.

Every kernel takes flat, C-contiguous arrays of one dtype (float32 or float64) and scalars already
cast to that dtype (so float32 math stays float32), and updates the weight `p` and its slots in
place. The common prefix is `(p, g, *slots, keep, scale, clip)`:

- `keep`: decoupled weight decay folded into the step, `p <- keep * p - update` with
  `keep = 1 - lr * weight_decay` (1 when there is none);
- `scale`, `clip`: gradient clipping, `g <- clip_to_[-clip, clip](scale * g)` (`scale` comes from
  clipnorm/global_clipnorm, `clip` from clipvalue; 1 and inf when unused).

Bias corrections and other per-step constants are computed once per step in Python floats by the
optimizer and passed in. `_reference.py` holds the NumPy twin of every kernel (the test oracle and
the path for dtypes Numba does not handle).
"""
import numba
import numpy as np

# No `nnan`/`ninf`: clip is +inf when clipvalue is unset and must compare as such.
_FLAGS = {"nsz", "arcp", "contract", "afn", "reassoc"}
_jit = numba.njit(cache=True, fastmath=_FLAGS, error_model="numpy", nogil=True)


@numba.njit(cache=True, inline="always")
def _grad(gi, scale, clip):
    gi = gi * scale
    return min(max(gi, -clip), clip)


@_jit
def sgd(p, g, keep, scale, clip, lr):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        p[i] = keep * p[i] - lr * gi                       # p -= lr·g


@_jit
def sgd_momentum(p, g, m, keep, scale, clip, lr, momentum):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = momentum * m[i] - lr * gi                     # m = μ·m - lr·g
        m[i] = mi
        p[i] = keep * p[i] + mi


@_jit
def sgd_nesterov(p, g, m, keep, scale, clip, lr, momentum):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = momentum * m[i] - lr * gi
        m[i] = mi
        p[i] = keep * p[i] + momentum * mi - lr * gi       # look-ahead step


@_jit
def rmsprop(p, g, vel, keep, scale, clip, lr, rho, c_rho, eps, momentum):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        vi = rho * vel[i] + c_rho * gi * gi                # v = ρ·v + (1-ρ)·g²
        vel[i] = vi
        p[i] = keep * p[i] - lr * gi / np.sqrt(vi + eps)


@_jit
def rmsprop_momentum(p, g, vel, mom, keep, scale, clip, lr, rho, c_rho, eps, momentum):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        vi = rho * vel[i] + c_rho * gi * gi
        vel[i] = vi
        mo = momentum * mom[i] + lr * gi / np.sqrt(vi + eps)
        mom[i] = mo
        p[i] = keep * p[i] - mo


@_jit
def rmsprop_centered(p, g, vel, avg, keep, scale, clip, lr, rho, c_rho, eps, momentum):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        vi = rho * vel[i] + c_rho * gi * gi
        ai = rho * avg[i] + c_rho * gi                     # running mean of g
        vel[i] = vi
        avg[i] = ai
        p[i] = keep * p[i] - lr * gi / np.sqrt(vi - ai * ai + eps)


@_jit
def rmsprop_centered_momentum(p, g, vel, avg, mom, keep, scale, clip, lr, rho, c_rho, eps,
                              momentum):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        vi = rho * vel[i] + c_rho * gi * gi
        ai = rho * avg[i] + c_rho * gi
        vel[i] = vi
        avg[i] = ai
        mo = momentum * mom[i] + lr * gi / np.sqrt(vi - ai * ai + eps)
        mom[i] = mo
        p[i] = keep * p[i] - mo


@_jit
def adam(p, g, m, v, keep, scale, clip, alpha, b1, c1, b2, c2, eps):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = b1 * m[i] + c1 * gi                           # m = β₁·m + (1-β₁)·g
        vi = b2 * v[i] + c2 * gi * gi                      # v = β₂·v + (1-β₂)·g²
        m[i] = mi
        v[i] = vi
        p[i] = keep * p[i] - alpha * mi / (np.sqrt(vi) + eps)


@_jit
def adam_amsgrad(p, g, m, v, vhat, keep, scale, clip, alpha, b1, c1, b2, c2, eps):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = b1 * m[i] + c1 * gi
        vi = b2 * v[i] + c2 * gi * gi
        hi = max(vhat[i], vi)                              # v̂ = max(v̂, v)
        m[i] = mi
        v[i] = vi
        vhat[i] = hi
        p[i] = keep * p[i] - alpha * mi / (np.sqrt(hi) + eps)


@_jit
def adamax(p, g, m, u, keep, scale, clip, alpha, b1, c1, b2, eps):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = b1 * m[i] + c1 * gi
        ui = max(b2 * u[i], abs(gi))                       # u = max(β₂·u, |g|)
        m[i] = mi
        u[i] = ui
        p[i] = keep * p[i] - alpha * mi / (ui + eps)


@_jit
def nadam(p, g, m, v, keep, scale, clip, lr, b1, c1, b2, c2, cm, cg, inv_bc2, eps):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        mi = b1 * m[i] + c1 * gi
        vi = b2 * v[i] + c2 * gi * gi
        m[i] = mi
        v[i] = vi
        mhat = cm * mi + cg * gi                           # Nesterov-corrected first moment
        p[i] = keep * p[i] - lr * mhat / (np.sqrt(vi * inv_bc2) + eps)


@_jit
def adagrad(p, g, acc, keep, scale, clip, lr, eps):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        ai = acc[i] + gi * gi                              # accumulator += g²
        acc[i] = ai
        p[i] = keep * p[i] - lr * gi / np.sqrt(ai + eps)


@_jit
def adadelta(p, g, acc_g, acc_d, keep, scale, clip, lr, rho, c_rho, eps):
    for i in range(p.size):
        gi = _grad(g[i], scale, clip)
        ag = rho * acc_g[i] + c_rho * gi * gi
        d = -np.sqrt(acc_d[i] + eps) * gi / np.sqrt(ag + eps)   # Δ = -RMS[Δ]·g / RMS[g]
        acc_g[i] = ag
        acc_d[i] = rho * acc_d[i] + c_rho * d * d
        p[i] = keep * p[i] + lr * d
