"""Test helper for ops: the tape's gradient of `Σ w·f(*inputs)` against float64 central
differences (eps 1e-6), `w` random so every output element is weighed differently."""
import numpy as np

from kerasnp import ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import Tensor


def _weighted_sum(out, ws):
    outs = out if isinstance(out, (list, tuple)) else [out]
    total = 0.0
    for o, w in zip(outs, ws):
        total = total + np.sum(np.asarray(o) * w)
    return total


def numeric_grads(f, arrays, ws, eps=1e-6):
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + eps
            fp = _weighted_sum(f(*arrays), ws)
            a[i] = old - eps
            fm = _weighted_sum(f(*arrays), ws)
            a[i] = old
            g[i] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads


def tape_grads(f, arrays, ws):
    with GradientTape() as tape:
        tape.watch(arrays)
        out = f(*arrays)
        outs = out if isinstance(out, (list, tuple)) else [out]
        for o in outs:
            assert type(o) is Tensor, f"expected a Tensor inside the tape, got {type(o)}"
        loss = None
        for o, w in zip(outs, ws):
            term = ops.sum(ops.multiply(o, w))
            loss = term if loss is None else ops.add(loss, term)
    return tape.gradient(loss, arrays)


def check_grad(f, *inputs, rtol=1e-5, atol=1e-7, seed=0):
    """Assert that the tape's gradients of `f` match central differences (float64)."""
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    out = f(*arrays)
    outs = out if isinstance(out, (list, tuple)) else [out]
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal(np.shape(o)) for o in outs]
    got = tape_grads(f, arrays, ws)
    want = numeric_grads(f, arrays, ws)
    for k, (g, n, a) in enumerate(zip(got, want, arrays)):
        assert g is not None, f"no gradient for input {k}"
        assert np.shape(g) == a.shape, f"input {k}: gradient shape {np.shape(g)} != {a.shape}"
        np.testing.assert_allclose(g, n, rtol=rtol, atol=atol, err_msg=f"input {k}")
