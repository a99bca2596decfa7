"""Adafactor (Shazeer & Stern, 2018), Keras 3's formulation: second moments of matrices kept
factored as row and column means, so the optimizer state grows like `rows + cols`."""
import functools
import math

import numpy as np

from kerasnp import _validate as validate
from kerasnp.optimizers.base import Optimizer, registry


@registry.register("adafactor", "Adafactor")
class Adafactor(Optimizer):
    """Adafactor.

    At step `t`, with `G = g² + epsilon_1` and `b_t = 1 - t^beta_2_decay`: for a weight of rank
    >= 2 (its last two axes factored) `r = b_t r + (1 - b_t) mean(G, -1)`,
    `c = b_t c + (1 - b_t) mean(G, -2)`, `v = r / mean(r, -1) ⊗ c`; for lower ranks
    `v = b_t v + (1 - b_t) G`. Then `u = g / sqrt(v)`, clipped to
    `u / max(1, rms(u) / clip_threshold)`, and `w -= max(epsilon_2, rms(w)) * rho_t * u` with
    `rho_t = min(lr, 1 / sqrt(t))`.

    Slots: `r` (shape `w.shape[:-1]`), `c` (`w.shape[:-2] + w.shape[-1:]`) and `velocity`
    (`w.shape`); for weights of rank < 2, `r` and `c` are unused scalars.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_2_decay: float < 0, the decay exponent of the second moment's rate.
        epsilon_1: float >= 0, added to the squared gradients.
        epsilon_2: float >= 0, the smallest weight scale.
        clip_threshold: float > 0, the largest RMS of an update.
        relative_step: kept for Keras compatibility (the step is always capped by `1/sqrt(t)`).
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `use_ema`,
            `ema_momentum`, `ema_overwrite_frequency`, `name`.

    Example:
        >>> opt = Adafactor(learning_rate=0.01)
    """

    _default_name = "adafactor"

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_2_decay = validate.number(beta_2_decay, "beta_2_decay", self, high=0.0,
                                            high_open=True)
        self.epsilon_1 = validate.number(epsilon_1, "epsilon_1", self, low=0.0)
        self.epsilon_2 = validate.number(epsilon_2, "epsilon_2", self, low=0.0)
        self.clip_threshold = validate.number(clip_threshold, "clip_threshold", self, low=0.0,
                                              low_open=True)
        self.relative_step = validate.boolean(relative_step, "relative_step", self)

    def _update_slot_names(self):
        return ("r", "c", "velocity")

    def _slot_shape(self, name, shape):
        if name not in ("r", "c"):                   # velocity, and the EMA's average
            return shape
        if len(shape) < 2:
            return ()
        return shape[:-1] if name == "r" else shape[:-2] + shape[-1:]

    def _kernel_for(self, var):
        return functools.partial(_adafactor, var.value.shape)

    def _variant(self):
        return "adafactor"

    def _hyper(self, lr, step):
        return (min(lr, 1.0 / math.sqrt(step)), self.epsilon_1, self.epsilon_2,
                1.0 - step ** self.beta_2_decay, self.clip_threshold)

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}


def _rms(x):
    return np.sqrt(np.mean(x * x))


def _adafactor(shape, p, bp, g, r, c, v, r2, c2, v2, keep, scale, clip, rho, eps1, eps2, b,
               clip_threshold):
    """The step on flat arrays (the kernel contract of `_kernels.py`), reshaped with `shape`."""
    g = np.clip(g * scale, -clip, clip).reshape(shape)
    w = keep * p.reshape(shape)
    big = b.dtype.type(1.0) - b
    sq = g * g + eps1
    vn = v2.reshape(shape)
    if len(shape) >= 2:
        rn, cn = r2.reshape(shape[:-1]), c2.reshape(shape[:-2] + shape[-1:])
        rn[...] = b * r.reshape(rn.shape) + big * sq.mean(axis=-1)
        cn[...] = b * c.reshape(cn.shape) + big * sq.mean(axis=-2)
        vn[...] = (rn / rn.mean(axis=-1, keepdims=True))[..., None] * cn[..., None, :]
    else:
        r2[...] = r
        c2[...] = c
        vn[...] = b * v.reshape(shape) + big * sq
    u = g / np.sqrt(vn)
    u = u / max(1.0, _rms(u) / clip_threshold)
    alpha = max(eps2, _rms(w)) * rho
    bp[...] = p
    p[...] = (w - alpha * u).reshape(-1)
    return bool(np.isfinite(p).all() and np.isfinite(v2).all() and np.isfinite(r2).all()
                and np.isfinite(c2).all())
