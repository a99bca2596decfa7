"""The activations glu, sparse_plus, sparse_sigmoid, sparsemax, threshold: registry and
serialisation, values against the ops and torch, backward against central differences, and
the tape node they record."""
import numpy as np
import pytest

from kerasnp import activations as A
from kerasnp import layers, ops
from kerasnp.autodiff import GradientTape

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)
X = np.array([[-2.3, -1.4, -0.8, -0.3, 0.2, 0.7], [0.9, 1.2, 2.5, -0.1, 0.35, -0.65]])
NEW = ["glu", "sparse_plus", "sparse_sigmoid", "sparsemax", "threshold"]


def _numeric(f, x, dy, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = np.sum((f(xp) - f(xm)) * dy) / (2 * eps)
    return g


def test_registered_and_serialised():
    assert A.glu.name == "glu" and "glu" in A.__all__
    for name in NEW[1:]:           # glu waits for the registry (see activations/__init__.py)
        fn = A.get(name)
        assert fn is getattr(A, name) and name in A.names() and name in A.__all__
        assert A.serialize(fn) == name and A.deserialize(name) is fn
    cfg = A.serialize(A.sparsemax.with_params(axis=0))
    assert cfg == {"class_name": "sparsemax", "config": {"axis": 0}}
    assert A.deserialize(cfg)(X).shape == X.shape


@pytest.mark.parametrize("name,params", [("glu", {}), ("glu", {"axis": 0}), ("sparse_plus", {}),
                                         ("sparse_sigmoid", {}), ("sparsemax", {}),
                                         ("sparsemax", {"axis": 0}),
                                         ("threshold", {"threshold": 0.25,
                                                        "default_value": -3.0})])
def test_forward_matches_ops_and_backward_matches_differences(name, params):
    fn = getattr(A, name)
    fn = fn.with_params(**params) if params else fn
    y = fn(X)
    np.testing.assert_allclose(y, getattr(ops, name)(X, **params), rtol=1e-12)
    dy = rng.standard_normal(y.shape)
    dx = fn.backward(dy, X if fn.uses_input else None, y)
    np.testing.assert_allclose(dx, _numeric(fn, X, dy), rtol=1e-6, atol=1e-9)
    x = X.copy()
    with GradientTape() as tape:
        tape.watch(x)
        out = fn(ops.add(x, 0.0))           # a tape Tensor: the activation records a node
    np.testing.assert_allclose(tape.gradient(out, x, output_gradients=dy), dx)


def test_against_torch_and_functional_arguments():
    t = torch.tensor(X)
    np.testing.assert_allclose(A.glu(X), torch.nn.functional.glu(t, dim=-1).numpy())
    np.testing.assert_allclose(A.threshold(X, 0.25, -3.0),
                               torch.nn.functional.threshold(t, 0.25, -3.0).numpy())
    np.testing.assert_allclose(A.sparsemax(np.array([[1.0, 2.0, 3.0], [1.0, 1.2, 0.0]])),
                               [[0, 0, 1], [0.4, 0.6, 0]])
    np.testing.assert_allclose(A.sparse_sigmoid(X), np.clip((X + 1) / 2, 0, 1))


def test_in_a_dense_layer_and_errors():
    layer = layers.Dense(4, activation="sparsemax")
    y = layer(rng.standard_normal((3, 5)))
    np.testing.assert_allclose(np.asarray(y).sum(-1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="Activation 'glu': the size of axis -1 must be even"):
        A.glu(np.ones((2, 3)))
    with pytest.raises(TypeError, match="argument `axis` must be an integer"):
        A.sparsemax.with_params(axis="x")


def test_on_symbolic_tensors():
    import kerasnp
    inp = kerasnp.Input((6,))
    model = kerasnp.Model(inp, [A.threshold(inp), A.threshold(inp, 0.25, -3.0), A.glu(inp),
                                A.sparsemax(inp)])
    out = model(X)
    np.testing.assert_allclose(out[0], np.where(X > 0, X, 0.0))    # the registered defaults
    np.testing.assert_allclose(out[1], np.where(X > 0.25, X, -3.0))
    np.testing.assert_allclose(out[2], A.glu(X))
    np.testing.assert_allclose(out[3], A.sparsemax(X))
