"""Test helper: one forward + backward of a layer or model on the tape.

`backward(layer, x, dy)` returns `(y, dx)` and leaves each trainable weight's gradient in its
`.grad`, which is what tests written for the first layer contract (`forward` then `backward`)
read. `x` may be a list for several inputs; `dx` follows it.
"""
import numpy as np

from kerasnp import ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import unwrap


def backward(layer, x, dy, training=True):
    xs = list(x) if isinstance(x, (list, tuple)) else [x]
    xs = [np.array(a) for a in xs]
    weights = layer.trainable_weights
    with GradientTape() as tape:
        tape.watch(xs)
        y = layer(xs if isinstance(x, (list, tuple)) else xs[0], training=training)
        ys = y if isinstance(y, (list, tuple)) else [y]
        dys = dy if isinstance(y, (list, tuple)) else [dy]
        total = None
        for a, d in zip(ys, dys):
            term = ops.sum(a * np.asarray(d))
            total = term if total is None else total + term
    grads = tape.gradient(total, xs + weights)
    for v, g in zip(weights, grads[len(xs):]):
        v.grad = np.zeros_like(v.value) if g is None else np.asarray(g, v.value.dtype)
    dx = list(grads[:len(xs)])          # None where the layer gives its input no gradient
    out = [unwrap(a) for a in ys] if isinstance(y, (list, tuple)) else unwrap(ys[0])
    return out, (dx if isinstance(x, (list, tuple)) else dx[0])
