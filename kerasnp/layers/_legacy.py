"""Run a first-contract layer (`forward` + `backward` writing `variable.grad`) as one tape op.

The layer keeps its per-call state on `self`, so the wrapper snapshots the layer's attributes
after `forward` and puts them back before `backward`: a layer of this kind may then be called
several times in one step. Its backward runs under a lock, since it writes `.grad` buffers.
New layers should write `call()` with ops instead (see the custom-layer guide).
"""
import threading

import numpy as np

from ..autodiff.tape import record, recording, unwrap

_LOCK = threading.RLock()


def legacy_call(layer, inputs, training):
    multi = isinstance(inputs, (list, tuple))
    xs = [unwrap(a) for a in inputs] if multi else [unwrap(inputs)]
    xs = [np.asarray(a) for a in xs]
    if not recording():
        return layer.forward(xs if multi else xs[0], training=training)
    with _LOCK:
        y = layer.forward(xs if multi else xs[0], training=training)
        snapshot = dict(layer.__dict__)
    weights = layer.trainable_weights
    ins = list(inputs) if multi else [inputs]

    def vjp(dy):
        with _LOCK:
            saved = dict(layer.__dict__)
            layer.__dict__.update(snapshot)
            old = [v.grad for v in weights]
            for v in weights:
                v.grad = np.zeros_like(v.value)
            try:
                dx = layer.backward(dy)
                dws = [v.grad for v in weights]
            finally:
                for v, g in zip(weights, old):
                    v.grad = g
                layer.__dict__.clear()
                layer.__dict__.update(saved)
        dxs = list(dx) if multi else [dx]
        return tuple(dxs) + tuple(dws)
    return record(y, vjp, *ins, *weights)
