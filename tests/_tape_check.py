"""Float64 central-difference checks of a layer's gradients, taken on the `GradientTape`.

`tape_gradient_errors(layer, x)` differentiates `sum(layer(x) * dy)` with the tape (the input and
every trainable weight) and compares each gradient with central differences of the same sum.
Layers that draw random numbers in training are re-seeded before every call, so all calls see
one draw. `x` may be a list of arrays (merging layers): each input gets its own entry,
`"input"`, `"input_1"`, ...
"""
import numpy as np

from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import unwrap
from kerasnp.utils.gradient_check import _numeric, _rel_err   # the checker's own differences


def _call(layer, x, training, seed):
    if seed is not None and hasattr(layer, "_rng"):       # None: keep the layer's generator
        layer._rng = np.random.default_rng(seed)
    return layer(x, training=training)


def tape_gradients(layer, x, dy, training=False, seed=0, check_input=True):
    """`(dxs, {weight name: gradient})` of `sum(layer(x) * dy)` from the tape (the layer's
    generator is re-seeded with `seed` first, unless `seed` is None)."""
    xs = list(x) if isinstance(x, (list, tuple)) else [x]
    weights = layer.trainable_weights
    with GradientTape() as tape:
        if check_input:
            for a in xs:
                tape.watch(a)
        y = _call(layer, x, training, seed)
    grads = tape.gradient(y, (xs if check_input else []) + weights, output_gradients=dy)
    n = len(xs) if check_input else 0
    return grads[:n], {v.name: g for v, g in zip(weights, grads[n:])}


def tape_gradient_errors(layer, x, dy=None, eps=1e-6, training=False, max_checks=60, seed=0,
                         check_input=True):
    """Max relative error of each tape gradient of `layer` at `x` (float64 arrays expected).

    Returns:
        dict mapping `"input"` (`"input_k"` for the k-th of several inputs) and each trainable
        weight's name to its max relative error. A missing (None) gradient counts as zeros.
    """
    rng = np.random.default_rng(seed)
    multi = isinstance(x, (list, tuple))
    xs = [np.array(a, dtype=np.float64) if check_input else np.asarray(a)
          for a in (x if multi else [x])]
    arg = xs if multi else xs[0]
    y = unwrap(_call(layer, arg, training, seed))
    if dy is None:
        dy = rng.standard_normal(np.shape(y))
    dxs, dws = tape_gradients(layer, arg, dy, training, seed, check_input)

    def f():
        return float(np.sum(unwrap(_call(layer, arg, training, seed)) * dy))

    errors = {}
    for k, (a, g) in enumerate(zip(xs, dxs)):
        g = np.zeros_like(a) if g is None else np.asarray(g)
        assert g.shape == a.shape, (g.shape, a.shape)
        idx, num = _numeric(f, a, eps, max_checks, rng)
        errors["input" if k == 0 else f"input_{k}"] = _rel_err(g.reshape(-1)[idx], num)
    for v in layer.trainable_weights:
        g = dws[v.name]
        g = np.zeros_like(v.value) if g is None else np.asarray(g)
        assert g.shape == v.shape, (g.shape, v.shape)
        idx, num = _numeric(f, v.value, eps, max_checks, rng)
        errors[v.name] = _rel_err(g.reshape(-1)[idx], num)
    return errors
