"""Finite-difference gradient checks for layers (float64 central differences).

`layer_gradient_errors(layer, x)` runs the layer's own `backward` and compares every gradient it
produces (input and each weight) with central differences of `sum(forward(x) * dy)`. Layers that
draw random numbers in training are re-seeded before every forward, so all calls see one mask.
"""
import numpy as np


def _forward(layer, x, training, seed):
    if hasattr(layer, "_rng"):
        layer._rng = np.random.default_rng(seed)
    return layer.forward(x, training=training)


def _numeric(f, arr, eps, max_checks, rng):
    """Central differences of scalar f() w.r.t. entries of `arr` (modified in place, restored)."""
    flat = arr.reshape(-1)
    n = flat.size
    idx = np.arange(n) if n <= max_checks else rng.choice(n, max_checks, replace=False)
    num = np.zeros(len(idx))
    for k, i in enumerate(idx):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        num[k] = (fp - fm) / (2 * eps)
    return idx, num


def _rel_err(analytic, numeric):
    scale = max(np.max(np.abs(analytic), initial=0.0), np.max(np.abs(numeric), initial=0.0), 1e-8)
    return float(np.max(np.abs(analytic - numeric), initial=0.0) / scale)


def layer_gradient_errors(layer, x, dy=None, eps=1e-6, training=False, max_checks=60, seed=0,
                          check_input=True):
    """Max relative error of each gradient of `layer` at input `x` (float64 arrays expected).

    Returns:
        dict mapping `"input"` and each weight's name to its max relative error.
    """
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64)
    y = _forward(layer, x, training, seed)
    if dy is None:
        dy = rng.standard_normal(np.shape(y))
    for v in layer.weights:
        v.grad.fill(0)
    dx = layer.backward(dy.copy())
    grads = {v.name: v.grad.copy() for v in layer.weights if v.trainable}

    def f():
        return float(np.sum(_forward(layer, x, training, seed) * dy))

    errors = {}
    if check_input and dx is not None:
        idx, num = _numeric(f, x, eps, max_checks, rng)
        errors["input"] = _rel_err(np.asarray(dx).reshape(-1)[idx], num)
    for v in layer.weights:
        if not v.trainable:
            continue
        idx, num = _numeric(f, v.value, eps, max_checks, rng)
        errors[v.name] = _rel_err(grads[v.name].reshape(-1)[idx], num)
    return errors
