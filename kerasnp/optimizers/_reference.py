"""NumPy twins of `_kernels.py`: same signatures, same effect, obviously correct.

They are the oracle the kernel tests compare against, and the path used for dtypes that Numba
does not handle (float16). Scalars arrive cast to the weight dtype, so results keep that dtype.
As the kernels, each copies `p` into `bp`, updates `p` in place, writes the new slots into the
second set of slot arrays and returns whether every value written is finite.
"""
import numpy as np


def _grad(g, scale, clip):
    return np.clip(g * scale, -clip, clip)


def _store(out, values):
    """`out[...] = values`, subnormal float32/float64 values flushed to 0 (the kernels'
    `_flush`). float16 keeps its subnormals: its normal range starts at 6e-5, where Adam's
    second moment of a gradient below 0.25 already lies, and NumPy computes float16 through
    float32, where they are normal (no slow arithmetic to avoid)."""
    out[...] = values
    if out.dtype in _FLUSHED:
        out[np.abs(out) < np.finfo(out.dtype).tiny] = 0


_FLUSHED = (np.dtype(np.float32), np.dtype(np.float64))


def _step(p, bp, new_p, *slots):
    bp[...] = p
    p[...] = new_p
    return bool(np.isfinite(p).all() and all(np.isfinite(s).all() for s in slots))


def sgd(p, bp, g, keep, scale, clip, lr):
    g = _grad(g, scale, clip)
    return _step(p, bp, keep * p - lr * g)


def sgd_momentum(p, bp, g, m, m2, keep, scale, clip, lr, momentum):
    g = _grad(g, scale, clip)
    _store(m2, momentum * m - lr * g)
    return _step(p, bp, keep * p + m2, m2)


def sgd_nesterov(p, bp, g, m, m2, keep, scale, clip, lr, momentum):
    g = _grad(g, scale, clip)
    _store(m2, momentum * m - lr * g)
    return _step(p, bp, keep * p + momentum * m2 - lr * g, m2)


def _rms(g, vel, vel2, avg, avg2, rho, c_rho, eps):
    _store(vel2, rho * vel + c_rho * g * g)
    if avg is None:
        return np.sqrt(vel2 + eps)
    _store(avg2, rho * avg + c_rho * g)
    return np.sqrt(vel2 - avg2 * avg2 + eps)


def rmsprop(p, bp, g, vel, vel2, keep, scale, clip, lr, rho, c_rho, eps, momentum):
    g = _grad(g, scale, clip)
    return _step(p, bp, keep * p - lr * g / _rms(g, vel, vel2, None, None, rho, c_rho, eps),
                 vel2)


def rmsprop_momentum(p, bp, g, vel, mom, vel2, mom2, keep, scale, clip, lr, rho, c_rho, eps,
                     momentum):
    g = _grad(g, scale, clip)
    _store(mom2, momentum * mom + lr * g / _rms(g, vel, vel2, None, None, rho, c_rho, eps))
    return _step(p, bp, keep * p - mom2, vel2, mom2)


def rmsprop_centered(p, bp, g, vel, avg, vel2, avg2, keep, scale, clip, lr, rho, c_rho, eps,
                     momentum):
    g = _grad(g, scale, clip)
    return _step(p, bp, keep * p - lr * g / _rms(g, vel, vel2, avg, avg2, rho, c_rho, eps),
                 vel2, avg2)


def rmsprop_centered_momentum(p, bp, g, vel, avg, mom, vel2, avg2, mom2, keep, scale, clip, lr,
                              rho, c_rho, eps, momentum):
    g = _grad(g, scale, clip)
    _store(mom2, momentum * mom + lr * g / _rms(g, vel, vel2, avg, avg2, rho, c_rho, eps))
    return _step(p, bp, keep * p - mom2, vel2, avg2, mom2)


def adam(p, bp, g, m, v, m2, v2, keep, scale, clip, alpha, b1, c1, b2, c2, eps):
    g = _grad(g, scale, clip)
    _store(m2, b1 * m + c1 * g)
    _store(v2, b2 * v + c2 * g * g)
    return _step(p, bp, keep * p - alpha * m2 / (np.sqrt(v2) + eps), m2, v2)


def adam_amsgrad(p, bp, g, m, v, vhat, m2, v2, vhat2, keep, scale, clip, alpha, b1, c1, b2, c2,
                 eps):
    g = _grad(g, scale, clip)
    _store(m2, b1 * m + c1 * g)
    _store(v2, b2 * v + c2 * g * g)
    np.maximum(vhat, v2, out=vhat2)
    return _step(p, bp, keep * p - alpha * m2 / (np.sqrt(vhat2) + eps), m2, v2, vhat2)


def adamax(p, bp, g, m, u, m2, u2, keep, scale, clip, alpha, b1, c1, b2, eps):
    g = _grad(g, scale, clip)
    _store(m2, b1 * m + c1 * g)
    _store(u2, np.maximum(b2 * u, np.abs(g)))
    return _step(p, bp, keep * p - alpha * m2 / (u2 + eps), m2, u2)


def nadam(p, bp, g, m, v, m2, v2, keep, scale, clip, lr, b1, c1, b2, c2, cm, cg, inv_bc2, eps):
    g = _grad(g, scale, clip)
    _store(m2, b1 * m + c1 * g)
    _store(v2, b2 * v + c2 * g * g)
    return _step(p, bp, keep * p - lr * (cm * m2 + cg * g) / (np.sqrt(v2 * inv_bc2) + eps),
                 m2, v2)


def adagrad(p, bp, g, acc, acc2, keep, scale, clip, lr, eps):
    g = _grad(g, scale, clip)
    acc2[...] = acc + g * g
    return _step(p, bp, keep * p - lr * g / np.sqrt(acc2 + eps), acc2)


def adadelta(p, bp, g, acc_g, acc_d, acc_g2, acc_d2, keep, scale, clip, lr, rho, c_rho, eps):
    g = _grad(g, scale, clip)
    _store(acc_g2, rho * acc_g + c_rho * g * g)
    d = -np.sqrt(acc_d + eps) * g / np.sqrt(acc_g2 + eps)
    _store(acc_d2, rho * acc_d + c_rho * d * d)
    return _step(p, bp, keep * p + lr * d, acc_g2, acc_d2)


from kerasnp.optimizers._reference_more import (ftrl, lamb, lion,  # noqa: E402,F401
                                                schedule_free_adamw)
