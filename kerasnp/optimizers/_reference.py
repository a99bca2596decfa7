"""NumPy twins of `_kernels.py`: same signatures, same in-place effect, obviously correct.

They are the oracle the kernel tests compare against, and the path used for dtypes that Numba
does not handle (float16). Scalars arrive cast to the weight dtype, so results keep that dtype.
"""
import numpy as np


def _grad(g, scale, clip):
    return np.clip(g * scale, -clip, clip)


def sgd(p, g, keep, scale, clip, lr):
    g = _grad(g, scale, clip)
    p[...] = keep * p - lr * g


def sgd_momentum(p, g, m, keep, scale, clip, lr, momentum):
    g = _grad(g, scale, clip)
    m[...] = momentum * m - lr * g
    p[...] = keep * p + m


def sgd_nesterov(p, g, m, keep, scale, clip, lr, momentum):
    g = _grad(g, scale, clip)
    m[...] = momentum * m - lr * g
    p[...] = keep * p + momentum * m - lr * g


def _rms(g, vel, avg, rho, c_rho, eps):
    vel[...] = rho * vel + c_rho * g * g
    if avg is None:
        return np.sqrt(vel + eps)
    avg[...] = rho * avg + c_rho * g
    return np.sqrt(vel - avg * avg + eps)


def rmsprop(p, g, vel, keep, scale, clip, lr, rho, c_rho, eps, momentum):
    g = _grad(g, scale, clip)
    p[...] = keep * p - lr * g / _rms(g, vel, None, rho, c_rho, eps)


def rmsprop_momentum(p, g, vel, mom, keep, scale, clip, lr, rho, c_rho, eps, momentum):
    g = _grad(g, scale, clip)
    mom[...] = momentum * mom + lr * g / _rms(g, vel, None, rho, c_rho, eps)
    p[...] = keep * p - mom


def rmsprop_centered(p, g, vel, avg, keep, scale, clip, lr, rho, c_rho, eps, momentum):
    g = _grad(g, scale, clip)
    p[...] = keep * p - lr * g / _rms(g, vel, avg, rho, c_rho, eps)


def rmsprop_centered_momentum(p, g, vel, avg, mom, keep, scale, clip, lr, rho, c_rho, eps,
                              momentum):
    g = _grad(g, scale, clip)
    mom[...] = momentum * mom + lr * g / _rms(g, vel, avg, rho, c_rho, eps)
    p[...] = keep * p - mom


def adam(p, g, m, v, keep, scale, clip, alpha, b1, c1, b2, c2, eps):
    g = _grad(g, scale, clip)
    m[...] = b1 * m + c1 * g
    v[...] = b2 * v + c2 * g * g
    p[...] = keep * p - alpha * m / (np.sqrt(v) + eps)


def adam_amsgrad(p, g, m, v, vhat, keep, scale, clip, alpha, b1, c1, b2, c2, eps):
    g = _grad(g, scale, clip)
    m[...] = b1 * m + c1 * g
    v[...] = b2 * v + c2 * g * g
    np.maximum(vhat, v, out=vhat)
    p[...] = keep * p - alpha * m / (np.sqrt(vhat) + eps)


def adamax(p, g, m, u, keep, scale, clip, alpha, b1, c1, b2, eps):
    g = _grad(g, scale, clip)
    m[...] = b1 * m + c1 * g
    u[...] = np.maximum(b2 * u, np.abs(g))
    p[...] = keep * p - alpha * m / (u + eps)


def nadam(p, g, m, v, keep, scale, clip, lr, b1, c1, b2, c2, cm, cg, inv_bc2, eps):
    g = _grad(g, scale, clip)
    m[...] = b1 * m + c1 * g
    v[...] = b2 * v + c2 * g * g
    p[...] = keep * p - lr * (cm * m + cg * g) / (np.sqrt(v * inv_bc2) + eps)


def adagrad(p, g, acc, keep, scale, clip, lr, eps):
    g = _grad(g, scale, clip)
    acc += g * g
    p[...] = keep * p - lr * g / np.sqrt(acc + eps)


def adadelta(p, g, acc_g, acc_d, keep, scale, clip, lr, rho, c_rho, eps):
    g = _grad(g, scale, clip)
    acc_g[...] = rho * acc_g + c_rho * g * g
    d = -np.sqrt(acc_d + eps) * g / np.sqrt(acc_g + eps)
    acc_d[...] = rho * acc_d + c_rho * d * d
    p[...] = keep * p + lr * d
