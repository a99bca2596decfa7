"""Torch parity of the new NumPy-like ops: values and gradients (float64) against torch's
autograd where torch has the same function."""
import numpy as np
import pytest

from kerasnp import ops
from kerasnp.autodiff import GradientTape

torch = pytest.importorskip("torch")
rng = np.random.default_rng(13)
X = rng.uniform(0.3, 1.7, (3, 4))
Y = rng.uniform(0.3, 1.7, (3, 4))
V3 = rng.standard_normal((5, 3))
W3 = rng.standard_normal((5, 3))

# name: (kerasnp f, torch f, inputs)
PAIRS = {
    "cbrt": (ops.cbrt, lambda a: torch.sign(a) * a.abs() ** (1 / 3), (X,)),
    "exp2": (ops.exp2, torch.exp2, (X,)),
    "sinc": (ops.sinc, torch.sinc, (X - 1,)),
    "erfc": (ops.erfc, torch.special.erfc, (X,)),
    "erfinv": (ops.erfinv, torch.special.erfinv, (X / 2,)),
    "i0": (ops.i0, torch.special.i0, (X * 3,)),
    "hypot": (ops.hypot, torch.hypot, (X, Y)),
    "fmod": (ops.fmod, torch.fmod, (X * 3, Y)),
    "logaddexp2": (ops.logaddexp2, torch.logaddexp2, (X, Y)),
    "kron": (ops.kron, torch.kron, (X[:2, :3], Y[:2])),
    "cross": (ops.cross, lambda a, b: torch.linalg.cross(a, b), (V3, W3)),
    "cdist": (ops.cdist, torch.cdist, (V3, W3[:4])),
    "diff": (lambda a: ops.diff(a, 2), lambda a: torch.diff(torch.diff(a)), (X,)),
    "trapezoid": (ops.trapezoid, torch.trapezoid, (X,)),
    "nansum": (lambda a: ops.nansum(a, axis=1), lambda a: torch.nansum(a, 1), (X,)),
    "nanmean": (lambda a: ops.nanmean(a, axis=0), lambda a: torch.nanmean(a, 0), (X,)),
    "quantile": (lambda a: ops.quantile(a, [0.3, 0.8], axis=1),
                 lambda a: torch.quantile(a, torch.tensor([0.3, 0.8], dtype=a.dtype), dim=1),
                 (X,)),
    "median_even": (lambda a: ops.median(a, axis=1),
                    lambda a: torch.quantile(a, 0.5, dim=1), (X,)),
    "corrcoef": (ops.corrcoef, torch.corrcoef, (X,)),
    "vander": (lambda a: ops.vander(a, 4, increasing=True),
               lambda a: torch.linalg.vander(a, N=4), (X[0],)),
    "rot90": (lambda a: ops.rot90(a, 1), lambda a: torch.rot90(a, 1), (X,)),
    "diagflat": (ops.diagflat, torch.diagflat, (X[0],)),
    "hstack": (lambda a, b: ops.hstack([a, b]), lambda a, b: torch.hstack([a, b]), (X, Y)),
    "segment_sum": (lambda a: ops.segment_sum(a, np.array([0, 1, 0])),
                    lambda a: torch.zeros(2, 4, dtype=a.dtype).index_add(
                        0, torch.tensor([0, 1, 0]), a), (X,)),
}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_values_and_gradients_match_torch(name):
    f, tf, inputs = PAIRS[name]
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    with GradientTape() as tape:
        tape.watch(arrays)
        y = f(*arrays)
        w = rng.standard_normal(np.shape(y))
        loss = ops.sum(ops.multiply(y, w))
    grads = tape.gradient(loss, arrays)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ty = tf(*ts)
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(np.asarray(y), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    for g, t in zip(grads, ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-8, atol=1e-10)
