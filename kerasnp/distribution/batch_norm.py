"""Training-mode batch normalization with the statistics of the GLOBAL batch.

The same math as `kerasnp.ops` batch normalization (biased variance, Keras's moving-average
rule), with every per-feature sum taken over all processes through an `all_reduce(buffer)`
callable: the mean and the variance in the forward pass (two passes, as one process computes
them), `Σdy` and `Σdy·x̂` in the backward pass. `BatchNormalization` calls it in training when
`kerasnp.distribution.distribution()` spans several processes.
"""
import numpy as np

from ..autodiff.tape import is_tracked
from ..ops._conv_norm import _Layout, _record
from ..ops._dispatch import value


def batch_norm_train_global(x, gamma, beta, moving_mean, moving_variance, axis, momentum,
                            epsilon, all_reduce):
    """`y = γ·(x - μ)/sqrt(σ² + ε) + β` with `μ`, `σ²` of the global batch (one tape node).

    Args:
        x: this process's rows of the batch; statistics over every axis but `axis`.
        gamma, beta: `(c,)` variables (or None); moving_mean, moving_variance: the variables
            updated with the global statistics (identical on every process).
        axis, momentum, epsilon: as `BatchNormalization`'s.
        all_reduce: callable summing a float64-or-float32 1-D buffer over all processes in
            place (`Distribution.all_reduce`).

    Example:
        >>> import numpy as np
        >>> from kerasnp.variables import Variable
        >>> mm, mv = Variable(np.zeros(1)), Variable(np.ones(1))
        >>> y = batch_norm_train_global(np.array([[0.0], [2.0]]), None, None, mm, mv, -1,
        ...                             0.5, 1e-3, all_reduce=lambda b: b)   # one process
        >>> float(mm.value[0])
        0.5
    """
    a = value(x)
    lay = _Layout(a.shape, axis)
    dt = a.dtype.type
    x2 = lay.view(a)
    g = None if gamma is None else value(gamma)
    c = value(moving_mean).size
    buf = np.empty(c + 1, a.dtype)
    buf[:c] = lay.sum(x2)
    buf[c] = x2.size // c
    all_reduce(buf)
    m = dt(buf[c])
    mean = buf[:c] / m                                                  # μ over all processes
    xc = x2 - lay.b(mean)
    var = all_reduce(np.ascontiguousarray(lay.dot(xc, xc))) / m         # σ² (biased), global
    inv = 1.0 / np.sqrt(var + dt(epsilon))
    xhat = np.multiply(xc, lay.b(inv), out=xc)
    k = inv if g is None else g * inv
    mo = dt(momentum)
    moving_mean.assign(value(moving_mean) * mo + mean * (1 - mo))
    moving_variance.assign(value(moving_variance) * mo + var * (1 - mo))
    y = xhat * lay.b(g) if g is not None else xhat.copy()
    if beta is not None:
        y += lay.b(value(beta))
    need_dx = is_tracked(x)

    def vjp(dy):
        dy2 = lay.view(dy)
        s_dyx = lay.dot(dy2, xhat)                     # local dγ = Σ dy·x̂ (summed with grads)
        s_dy = lay.sum(dy2)                            # local dβ = Σ dy
        if not need_dx:
            return None, s_dyx, s_dy
        tot = all_reduce(np.concatenate([s_dyx, s_dy]))
        # dx = γ/σ · (dy - Σdy/m - x̂·Σ(dy·x̂)/m), the sums over the global batch
        dx = np.multiply(xhat, lay.b(-tot[:c] / m))
        dx += dy2
        dx -= lay.b(tot[c:] / m)
        dx *= lay.b(k)
        return dx.reshape(a.shape), s_dyx, s_dy
    return _record(y.reshape(a.shape), vjp, x, gamma, beta)
