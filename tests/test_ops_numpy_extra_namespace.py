"""`kerasnp.ops.numpy` (Keras's `keras.ops.numpy` names, the same objects as `kerasnp.ops`) and
the new NumPy-like ops on symbolic tensors: graph nodes in a functional model, with the right
static shapes, values and gradients."""
import numpy as np

import kerasnp
from kerasnp import ops
from kerasnp.autodiff import GradientTape
from kerasnp.ops import numpy as knp

NEW = """allclose append argpartition array array_split bincount cbrt cdist copy corrcoef correlate
cross deg2rad diagflat diff digitize divide_no_nan dsplit dstack dtype empty empty_like erfc
erfinv exp2 extract_sequences fabs fliplr flipud fmax fmin fmod gcd geomspace heaviside histogram
hsplit hstack hypot i0 isclose isin isneginf isposinf kron lcm ldexp logaddexp2 logspace median
meshgrid nan_to_num nanargmax nanargmin nancumprod nancumsum nanmax nanmean nanmedian nanmin
nanpercentile nanprod nanquantile nanstd nansum nanvar nextafter nonzero percentile ptp quantile
rad2deg rearrange rot90 saturate_cast scatter scatter_update searchsorted segment_max segment_min
segment_prod segment_sum select signbit sinc trapezoid tri trunc unique unravel_index vander view
vsplit vstack bitwise_and bitwise_invert bitwise_left_shift bitwise_not bitwise_or
bitwise_right_shift bitwise_xor left_shift right_shift bartlett blackman hamming hanning
kaiser""".split()
# In keras.ops but not keras.ops.numpy (Keras 3.15.1).
OPS_ONLY = {"cdist", "dtype", "erfc", "erfinv", "extract_sequences", "rearrange", "saturate_cast",
            "scatter", "scatter_update", "segment_max", "segment_min", "segment_prod",
            "segment_sum"}


def test_new_names_are_in_ops_and_registered():
    for name in NEW:
        assert name in ops.__all__, name
        assert ops.OPS[name] is getattr(ops, name), name
    assert ops.dtype(kerasnp.Input((3,), dtype="int32")) == "int32"    # a query, no node


def test_numpy_namespace_reexports_the_same_objects():
    for name in knp.__all__:
        assert getattr(knp, name) is getattr(ops, name), name
    for name in NEW:
        assert (name in knp.__all__) == (name not in OPS_ONLY), name
    for name in ("add", "matmul", "sum", "reshape", "where", "median", "vstack"):
        assert name in knp.__all__
    assert "relu" not in knp.__all__ and "segment_sum" not in knp.__all__
    assert set(knp.__all__) <= set(knp.KERAS_NAMES)


def test_new_ops_build_functional_graph_nodes():
    x = kerasnp.Input((6,))
    h = kerasnp.layers.Dense(6)(x)
    parts = ops.array_split(h, 2, axis=1)
    assert [p.shape for p in parts] == [(None, 3), (None, 3)]
    a = ops.hypot(parts[0], 1.0)
    b = ops.rearrange(ops.hstack([parts[1], a]), "b (k c) -> b c k", k=2)
    assert b.shape == (None, 3, 2)
    c = ops.nanmean(ops.diff(b, axis=1), axis=(1, 2))
    d = ops.median(ops.logaddexp2(h, 0.0), axis=1)
    assert c.shape == (None,) and d.shape == (None,)
    model = kerasnp.Model(x, c + d)
    data = np.random.default_rng(0).standard_normal((4, 6)).astype("float32")
    k, bias = (w.numpy() if hasattr(w, "numpy") else np.asarray(w)
               for w in model.layers[1].weights)
    hh = data @ k + bias
    bb = np.stack([hh[:, 3:], np.hypot(hh[:, :3], 1.0)], 1).reshape(4, 2, 3).transpose(0, 2, 1)
    want = np.diff(bb, axis=1).mean((1, 2)) + np.median(np.logaddexp2(hh, 0.0), axis=1)
    np.testing.assert_allclose(model.predict(data, verbose=0), want, rtol=1e-5, atol=1e-6)
    with GradientTape() as tape:
        loss = ops.sum(model(data))
    grads = tape.gradient(loss, model.trainable_variables)
    assert all(g is not None and np.all(np.isfinite(g)) for g in grads)
    assert np.any(np.asarray(grads[0]) != 0)
