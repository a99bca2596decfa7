"""`kerasnp.random` as Keras 3's `keras.random`: reproducibility under `set_random_seed`, integer
and `SeedGenerator` seeds, distributions, and the gradients of `dropout` and `shuffle`."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import ops
from kerasnp import random as R
from kerasnp.autodiff import GradientTape
from _numeric import central_grad


_central = central_grad


def _everything(seed=None):
    x = np.arange(24.0).reshape(6, 4)
    return [R.normal((3, 4), seed=seed), R.uniform((5,), -2.0, 3.0, seed=seed),
            R.truncated_normal((50,), 1.0, 0.5, seed=seed), R.randint((4,), 0, 10, seed=seed),
            R.categorical(np.log([[0.2, 0.8], [0.5, 0.5]]), 6, seed=seed),
            R.dropout(x, 0.5, seed=seed), R.shuffle(x, seed=seed),
            R.gamma((3,), 2.0, seed=seed), R.binomial((3,), 10, 0.3, seed=seed),
            R.beta((3,), 2.0, 3.0, seed=seed)]


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_global_draws_are_reproducible_under_set_random_seed():
    keras.set_random_seed(3)
    first = _everything()
    keras.set_random_seed(3)
    again = _everything()
    assert _same(first, again)
    assert all(x.dtype == y.dtype for x, y in zip(first, again))
    keras.set_random_seed(4)
    assert not np.array_equal(_everything()[0], first[0])


def test_global_draws_do_not_shift_the_generators_layers_get():
    keras.set_random_seed(5)
    R.normal((10,))
    a = R.make_generator().random(4)
    keras.set_random_seed(5)
    b = R.make_generator().random(4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.random.default_rng([5, 1]).random(4))


def test_integer_seeds_repeat_and_ignore_the_global_seed():
    keras.set_random_seed(1)
    a = _everything(seed=42)
    keras.set_random_seed(2)
    assert _same(a, _everything(seed=42))
    assert not np.array_equal(R.normal((4,), seed=42), R.normal((4,), seed=43))


def test_seed_generator_advances_and_is_reproducible():
    g1, g2 = R.SeedGenerator(1337), R.SeedGenerator(1337)
    a, b = R.normal((4,), seed=g1), R.normal((4,), seed=g1)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(R.normal((4,), seed=g2), a)
    np.testing.assert_array_equal(R.normal((4,), seed=g2), b)
    state = g1.state
    c = R.uniform((3,), seed=g1)
    g1.state = state
    np.testing.assert_array_equal(R.uniform((3,), seed=g1), c)
    assert isinstance(g1.next(), int) and g1.next() != g1.next()
    assert R.SeedGenerator.from_config(g1.get_config()).seed == 1337
    keras.set_random_seed(9)
    x = R.normal((3,), seed=R.SeedGenerator())
    keras.set_random_seed(9)
    np.testing.assert_array_equal(R.normal((3,), seed=R.SeedGenerator()), x)


def test_distributions_and_dtypes():
    keras.set_random_seed(0)
    z = R.normal((200_000,), mean=2.0, stddev=3.0, dtype="float64")
    assert z.dtype == np.float64 and abs(z.mean() - 2) < 0.05 and abs(z.std() - 3) < 0.05
    assert R.normal((2,)).dtype == np.float32 and R.normal((2,), dtype="float16").dtype == np.float16
    u = R.uniform((10_000,), -1.0, 4.0)
    assert u.min() >= -1 and u.max() < 4 and abs(u.mean() - 1.5) < 0.1
    t = R.truncated_normal((10_000,), mean=1.0, stddev=0.5)
    assert np.all(np.abs(t - 1.0) <= 1.0 + 1e-6)
    i = R.randint((1000,), 3, 7)
    assert i.dtype == np.int32 and set(np.unique(i)) == {3, 4, 5, 6}
    logits = np.array([[np.log(0.1), np.log(0.6), np.log(0.3)], [0.0, -np.inf, -np.inf]])
    c = R.categorical(logits, 20_000, dtype="int64")
    assert c.shape == (2, 20_000) and c.dtype == np.int64
    np.testing.assert_allclose(np.bincount(c[0], minlength=3) / 20_000, [0.1, 0.6, 0.3],
                               atol=0.015)
    assert np.all(c[1] == 0)


def test_dropout_statistics_noise_shape_and_rate_zero():
    keras.set_random_seed(0)
    x = np.ones((400, 50))
    y = R.dropout(x, 0.3)
    assert abs((y == 0).mean() - 0.3) < 0.02
    np.testing.assert_allclose(y[y != 0], 1 / 0.7)
    y = R.dropout(np.ones((8, 5, 6)), 0.5, noise_shape=(None, 1, 6))
    assert np.all(y == y[:, :1, :])                      # one mask for every step
    assert R.dropout(x, 0.0) is x


@pytest.mark.parametrize("op", [
    lambda x: R.dropout(x, 0.4, seed=7),
    lambda x: R.dropout(x, 0.4, noise_shape=(1, None), seed=7),
    lambda x: R.shuffle(x, axis=1, seed=7),
    lambda x: R.shuffle(x, seed=7),
], ids=["dropout", "dropout_noise_shape", "shuffle_axis1", "shuffle"])
def test_dropout_and_shuffle_gradients_match_central_differences(op):
    x = np.random.default_rng(0).normal(size=(5, 6))
    r = np.random.default_rng(1).normal(size=(5, 6))
    with GradientTape() as tape:
        tape.watch(x)
        loss = ops.sum(ops.multiply(op(x), r))
    np.testing.assert_allclose(tape.gradient(loss, x),
                               _central(lambda q: float(np.sum(op(q) * r)), x),
                               rtol=1e-6, atol=1e-8)


def test_dropout_in_a_custom_layer_with_a_seed_generator():
    class NoisyDense(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(1337)

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 3), initializer="ones")

        def call(self, inputs, training=None):
            h = ops.matmul(inputs, self.w)
            return keras.random.dropout(h, 0.5, seed=self.seed_generator) if training else h

    layer = NoisyDense()
    x = np.ones((4, 2), dtype="float32")
    np.testing.assert_array_equal(layer(x), np.full((4, 3), 2.0))
    with GradientTape() as tape:
        y = layer(x, training=True)
        loss = ops.sum(y)
    mask = np.asarray(y) != 0
    np.testing.assert_allclose(np.asarray(y)[mask], 4.0)
    np.testing.assert_allclose(tape.gradient(loss, layer.w), np.ones((2, 1)) * mask.sum(0) * 2.0)
    later = [np.asarray(layer(x, training=True)) != 0 for _ in range(3)]
    assert not all(np.array_equal(m, mask) for m in later)    # the generator advanced


@pytest.mark.parametrize("bad,match", [
    (lambda: R.normal((2,), seed="abc"), "seed.*Received: seed='abc'"),
    (lambda: R.normal((2,), seed=-1), "seed.*Received: seed=-1"),
    (lambda: R.normal((2, -1)), r"shape.*Received: shape=\(2, -1\)"),
    (lambda: R.uniform((2,), dtype="int32"), "float type.*Received: dtype='int32'"),
    (lambda: R.randint((2,), 0, 5, dtype="float32"), "int type.*Received"),
    (lambda: R.randint((2,), 5, 5), "minval.*maxval.*Received"),
    (lambda: R.dropout(np.ones(3), 1.0), "rate.*Received: rate=1.0"),
    (lambda: R.dropout(np.ones((2, 3)), 0.5, noise_shape=(2, 2)), "noise_shape.*Received"),
    (lambda: R.categorical(np.ones(3), 2), r"2-D.*Received: logits.shape=\(3,\)"),
    (lambda: R.SeedGenerator(seed=1.5), "seed.*Received: seed=1.5"),
])
def test_errors_say_what_was_received(bad, match):
    with pytest.raises((TypeError, ValueError), match=match):
        bad()
