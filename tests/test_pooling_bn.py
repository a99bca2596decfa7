"""Behaviour of pooling, global pooling, BatchNormalization, spatial reshaping and SpatialDropout:
values against the NumPy reference kernels or hand computation, Keras "same" padding placement,
tie routing, moving statistics, frozen BatchNormalization and error messages."""
import json

import numpy as np
import pytest

import kerasnp as keras
from kerasnp.kernels import reference as ref
from kerasnp.layers import Dense, Flatten
from kerasnp.layers.batch_norm import BatchNormalization
from kerasnp.layers.global_pooling import (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                           GlobalMaxPooling1D, GlobalMaxPooling2D)
from kerasnp.layers.pooling import (AveragePooling1D, AveragePooling2D, MaxPooling1D,
                                    MaxPooling2D, MinPooling1D, MinPooling2D)
from kerasnp.layers.reshaping import Cropping2D, UpSampling2D, ZeroPadding2D
from kerasnp.layers.spatial_dropout import SpatialDropout1D, SpatialDropout2D

from _cases_conv import tape_gradients


def _x(shape, seed=0, dtype="float64"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _dx(layer, x, dy, training=False):
    """The input gradient of `Σ layer(x)·dy`, taken on the tape."""
    return tape_gradients(layer, x, dy, training)[1]


# ------------------------------------------------------------------------- local pooling
# (layer class, reference mode, pool, strides, padding, input hw, hand-resolved (t, b, l, r))
POOL_CASES = [
    (MaxPooling2D, "max", (2, 2), (2, 2), "valid", (6, 5), (0, 0, 0, 0)),
    (MaxPooling2D, "max", (3, 3), (2, 2), "same", (7, 6), (1, 1, 0, 1)),
    (MinPooling2D, "min", (2, 3), (1, 2), "same", (5, 6), (0, 1, 0, 1)),
    (MinPooling2D, "min", (3, 2), (3, 3), "same", (8, 7), (0, 1, 0, 1)),
    (AveragePooling2D, "avg", (3, 3), (2, 2), "same", (6, 5), (0, 1, 1, 1)),
    (AveragePooling2D, "avg", (2, 4), (3, 1), "valid", (7, 6), (0, 0, 0, 0)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls, mode, pool, strides, padding, hw, pads", POOL_CASES)
def test_pool2d_matches_reference_forward_and_backward(cls, mode, pool, strides, padding, hw,
                                                       pads, dtype):
    x = _x((2,) + hw + (3,), dtype=dtype)
    layer = cls(pool, strides=strides, padding=padding)
    y = layer(x)
    if mode == "avg":
        want = ref.avgpool2d_forward(x, pool, strides, pads)
    else:
        want, idx = ref.pool2d_forward(x, pool, strides, pads, mode)
    assert y.dtype == np.dtype(dtype)
    assert y.shape == (2,) + layer.compute_output_shape((None,) + x.shape[1:])[1:]
    np.testing.assert_allclose(y, want, rtol=1e-6 if dtype == "float32" else 1e-12)
    dy = _x(y.shape, seed=1, dtype=dtype)
    dx = _dx(layer, x, dy)
    want_dx = (ref.avgpool2d_backward(dy, x.shape, pool, strides, pads) if mode == "avg"
               else ref.pool2d_backward(dy, idx, x.shape))
    assert dx.dtype == np.dtype(dtype) and dx.shape == x.shape
    np.testing.assert_allclose(dx, want_dx, rtol=1e-5 if dtype == "float32" else 1e-12,
                               atol=1e-7 if dtype == "float32" else 0)


# length, pool, stride -> the averaged windows Keras/TensorFlow "same" produces (the extra
# padded position goes at the end), checked with average pooling on 0, 1, 2, ...
SAME_WINDOWS = [
    (5, 2, 2, [[0, 1], [2, 3], [4]]),                        # odd length, pad (0, 1)
    (6, 2, 2, [[0, 1], [2, 3], [4, 5]]),                     # even length, no pad
    (6, 3, 2, [[0, 1, 2], [2, 3, 4], [4, 5]]),               # even, stride 2, pad (0, 1)
    (5, 3, 1, [[0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4]]),   # pad (1, 1)
    (7, 3, 3, [[0, 1], [2, 3, 4], [5, 6]]),                  # stride 3, pad (1, 1)
    (8, 4, 3, [[0, 1, 2], [2, 3, 4, 5], [5, 6, 7]]),         # stride 3, pad (1, 1)
    (7, 2, 3, [[0, 1], [3, 4], [6]]),                        # stride > pool, pad (0, 1)
    (4, 4, 2, [[0, 1, 2], [1, 2, 3]]),                       # pad (1, 2): extra one at the end
]


@pytest.mark.parametrize("length, pool, stride, windows", SAME_WINDOWS)
def test_same_padding_places_the_extra_row_and_column_at_the_end(length, pool, stride, windows):
    want = np.array([np.mean(w) for w in windows])
    seq = np.arange(length, dtype="float64")
    rows = np.broadcast_to(seq[None, :, None, None], (1, length, 3, 1)).copy()
    cols = np.broadcast_to(seq[None, None, :, None], (1, 3, length, 1)).copy()
    y_rows = AveragePooling2D((pool, 1), strides=(stride, 1), padding="same")(rows)
    y_cols = AveragePooling2D((1, pool), strides=(1, stride), padding="same")(cols)
    np.testing.assert_allclose(y_rows[0, :, 0, 0], want)
    np.testing.assert_allclose(y_cols[0, 0, :, 0], want)
    y_1d = AveragePooling1D(pool, strides=stride, padding="same")(seq[None, :, None])
    np.testing.assert_allclose(y_1d[0, :, 0], want)
    # Max over the same windows of -1 - seq: padded zeros would win if they took part.
    neg = -1.0 - seq
    y_max = MaxPooling1D(pool, strides=stride, padding="same")(neg[None, :, None])
    np.testing.assert_allclose(y_max[0, :, 0], [max(-1.0 - np.array(w)) for w in windows])
    y_min = MinPooling1D(pool, strides=stride, padding="same")((1.0 + seq)[None, :, None])
    np.testing.assert_allclose(y_min[0, :, 0], [min(1.0 + np.array(w)) for w in windows])


def test_pool_of_the_whole_input_and_hand_values():
    x = np.arange(12, dtype="float32").reshape(1, 3, 4, 1)
    np.testing.assert_array_equal(MaxPooling2D((3, 4))(x).ravel(), [11.0])
    np.testing.assert_array_equal(MinPooling2D((3, 4))(x).ravel(), [0.0])
    np.testing.assert_allclose(AveragePooling2D((3, 4))(x).ravel(), [5.5])
    # 2x2 pool, stride 1 over rows [0..3], [4..7], [8..11]
    y = MaxPooling2D(2, strides=1)(x)[0, :, :, 0]
    np.testing.assert_array_equal(y, [[5, 6, 7], [9, 10, 11]])
    x1 = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0])[None, :, None]
    np.testing.assert_array_equal(MaxPooling1D()(x1).ravel(), [3.0, 4.0, 9.0])
    np.testing.assert_array_equal(MinPooling1D(3, strides=2)(x1).ravel(), [1.0, 1.0, 2.0])
    # "valid": (7 - 2) // 3 + 1 = 2 windows, [3, 1] and [1, 5]
    np.testing.assert_allclose(AveragePooling1D(2, strides=3)(x1).ravel(), [2.0, 3.0])


@pytest.mark.parametrize("layer", [MaxPooling2D(), MinPooling2D(), MaxPooling2D(3, strides=1),
                                   MinPooling2D(2, padding="same")])
def test_ties_send_the_gradient_to_exactly_one_element_per_window(layer):
    x = np.ones((2, 5, 5, 3))
    y = layer(x)
    dx = _dx(layer, x, np.ones_like(y))
    assert dx.sum() == y.size                       # every window routed its gradient once
    if layer.strides == layer.pool_size:            # disjoint windows: one winner each, the first
        nonzero = np.argwhere(dx[0, :, :, 0])
        ph, pw = layer.pool_size
        assert all(r % ph == 0 and c % pw == 0 for r, c in nonzero)
        assert len(nonzero) == y.shape[1] * y.shape[2]
    assert set(np.unique(dx)) <= set(range(0, 10))  # integral counts, never split fractions


@pytest.mark.parametrize("cls", [MaxPooling1D, MinPooling1D])
def test_ties_1d_and_global(cls):
    x = np.zeros((1, 6, 2))
    layer = cls(3)
    dx = _dx(layer, x, np.ones_like(layer(x)))
    np.testing.assert_array_equal(dx[0, :, 0], [1, 0, 0, 1, 0, 0])
    for glob, shape in ((GlobalMaxPooling2D(), (2, 3, 3, 4)), (GlobalMaxPooling1D(), (2, 5, 4))):
        z = np.full(shape, 2.0)
        dz = _dx(glob, z, np.ones_like(glob(z)))
        assert dz.sum() == 2 * 4 and dz.reshape(2, -1, 4)[:, 0, :].sum() == 8   # first one


def test_pool_shapes_with_unknown_dims_and_aliases():
    assert MaxPooling2D(3, strides=2, padding="same").compute_output_shape(
        (None, None, 7, 4)) == (None, None, 4, 4)
    assert AveragePooling1D(3).compute_output_shape((None, 10, 2)) == (None, 3, 2)
    assert MaxPooling2D(padding="SAME").padding == "same"
    assert MaxPooling2D((2, 3)).strides == (2, 3)
    from kerasnp.layers import pooling
    assert pooling.MaxPool2D is MaxPooling2D and pooling.AvgPool1D is AveragePooling1D
    model = keras.Sequential([keras.Input((None, None, 2)), MaxPooling2D(),
                              GlobalAveragePooling2D()])
    assert model.predict(np.ones((3, 6, 4, 2), "float32"), verbose=0).shape == (3, 2)


def test_pool_errors():
    with pytest.raises(ValueError, match=r"'valid'.*'same'.*Received: padding='full'"):
        MaxPooling2D(padding="full")
    with pytest.raises(ValueError, match="channels_last.*Received: data_format='channels_first'"):
        AveragePooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="pool_size.*Received: pool_size=0"):
        MaxPooling1D(0)
    with pytest.raises(ValueError, match="strides.*positive integer.*Received: strides=-1"):
        MaxPooling2D(strides=(-1, 2))
    with pytest.raises(ValueError, match="pool_size.*Received: pool_size=.2, 2, 2"):
        MaxPooling2D((2, 2, 2))
    with pytest.raises(ValueError, match=r"Layer 'pool' \(MaxPooling2D\).*does not fit.*'same'"):
        MaxPooling2D(3, name="pool")(np.ones((1, 2, 5, 1)))
    with pytest.raises(ValueError, match="rank 4"):
        MaxPooling2D()(np.ones((2, 4, 4)))
    with pytest.raises(ValueError, match="rank 3"):
        AveragePooling1D()(np.ones((2, 4, 4, 1)))


@pytest.mark.parametrize("make, shape", [
    (lambda: MaxPooling2D(), (2, 4, 6, 3)), (lambda: MinPooling1D(3, strides=2), (2, 9, 2)),
    (lambda: AveragePooling2D(3, strides=2, padding="same"), (2, 5, 6, 2)),
    (lambda: GlobalMaxPooling2D(), (2, 3, 4, 5)),
    (lambda: GlobalAveragePooling1D(keepdims=True), (2, 6, 3))])
def test_pooling_records_one_node_and_keeps_no_state(make, shape):
    from kerasnp.autodiff import GradientTape
    layer = make()
    x = _x(shape, dtype="float32")
    plain = layer(x)                                   # no tape: a plain array
    before = set(vars(layer))
    with GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    assert len(tape._nodes) == 1
    assert set(vars(layer)) == before
    np.testing.assert_array_equal(np.asarray(y), plain)   # same values with and without a tape


# ------------------------------------------------------------------------- global pooling
def test_global_pooling_values_and_keepdims():
    x = _x((2, 3, 4, 5))
    np.testing.assert_allclose(GlobalAveragePooling2D()(x), x.mean(axis=(1, 2)), rtol=1e-12)
    np.testing.assert_array_equal(GlobalMaxPooling2D()(x), x.max(axis=(1, 2)))
    kept = GlobalMaxPooling2D(keepdims=True)
    assert kept(x).shape == (2, 1, 1, 5) == kept.compute_output_shape((2, 3, 4, 5))
    s = _x((2, 6, 3))
    np.testing.assert_allclose(GlobalAveragePooling1D(keepdims=True)(s), s.mean(1, keepdims=True))
    np.testing.assert_array_equal(GlobalMaxPooling1D()(s), s.max(axis=1))
    assert GlobalAveragePooling1D().compute_output_shape((None, None, 3)) == (None, 3)
    layer = GlobalAveragePooling2D()
    layer(x)
    np.testing.assert_allclose(_dx(layer, x, np.ones((2, 5))), np.full(x.shape, 1 / 12))
    assert layer(x.astype("float32")).dtype == np.float32
    with pytest.raises(TypeError, match="keepdims.*Received: keepdims='yes'"):
        GlobalMaxPooling2D(keepdims="yes")


# ------------------------------------------------------------------------- batch normalization
def test_bn_training_normalizes_over_all_axes_but_channels_and_keeps_float32():
    x = (3.0 + 2.0 * _x((8, 5, 4, 3))).astype("float32")
    bn = BatchNormalization(epsilon=1e-6)
    y = bn(x, training=True)
    assert y.dtype == np.float32
    assert all(v.dtype == np.float32 for v in bn.weights)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), 1.0, rtol=1e-4)
    assert [v.name for v in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [v.trainable for v in bn.weights] == [True, True, False, False]
    assert bn.count_params() == 12


@pytest.mark.parametrize("shape", [(16, 4), (6, 3, 5, 4)])
def test_bn_moving_statistics_follow_keras_after_several_steps(shape, float64):
    rng = np.random.default_rng(0)
    momentum = 0.8
    bn = BatchNormalization(momentum=momentum, moving_mean_initializer="ones")
    mean, var = np.ones(shape[-1]), np.ones(shape[-1])
    axes = tuple(range(len(shape) - 1))
    for step in range(4):
        x = rng.normal(step, 1 + step, shape)
        bn(x, training=True)
        # Keras: moving = momentum·moving + (1 - momentum)·batch, with the BIASED variance
        mean = momentum * mean + (1 - momentum) * x.mean(axis=axes)
        var = momentum * var + (1 - momentum) * x.var(axis=axes)
    np.testing.assert_allclose(bn.moving_mean.value, mean, rtol=1e-12)
    np.testing.assert_allclose(bn.moving_variance.value, var, rtol=1e-12)
    # inference uses the moving statistics (and changes nothing)
    x = rng.normal(size=shape)
    bn.gamma.value[:] = 1.5
    bn.beta.value[:] = -0.5
    want = 1.5 * (x - mean) / np.sqrt(var + 1e-3) - 0.5
    np.testing.assert_allclose(bn(x), want, rtol=1e-12)
    np.testing.assert_allclose(bn(x, training=False), want, rtol=1e-12)
    np.testing.assert_allclose(bn.moving_mean.value, mean, rtol=1e-12)


def test_bn_training_output_and_backward_by_hand():
    x = np.array([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])
    bn = BatchNormalization(epsilon=0.0 + 1e-12, gamma_initializer="ones")
    dy = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    y, dx, (dgamma, dbeta) = tape_gradients(bn, x, dy, training=True)
    want = (x - x.mean(0)) / x.std(0)
    np.testing.assert_allclose(y, want, rtol=1e-9)
    # for a normalised output, dx·1 = 0 and dx·x̂ = 0 per feature (shift and scale invariance)
    np.testing.assert_allclose(dx.sum(0), 0.0, atol=1e-9)
    np.testing.assert_allclose((dx * want).sum(0), 0.0, atol=1e-9)
    np.testing.assert_allclose(dbeta, [1.0, 0.0])
    np.testing.assert_allclose(dgamma, [want[0, 0], 0.0])


def test_frozen_bn_runs_in_inference_mode_even_in_fit():
    rng = np.random.default_rng(1)
    bn = BatchNormalization()
    model = keras.Sequential([keras.Input((4,)), bn, Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x, y = rng.normal(2.0, 3.0, (32, 4)).astype("float32"), rng.normal(size=(32, 1))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert not np.allclose(bn.moving_mean.value, 0.0)            # trainable: stats moved
    bn.trainable = False
    before = bn.get_weights()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    for old, new in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(old, new)
    out = bn(x, training=True)                                    # frozen: moving statistics
    np.testing.assert_allclose(out, bn(x, training=False), rtol=1e-6)
    np.testing.assert_array_equal(bn.moving_mean.value, before[2])
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4


def test_bn_inference_backward_is_the_affine_gradient():
    bn = BatchNormalization(epsilon=0.01)
    x = _x((5, 3))
    bn(x)
    bn.moving_mean.value[:] = [0.5, -1.0, 2.0]
    bn.moving_variance.value[:] = [0.25, 4.0, 1.0]
    bn.gamma.value[:] = [2.0, 1.0, -1.0]
    dy = _x((5, 3), seed=3)
    _, dx, (dgamma, dbeta) = tape_gradients(bn, x, dy, training=False)
    np.testing.assert_allclose(dx, dy * bn.gamma.value / np.sqrt(bn.moving_variance.value + 0.01))
    xhat = (x - bn.moving_mean.value) / np.sqrt(bn.moving_variance.value + 0.01)
    np.testing.assert_allclose(dgamma, (dy * xhat).sum(0))
    np.testing.assert_allclose(dbeta, dy.sum(0))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kwargs, shape", [({}, (6, 4)), ({"axis": 1}, (3, 4, 5)),
                                           ({"center": False}, (2, 3, 3, 2)),
                                           ({"scale": False, "center": False}, (5, 3))])
def test_bn_records_one_node_and_keeps_no_state(kwargs, shape, training):
    from kerasnp.autodiff import GradientTape
    bn = BatchNormalization(**kwargs)
    x = _x(shape, dtype="float32")
    bn(x)
    before = set(vars(bn))
    with GradientTape() as tape:
        tape.watch(x)
        bn(x, training=training)
    assert len(tape._nodes) == 1
    assert set(vars(bn)) == before


def test_bn_called_twice_in_one_step_takes_each_calls_statistics(float64):
    """A shared BN (Siamese towers) differentiates each call with that call's batch statistics;
    the moving averages take both updates in order."""
    from kerasnp.autodiff import GradientTape
    bn = BatchNormalization(momentum=0.5)
    a, b = _x((6, 3), seed=1), 3.0 + 2.0 * _x((6, 3), seed=2)
    dya, dyb = _x((6, 3), seed=3), _x((6, 3), seed=4)
    bn(a)
    with GradientTape() as tape:
        tape.watch([a, b])
        ya, yb = bn(a, training=True), bn(b, training=True)
    got = tape.gradient([ya, yb], [a, b, bn.gamma, bn.beta], output_gradients=[dya, dyb])
    _, da, (ga, ba) = tape_gradients(BatchNormalization.from_config(bn.get_config()), a, dya,
                                     training=True)
    _, db, (gb, bb) = tape_gradients(BatchNormalization.from_config(bn.get_config()), b, dyb,
                                     training=True)
    for g, want in zip(got, [da, db, ga + gb, ba + bb]):
        np.testing.assert_allclose(g, want, rtol=1e-10, atol=1e-12)
    mean = 0.5 * (0.5 * 0.0 + 0.5 * a.mean(0)) + 0.5 * b.mean(0)
    np.testing.assert_allclose(bn.moving_mean.value, mean, rtol=1e-12)


def test_bn_axis_and_argument_errors():
    bn = BatchNormalization(axis=1)
    x = _x((4, 3, 5))
    y = bn(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0.0, atol=1e-12)
    assert bn.gamma.shape == (3,)
    with pytest.raises(ValueError, match="non-batch axis.*Received: axis=0"):
        BatchNormalization(axis=0)(x)
    with pytest.raises(ValueError, match="Received: axis=3"):
        BatchNormalization(axis=3)(x)
    with pytest.raises(TypeError, match="Received: axis=.-1."):
        BatchNormalization(axis=[-1])
    with pytest.raises(ValueError, match=r"momentum.*\[0.0, 1.0\].*Received: momentum=1.5"):
        BatchNormalization(momentum=1.5)
    with pytest.raises(ValueError, match="epsilon.*Received: epsilon=0"):
        BatchNormalization(epsilon=0)
    with pytest.raises(ValueError, match="Unknown regularizer"):
        BatchNormalization(gamma_regularizer="l3")


def test_bn_config_survives_json():
    bn = BatchNormalization(momentum=0.9, center=False, gamma_regularizer="l2",
                            gamma_constraint="non_neg", moving_variance_initializer="zeros")
    cfg = json.loads(json.dumps(bn.get_config()))
    clone = BatchNormalization.from_config(cfg)
    assert clone.get_config() == bn.get_config()
    assert clone.momentum == 0.9 and clone.gamma_regularizer is not None


# ------------------------------------------------------------------------- spatial dropout
def test_spatial_dropout_drops_whole_channels_in_training_only():
    from kerasnp.autodiff import GradientTape
    x = np.ones((64, 3, 4, 16), "float32")
    layer = SpatialDropout2D(0.25, seed=3)
    np.testing.assert_array_equal(layer(x), x)                    # inference: identity
    before = set(vars(layer))
    with GradientTape() as tape:
        tape.watch(x)
        out = layer(x, training=True)
    assert len(tape._nodes) == 1 and set(vars(layer)) == before  # the mask lives in the node
    y = np.asarray(out)
    assert y.dtype == np.float32
    per_channel = y.reshape(64, 12, 16)
    assert np.all(per_channel == per_channel[:, :1, :])          # constant over each feature map
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert 0.18 < np.mean(y == 0) < 0.32
    dy = np.full(y.shape, 2.0, "float32")
    np.testing.assert_array_equal(tape.gradient(out, x, output_gradients=dy), 2.0 * y)
    np.testing.assert_array_equal(layer(x), x)                    # inference: identity
    again = SpatialDropout2D(0.25, seed=3)(x, training=True)
    np.testing.assert_array_equal(again, y)                       # seeded: reproducible
    s = SpatialDropout1D(0.5, seed=0)(np.ones((8, 5, 6)), training=True)
    assert np.all(s == s[:, :1, :])
    with pytest.raises(ValueError, match="rank 4"):
        SpatialDropout2D(0.1)(np.ones((2, 3, 4)), training=True)
    with pytest.raises(ValueError, match="rate.*Received: rate=1.0"):
        SpatialDropout2D(1.0)


# ------------------------------------------------------------------------- reshaping
def test_zero_padding_forms_and_values():
    x = np.arange(6, dtype="float32").reshape(1, 2, 3, 1)
    assert ZeroPadding2D(2).padding == ((2, 2), (2, 2))
    assert ZeroPadding2D((1, 3)).padding == ((1, 1), (3, 3))
    layer = ZeroPadding2D(((1, 0), (0, 2)))
    y = layer(x)
    assert y.shape == (1, 3, 5, 1) == layer.compute_output_shape((1, 2, 3, 1))
    np.testing.assert_array_equal(y[0, :, :, 0], [[0, 0, 0, 0, 0], [0, 1, 2, 0, 0],
                                                  [3, 4, 5, 0, 0]])
    dy = np.arange(15, dtype="float32").reshape(1, 3, 5, 1)
    np.testing.assert_array_equal(_dx(layer, x, dy)[0, :, :, 0], [[5, 6, 7], [10, 11, 12]])
    assert ZeroPadding2D().compute_output_shape((None, None, 4, 2)) == (None, None, 6, 2)
    for bad in (-1, (1, 2, 3), ((1, 2), (3,)), "1", ((1, -2), (0, 0))):
        with pytest.raises(ValueError, match="padding.*Received: padding="):
            ZeroPadding2D(bad)


def test_cropping_values_and_errors():
    x = np.arange(20, dtype="float64").reshape(1, 4, 5, 1)
    layer = Cropping2D(((1, 0), (2, 1)))
    y = layer(x)
    np.testing.assert_array_equal(y[0, :, :, 0], x[0, 1:, 2:4, 0])
    assert y.flags.c_contiguous
    dx = _dx(layer, x, np.ones_like(y))
    assert dx.sum() == y.size and dx[0, 0].sum() == 0 and dx[0, :, :2].sum() == 0
    assert Cropping2D(1).compute_output_shape((None, 6, None, 3)) == (None, 4, None, 3)
    with pytest.raises(ValueError, match="cropping.*leaves nothing"):
        Cropping2D(((2, 2), (0, 0)))(x)


def test_upsampling_nearest_and_errors():
    x = np.arange(4, dtype="float32").reshape(1, 2, 2, 1)
    layer = UpSampling2D((2, 3))
    y = layer(x)
    want = np.repeat(np.repeat(x, 2, axis=1), 3, axis=2)
    np.testing.assert_array_equal(y, want)
    assert y.dtype == np.float32
    assert layer.compute_output_shape((None, 2, 2, 1)) == (None, 4, 6, 1)
    dx = _dx(layer, x, np.ones_like(y))
    np.testing.assert_array_equal(dx, np.full(x.shape, 6.0))
    with pytest.raises(ValueError, match=r"bilinear.*not supported.*Valid: 'nearest'"):
        UpSampling2D(interpolation="bilinear")
    with pytest.raises(ValueError, match="size.*Received: size=0"):
        UpSampling2D(0)


def test_layers_in_a_cnn_like_model_train():
    keras.random.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8, 8, 2)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0).astype("float32")[:, None]
    model = keras.Sequential([
        keras.Input((8, 8, 2)), ZeroPadding2D(1), BatchNormalization(), MaxPooling2D(),
        SpatialDropout2D(0.1), UpSampling2D(), Cropping2D(1), AveragePooling2D(3, strides=2,
                                                                              padding="same"),
        GlobalMaxPooling2D(keepdims=True), Flatten(), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(x, verbose=0).shape == (32, 1)
