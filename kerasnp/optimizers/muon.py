"""Muon (Jordan et al., 2024): momentum orthogonalised by a Newton-Schulz iteration for the 2-D
weights, AdamW for the others (Keras 3's formulation, with Moonlight's RMS matching)."""
import math
import numbers
import re

import numpy as np

from kerasnp import _validate as validate
from kerasnp.optimizers.base import Optimizer, registry


@registry.register("muon", "Muon")
class Muon(Optimizer):
    """Muon.

    A 2-D weight (not an embedding when `exclude_embeddings`, not matched by `exclude_layers`)
    gets `m = momentum * m + g`, `u = g + momentum * m` (Nesterov) or `m`,
    `w -= lr * NS(u) * sqrt(max(rows, cols)) * rms_rate`, where `NS` runs `ns_steps` quintic
    Newton-Schulz iterations `X = a X + (b A + c A²) X`, `A = X Xᵀ`, from `u / ||u||` (an
    approximate orthogonalisation `U Vᵀ` of `u`), and decays by `weight_decay`. Every other
    weight takes an AdamW step with `lr * adam_lr_ratio`, `adam_beta_1`, `adam_beta_2`,
    `epsilon` and decays by `adam_weight_decay`.

    Slots: `momentum` and `velocity` for every variable (Keras gives `velocity` only to the
    AdamW weights; here it stays zero for the others).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        adam_beta_1, adam_beta_2: floats in [0, 1), AdamW's moment decays.
        adam_weight_decay: None or float >= 0, AdamW's decoupled weight decay.
        epsilon: float >= 0, AdamW's epsilon.
        weight_decay: None or float >= 0, the Muon weights' decoupled weight decay.
        exclude_layers: list of regular expressions; weights whose path matches one use AdamW.
        exclude_embeddings: weights with "embedding" in their path use AdamW.
        muon_a, muon_b, muon_c: the Newton-Schulz polynomial's coefficients.
        adam_lr_ratio: float > 0, AdamW's learning rate relative to `learning_rate`.
        momentum: float in [0, 1).
        ns_steps: int >= 0, the Newton-Schulz iterations.
        nesterov: use Nesterov momentum.
        rms_rate: None or float > 0; the update's RMS matching factor (None: no scaling).
        **kwargs: `clipnorm`, `clipvalue`, `global_clipnorm`, `use_ema`, `ema_momentum`,
            `ema_overwrite_frequency`, `name`.

    Example:
        >>> opt = Muon(learning_rate=0.02, exclude_layers=["head"])
    """

    _default_name = "muon"

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004,
                 exclude_layers=None, exclude_embeddings=True, muon_a=3.4445, muon_b=-4.775,
                 muon_c=2.0315, adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True,
                 rms_rate=0.2, **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)
        unit = dict(low=0.0, high=1.0, high_open=True)
        self.adam_beta_1 = validate.number(adam_beta_1, "adam_beta_1", self, **unit)
        self.adam_beta_2 = validate.number(adam_beta_2, "adam_beta_2", self, **unit)
        self.adam_weight_decay = None if adam_weight_decay is None else validate.number(
            adam_weight_decay, "adam_weight_decay", self, low=0.0)
        self.epsilon = validate.number(epsilon, "epsilon", self, low=0.0)
        if exclude_layers is not None and not (
                isinstance(exclude_layers, (list, tuple))
                and all(isinstance(p, str) for p in exclude_layers)):
            raise TypeError("Muon: argument `exclude_layers` must be None or a list of regular "
                            f"expressions. Received: exclude_layers={exclude_layers!r}")
        self.exclude_layers = list(exclude_layers or [])
        self.exclude_embeddings = validate.boolean(exclude_embeddings, "exclude_embeddings",
                                                   self)
        self.muon_a = validate.number(muon_a, "muon_a", self)
        self.muon_b = validate.number(muon_b, "muon_b", self)
        self.muon_c = validate.number(muon_c, "muon_c", self)
        self.adam_lr_ratio = _keep_int(validate.number(adam_lr_ratio, "adam_lr_ratio", self,
                                                       low=0.0, low_open=True), adam_lr_ratio)
        self.momentum = validate.number(momentum, "momentum", self, **unit)
        self.ns_steps = validate.non_negative_int(ns_steps, "ns_steps", self)
        self.nesterov = validate.boolean(nesterov, "nesterov", self)
        self.rms_rate = None if rms_rate is None else validate.number(
            rms_rate, "rms_rate", self, low=0.0, low_open=True)

    def _should_use_adamw(self, var):
        if var.value.ndim != 2:
            return True
        if self.exclude_embeddings and "embedding" in var.path.lower():
            return True
        return any(re.search(p, var.path) for p in self.exclude_layers)

    def _update_slot_names(self):
        return ("momentum", "velocity")

    def _variant(self):
        return "muon"

    def _kernel_for(self, var):
        adam = self._should_use_adamw(var)

        def kernel(p, bp, g, m, v, m2, v2, keep, scale, clip, lr, step):
            # The decay differs between the two kinds of weight: recompute it here (`keep`
            # carries the base's `weight_decay` only).
            st = self._states.get(id(var))
            wd = self.adam_weight_decay if adam else self.weight_decay
            t = p.dtype.type
            keep = t(1.0 - lr * wd) if wd and (st is None or st.decay) else t(1.0)
            g = np.clip(g * scale, -clip, clip)
            if adam:
                new = self._adamw(p * keep, g, m, v, m2, v2, float(lr), int(step))
            else:
                v2[...] = v
                new = self._muon(p.reshape(var.value.shape) * keep,
                                 g.reshape(var.value.shape), m, m2, float(lr)).reshape(-1)
            bp[...] = p
            p[...] = new
            return bool(np.isfinite(p).all() and np.isfinite(m2).all()
                        and np.isfinite(v2).all())
        return kernel

    def _adamw(self, w, g, m, v, m2, v2, lr, step):
        b1, b2 = self.adam_beta_1, self.adam_beta_2
        t = w.dtype.type
        alpha = t(lr * self.adam_lr_ratio * math.sqrt(1.0 - b2 ** step) / (1.0 - b1 ** step))
        m2[...] = m + (g - m) * t(1.0 - b1)
        v2[...] = v + (g * g - v) * t(1.0 - b2)
        return w - m2 * alpha / (np.sqrt(v2) + t(self.epsilon))

    def _muon(self, w, g, m, m2, lr):
        t = w.dtype.type
        m2[...] = t(self.momentum) * m + g.reshape(-1)           # m = μ·m + g
        mm = m2.reshape(w.shape)
        u = g + t(self.momentum) * mm if self.nesterov else mm
        update = _newton_schulz(u, self.ns_steps, self.muon_a, self.muon_b, self.muon_c)
        if self.rms_rate is not None:
            update = update * t(math.sqrt(max(w.shape[0], w.shape[1])) * self.rms_rate)
        return w - t(lr) * update

    def _hyper(self, lr, step):
        return (lr, step)

    def get_config(self):
        return {**super().get_config(), "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2, "epsilon": self.epsilon,
                "exclude_layers": list(self.exclude_layers), "muon_a": self.muon_a,
                "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate}


def _keep_int(checked, given):
    """Keras keeps an int `adam_lr_ratio` as an int in its config."""
    return given if isinstance(given, numbers.Integral) else checked


def _newton_schulz(x, steps, a, b, c):
    """Quintic Newton-Schulz iteration towards the orthogonal factor `U Vᵀ` of `x` (2-D)."""
    t = x.dtype.type
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = x.T
    x = x / (np.linalg.norm(x) + t(1e-7))
    for _ in range(steps):
        s = x @ x.T                                            # A = X·Xᵀ
        x = t(a) * x + (t(b) * s + t(c) * (s @ s)) @ x         # X = aX + (bA + cA²)X
    return x.T if tall else x
