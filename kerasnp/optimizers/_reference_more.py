"""NumPy twins of `_kernels_more.py` (the test oracle and the float16 path)."""
import numpy as np

from kerasnp.optimizers._reference import _grad, _step, _store


def lion(p, bp, g, m, m2, keep, scale, clip, lr, b1, c1, b2, c2):
    g = _grad(g, scale, clip)
    m2[...] = b2 * m + c2 * g
    return _step(p, bp, keep * p - lr * np.sign(b1 * m + c1 * g), m2)


def lamb(p, bp, g, m, v, m2, v2, keep, scale, clip, lr, b1, c1, b2, c2, inv_bc1, inv_bc2, eps):
    g = _grad(g, scale, clip)
    _store(m2, b1 * m + c1 * g)
    _store(v2, b2 * v + c2 * g * g)
    w = keep * p
    r = m2 * inv_bc1 / (np.sqrt(v2 * inv_bc2) + eps)
    wn, rn = np.sqrt(np.sum(w * w)), np.sqrt(np.sum(r * r))
    ratio = wn / rn if wn > 0 and rn > 0 else 1.0
    return _step(p, bp, w - (ratio * lr) * r, m2, v2)


def ftrl(p, bp, g, acc, lin, acc2, lin2, keep, scale, clip, lr, power, l1, l2, shrink2):
    g = _grad(g, scale, clip)
    w = keep * p
    acc2[...] = acc + g * g
    lin2[...] = lin + g + shrink2 * w - (acc2 ** -power - acc ** -power) / lr * w
    quad = acc2 ** -power / lr + 2.0 * l2
    return _step(p, bp, (np.clip(lin2, -l1, l1) - lin2) / quad, acc2, lin2)


def schedule_free_adamw(p, bp, g, z, v, z2, v2, keep, scale, clip, lr, b1, c1, b2, c2, inv_bc2,
                        eps, w):
    g = _grad(g, scale, clip)
    _store(v2, b2 * v + c2 * g * g)
    z2[...] = z - lr * g / (np.sqrt(v2 * inv_bc2) + eps)
    x = (keep * p - c1 * z) / b1
    x = (1 - w) * x + w * z2
    return _step(p, bp, c1 * z2 + b1 * x, v2, z2)
