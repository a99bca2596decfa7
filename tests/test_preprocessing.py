"""Preprocessing layers: values against NumPy, Normalization.adapt over every kind of data, and the
random image layers' geometry (exact rotations and shifts, fill modes by hand), seeding and errors.
Shapes, config round trips and gradients run in the shared harness (tests/_cases_preprocessing.py).
"""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import config
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import unwrap
from kerasnp.layers.preprocessing import Normalization, Rescaling
from kerasnp.layers.preprocessing_image import RandomFlip, RandomRotation, RandomTranslation
from kerasnp.utils.py_dataset import PyDataset

from _tape_check import tape_gradients

RNG = np.random.default_rng(0)


# -- Rescaling ------------------------------------------------------------------------------------
def test_rescaling_values_and_uint8_input():
    x = RNG.standard_normal((4, 3)).astype("float32")
    y = Rescaling(0.25, offset=-1.5)(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, x * 0.25 - 1.5, rtol=1e-6)
    per_channel = Rescaling([1.0, 2.0, 3.0], offset=[0.0, 0.5, -1.0])(x)
    np.testing.assert_allclose(per_channel, x * [1, 2, 3] + [0, 0.5, -1], rtol=1e-6)
    img = np.array([[0, 128, 255]], dtype="uint8")
    out = Rescaling(1 / 255)(img)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 128 / 255, 1.0]], rtol=1e-6)


def _dx(layer, x, dy, training=False):
    """The tape's input gradient of `sum(layer(x) * dy)` (one forward, as layer.backward was)."""
    (dx,), _ = tape_gradients(layer, x, dy, training=training, seed=None)
    return dx


def test_rescaling_backward_scales_by_scale():
    layer = Rescaling([2.0, -3.0])
    layer(np.ones((2, 2)))
    np.testing.assert_array_equal(_dx(layer, np.ones((2, 2)), np.ones((2, 2))),
                                  [[2.0, -3.0], [2.0, -3.0]])


@pytest.mark.parametrize("kwargs, arg", [({"scale": "x"}, "scale"),
                                         ({"scale": float("nan")}, "scale"),
                                         ({"scale": [[1.0]]}, "scale"),
                                         ({"scale": 1.0, "offset": []}, "offset")])
def test_rescaling_rejects_bad_arguments(kwargs, arg):
    with pytest.raises(ValueError, match=f"Received: {arg}="):
        Rescaling(**kwargs)


def test_rescaling_per_channel_count_must_match_channels():
    with pytest.raises(ValueError, match="has 2 values but the input has 3 channels"):
        Rescaling([1.0, 2.0])(np.ones((2, 3)))


# -- Normalization: values ------------------------------------------------------------------------
def test_normalization_with_given_statistics_matches_numpy():
    x = RNG.standard_normal((5, 3)).astype("float32")
    mean, var = np.array([0.5, -1.0, 2.0]), np.array([4.0, 0.25, 0.0])
    y = Normalization(mean=mean, variance=var)(x)
    assert y.dtype == np.float32
    # Keras divides by max(sqrt(variance), epsilon): a zero variance divides by 1e-7.
    expected = (x - mean) / np.maximum(np.sqrt(var), config.epsilon())
    np.testing.assert_allclose(y, expected, rtol=1e-5)


def test_normalization_scalar_statistics_with_axis_none():
    x = RNG.standard_normal((4, 2, 3))
    y = Normalization(axis=None, mean=3.0, variance=2.0)(x)
    np.testing.assert_allclose(y, (x - 3.0) / np.sqrt(2.0), rtol=1e-12)


@pytest.mark.parametrize("axis, reduce", [(-1, (0, 1, 2)), (None, None), ((1, 2), (0, 3)),
                                          (1, (0, 2, 3))])
def test_adapt_matches_numpy_mean_and_variance(float64, axis, reduce):
    x = RNG.standard_normal((20, 4, 3, 2)) * 3.0 + 5.0
    layer = Normalization(axis=axis)
    layer.adapt(x)
    mean, var = layer.get_weights()
    np.testing.assert_allclose(mean.ravel(), np.mean(x, axis=reduce).ravel(), rtol=1e-12)
    np.testing.assert_allclose(var.ravel(), np.var(x, axis=reduce).ravel(), rtol=1e-12)
    y = layer(x)
    np.testing.assert_allclose(np.mean(y, axis=reduce), 0.0, atol=1e-10)
    np.testing.assert_allclose(np.var(y, axis=reduce), 1.0, rtol=1e-10)


def test_normalization_keeps_float32_and_casts_integer_input():
    layer = Normalization()
    layer.adapt(np.array([[0, 7], [2, 9]], dtype="uint8"))
    y = layer(np.array([[0, 7]], dtype="uint8"))
    assert y.dtype == np.float32 and layer.mean.dtype == np.float32
    np.testing.assert_allclose(y, [[-1.0, -1.0]])
    assert layer(np.array([[0.0, 7.0]], dtype="float32")).dtype == np.float32


def test_invert_round_trip():
    x = RNG.standard_normal((6, 4)) * 2.0 + 1.0
    norm, denorm = Normalization(), Normalization(invert=True)
    norm.adapt(x)
    denorm.adapt(x)
    np.testing.assert_allclose(denorm(norm(x.astype("float32"))), x, rtol=1e-5, atol=1e-5)
    given = Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    np.testing.assert_allclose(given(np.array([[1.0, -1.0]])), [[3.0, -1.0]])


# -- Normalization: adapt over every kind of data -------------------------------------------------
class _Batches(PyDataset):
    """A PyDataset serving `(x, y)` batches of an array."""

    def __init__(self, x, batch_size):
        super().__init__()
        self.x, self.batch_size = x, batch_size

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        xb = self.x[i * self.batch_size:(i + 1) * self.batch_size]
        return xb, np.zeros(len(xb))


class _PlainSequence:
    """Any object with __len__/__getitem__ returning bare `x` batches."""

    def __init__(self, x, batch_size):
        self.x, self.batch_size = x, batch_size

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        return self.x[i * self.batch_size:(i + 1) * self.batch_size]


def _adapted(data, axis=-1, **kwargs):
    layer = Normalization(axis=axis)
    layer.adapt(data, **kwargs)
    return layer.get_weights()


def test_adapt_on_array_equals_adapt_on_batched_sequences(float64):
    x = RNG.standard_normal((103, 5)) * 4.0 - 2.0
    one_shot = _adapted(x)
    generator = (x[i:i + 10] for i in range(0, len(x), 10))
    for data in (_Batches(x, 16), _PlainSequence(x, 7), generator):
        for got, want in zip(_adapted(data), one_shot):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_adapt_streaming_over_ten_batches_equals_one_shot(float64):
    x = 100.0 + RNG.standard_normal((1000, 3)) * np.array([0.1, 1.0, 10.0])
    one_shot = _adapted(x, batch_size=1000)
    streamed = _adapted(x, batch_size=100)
    for got, want in zip(streamed, one_shot):
        np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(streamed[1], np.var(x, axis=0), rtol=1e-10)


def test_adapt_streaming_is_numerically_stable(float64):
    # A large offset is where the textbook E[x²] - E[x]² loses every digit of a small variance.
    x = 1e6 + RNG.standard_normal((1000, 3)) * np.array([1e-2, 1.0, 1e2])
    var = _adapted(x, batch_size=100)[1]
    naive = np.mean(x * x, axis=0) - np.mean(x, axis=0) ** 2
    assert abs(naive[0] / np.var(x[:, 0]) - 1) > 1e-2      # the data really is hard
    np.testing.assert_allclose(var, np.var(x, axis=0), rtol=1e-7)


def test_adapt_steps_uses_only_the_first_batches(float64):
    x = RNG.standard_normal((60, 2))
    mean, var = _adapted(_Batches(x, 10), steps=3)
    np.testing.assert_allclose(mean, x[:30].mean(0), rtol=1e-12)
    np.testing.assert_allclose(var, x[:30].var(0), rtol=1e-12)
    mean, _ = _adapted(x, batch_size=20, steps=2)
    np.testing.assert_allclose(mean, x[:40].mean(0), rtol=1e-12)
    gen = (x[i:i + 10] for i in range(0, 60, 10))
    np.testing.assert_allclose(_adapted(gen, steps=4)[0], x[:40].mean(0), rtol=1e-12)


def test_adapt_reads_a_memory_mapped_array(tmp_path, float64):
    x = RNG.standard_normal((500, 4))
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    for got, want in zip(_adapted(mapped, batch_size=64), _adapted(x)):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_adapt_again_replaces_the_statistics(float64):
    layer = Normalization()
    layer.adapt(np.ones((4, 2)))
    layer.adapt(np.array([[0.0, 2.0], [2.0, 6.0]]))
    np.testing.assert_allclose(layer.mean.value, [1.0, 4.0])
    np.testing.assert_allclose(layer.variance.value, [1.0, 4.0])


def test_adapted_statistics_survive_weights_and_saving(tmp_path):
    x = RNG.standard_normal((40, 3)).astype("float32") * 5 + 2
    norm = Normalization()
    norm.adapt(x)
    model = keras.Sequential([keras.Input((3,)), norm, keras.layers.Dense(2)])
    fresh = Normalization()
    fresh.build((None, 3))
    fresh.set_weights(norm.get_weights())
    np.testing.assert_array_equal(fresh(x), norm(x))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


# -- Normalization: errors ------------------------------------------------------------------------
def test_use_before_adapt_names_the_layer():
    layer = Normalization(name="feature_norm")
    with pytest.raises(ValueError, match=r"Layer 'feature_norm' \(Normalization\) has no mean.*"
                                         r"adapt\(data\)"):
        layer(np.ones((2, 3)))


def test_adapt_with_wrong_feature_count():
    layer = Normalization()
    layer.adapt(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"built for inputs of shape \(None, 3\).*"
                                         r"Received a batch of shape \(10, 4\)"):
        layer.adapt(np.ones((10, 4)))
    with pytest.raises(ValueError, match=r"Received a batch of shape \(4, 2\)"):
        Normalization().adapt(iter([np.ones((4, 3)), np.ones((4, 2))]))


@pytest.mark.parametrize("kwargs, message", [
    ({"mean": 1.0}, "give both `mean` and `variance`"),
    ({"mean": 0.0, "variance": -1.0}, "must be non-negative"),
    ({"axis": 0}, "not including the batch axis"),
    ({"axis": "last"}, "Received: axis="),
    ({"mean": "a", "variance": 1.0}, "Received: mean="),
])
def test_normalization_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Normalization(**kwargs)


def test_normalization_adapt_errors():
    with pytest.raises(ValueError, match="cannot adapt"):
        Normalization(mean=0.0, variance=1.0).adapt(np.ones((3, 1)))
    with pytest.raises(ValueError, match="`batch_size` applies only to array data"):
        Normalization().adapt(_PlainSequence(np.ones((4, 2)), 2), batch_size=2)
    with pytest.raises(ValueError, match="received no data"):
        Normalization().adapt(iter([]))
    with pytest.raises(TypeError, match="expects a NumPy array"):
        Normalization().adapt(object())
    with pytest.raises(ValueError, match="more than the 2 batches"):
        Normalization().adapt(_PlainSequence(np.ones((4, 2)), 2), steps=3)
    with pytest.raises(ValueError, match=r"expected shape \(3,\) or a scalar"):
        Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0])(np.ones((2, 3)))


# -- random image layers: inference, seeding ------------------------------------------------------
RANDOM_LAYERS = [lambda **kw: RandomFlip(**kw), lambda **kw: RandomTranslation(0.3, 0.3, **kw),
                 lambda **kw: RandomRotation(0.2, **kw)]


@pytest.mark.parametrize("make", RANDOM_LAYERS)
def test_random_layers_are_the_identity_in_inference(make):
    x = RNG.standard_normal((8, 6, 5, 2)).astype("float32")
    layer = make(seed=0)
    for y in (layer(x), layer(x, training=False)):
        np.testing.assert_array_equal(y, x)
    y = layer(x, training=True)
    assert y.dtype == np.float32 and not np.array_equal(y, x)


@pytest.mark.parametrize("make", RANDOM_LAYERS)
def test_random_layers_are_reproducible_with_a_seed(make):
    x = RNG.standard_normal((8, 6, 6, 1))
    a, b, c = make(seed=3), make(seed=3), make(seed=4)
    first = a(x, training=True)
    np.testing.assert_array_equal(first, b(x, training=True))
    assert not np.array_equal(first, c(x, training=True))
    assert not np.array_equal(first, a(x, training=True))       # a new draw on every call


@pytest.mark.parametrize("make", RANDOM_LAYERS[1:])
def test_parameters_are_drawn_per_sample(make):
    x = np.repeat(RNG.standard_normal((1, 6, 6, 1)), 4, axis=0)
    y = make(seed=0)(x, training=True)
    assert all(not np.array_equal(y[0], y[i]) for i in range(1, 4))


def test_random_layers_cast_integer_images():
    x = RNG.integers(0, 255, (2, 4, 4, 3)).astype("uint8")
    for make in RANDOM_LAYERS:
        assert make()(x, training=True).dtype == np.float32
        assert make()(x).dtype == np.float32


def test_random_layers_need_images():
    with pytest.raises(ValueError, match=r"expected input of rank 4"):
        RandomFlip()(np.ones((2, 5, 3)))


# -- RandomFlip -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode, variants", [
    ("horizontal", lambda x: [x, x[:, ::-1]]),
    ("vertical", lambda x: [x, x[::-1]]),
    ("horizontal_and_vertical", lambda x: [x, x[:, ::-1], x[::-1], x[::-1, ::-1]]),
])
def test_random_flip_modes(mode, variants):
    x = RNG.standard_normal((1, 3, 4, 2))
    y = RandomFlip(mode, seed=1)(np.repeat(x, 40, axis=0), training=True)
    options = variants(x[0])
    seen = set()
    for img in y:
        matches = [k for k, v in enumerate(options) if np.array_equal(img, v)]
        assert len(matches) == 1, "each output is exactly one flip of the input"
        seen.add(matches[0])
    assert seen == set(range(len(options))), "every flip occurs over 40 draws"


def test_random_flip_backward_flips_dy_back():
    x = RNG.standard_normal((6, 3, 4, 1))
    layer = RandomFlip(seed=5)
    with GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    dx = tape.gradient(y, x, output_gradients=unwrap(y))   # flips are involutions: dx = x
    np.testing.assert_array_equal(dx, x)


# -- RandomRotation -------------------------------------------------------------------------------
@pytest.mark.parametrize("factor, k", [((0.25, 0.25), 1), ((-0.25, -0.25), -1), ((0.5, 0.5), 2)])
def test_quarter_turns_equal_rot90(factor, k):
    x = RNG.standard_normal((2, 5, 5, 3))
    y = RandomRotation(factor, interpolation="nearest")(x, training=True)
    np.testing.assert_array_equal(y, np.rot90(x, k, axes=(1, 2)))
    bilinear = RandomRotation(factor)(x, training=True)
    np.testing.assert_allclose(bilinear, np.rot90(x, k, axes=(1, 2)), atol=1e-12)


def test_half_turn_of_a_rectangle_flips_both_axes():
    x = RNG.standard_normal((1, 3, 6, 1))
    y = RandomRotation((0.5, 0.5), interpolation="nearest")(x, training=True)
    np.testing.assert_array_equal(y, x[:, ::-1, ::-1])


def test_rotation_fill_modes_on_a_small_example():
    # A quarter turn of a 2x6 image about its centre (0.5, 2.5): output (r, c) reads input
    # (c - 2, 3 - r). Output row 0 reads column 3 (values 4, 10) at rows -2..3.
    x = np.arange(1.0, 13.0).reshape(1, 2, 6, 1)
    expected = {"constant": [9, 9, 4, 10, 9, 9], "nearest": [4, 4, 4, 10, 10, 10],
                "reflect": [10, 4, 4, 10, 10, 4], "wrap": [4, 10, 4, 10, 4, 10]}
    for mode, want in expected.items():
        y = RandomRotation((0.25, 0.25), fill_mode=mode, interpolation="nearest",
                           fill_value=9.0)(x, training=True)
        np.testing.assert_array_equal(y[0, 0, :, 0], want, err_msg=mode)


# -- RandomTranslation ----------------------------------------------------------------------------
def test_whole_pixel_translation_with_constant_fill_equals_a_shifted_array():
    x = RNG.standard_normal((2, 8, 4, 3))
    # height_factor 0.25 of 8 rows = 2 rows down; width_factor -0.5 of 4 columns = 2 left.
    expected = np.full_like(x, 7.0)
    expected[:, 2:, :2] = x[:, :6, 2:]
    for interpolation in ("bilinear", "nearest"):
        layer = RandomTranslation((0.25, 0.25), (-0.5, -0.5), fill_mode="constant",
                                  interpolation=interpolation, fill_value=7.0)
        np.testing.assert_array_equal(layer(x, training=True), expected)


@pytest.mark.parametrize("shift, mode, want", [
    (0.5, "constant", [9, 9, 1, 2]), (0.5, "reflect", [2, 1, 1, 2]),
    (0.5, "wrap", [3, 4, 1, 2]), (0.5, "nearest", [1, 1, 1, 2]),
    (1.0, "reflect", [4, 3, 2, 1]), (1.0, "wrap", [1, 2, 3, 4]),
    (-0.25, "reflect", [2, 3, 4, 4]), (-0.25, "constant", [2, 3, 4, 9]),
    (0.125, "constant", [5, 1.5, 2.5, 3.5]), (0.125, "reflect", [1, 1.5, 2.5, 3.5]),
    (0.125, "wrap", [2.5, 1.5, 2.5, 3.5]), (0.125, "nearest", [1, 1.5, 2.5, 3.5]),
])
def test_translation_fill_modes_by_hand(shift, mode, want):
    # The row [1, 2, 3, 4] shifted right by shift * 4 pixels (0.125 -> half a pixel, bilinear).
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 1, 4, 1)
    layer = RandomTranslation(0.0, (shift, shift), fill_mode=mode, fill_value=9.0)
    np.testing.assert_allclose(layer(x, training=True).ravel(), want, rtol=1e-12)


def test_translation_backward_is_the_adjoint():
    # <S x, dy> == <x, Sᵀ dy> for one draw (the exact transpose, fill term aside).
    x, dy = RNG.standard_normal((3, 5, 7, 2)), RNG.standard_normal((3, 5, 7, 2))
    for mode in ("reflect", "wrap", "nearest", "constant"):
        layer = RandomTranslation(0.6, 0.6, fill_mode=mode, seed=0)
        with GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        dx = tape.gradient(y, x, output_gradients=dy)
        np.testing.assert_allclose(np.sum(unwrap(y) * dy), np.sum(x * dx), rtol=1e-10)


# -- validation -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: RandomFlip("diagonal"),
     "'horizontal', 'vertical', 'horizontal_and_vertical'. Received: mode='diagonal'"),
    (lambda: RandomRotation(0.1, fill_mode="mirror"),
     "'reflect', 'wrap', 'constant', 'nearest'. Received: fill_mode='mirror'"),
    (lambda: RandomTranslation(0.1, 0.1, interpolation="bicubic"),
     "'bilinear', 'nearest'. Received: interpolation='bicubic'"),
    (lambda: RandomRotation(1.5), r"in \[-1, 1\]. Received: factor=1.5"),
    (lambda: RandomRotation((0.1, 0.2, 0.3)), r"Received: factor=\(0.1, 0.2, 0.3\)"),
    (lambda: RandomRotation("0.1"), "Received: factor='0.1'"),
    (lambda: RandomTranslation(0.1, (0.0, -2.0)), r"Received: width_factor=\(0.0, -2.0\)"),
    (lambda: RandomTranslation(None, 0.1), "Received: height_factor=None"),
    (lambda: RandomRotation(0.1, fill_value="k"), "Received: fill_value='k'"),
    (lambda: RandomFlip(seed=-1), "Received: seed=-1"),
    (lambda: RandomFlip(data_format="channels_first"), "channels-last only"),
])
def test_invalid_arguments_list_valid_values(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_factor_forms_follow_keras():
    assert RandomRotation(0.2)._range == (-0.2, 0.2)
    assert RandomRotation(-0.2)._range == (-0.2, 0.2)
    assert RandomRotation((0.3, -0.1))._range == (-0.1, 0.3)
    layer = RandomTranslation((0.1, 0.2), 0.3)
    assert (layer._h_range, layer._w_range) == ((0.1, 0.2), (-0.3, 0.3))
    clone = RandomTranslation.from_config(layer.get_config())
    assert (clone._h_range, clone._w_range) == ((0.1, 0.2), (-0.3, 0.3))


# -- in a model -----------------------------------------------------------------------------------
def test_augmenting_model_trains_and_predicts_deterministically():
    keras.utils.set_random_seed(0)
    x = RNG.integers(0, 255, (32, 8, 8, 1)).astype("float32")
    y = RNG.integers(0, 2, (32, 1)).astype("float32")
    norm = Normalization(axis=None)
    norm.adapt(x)
    model = keras.Sequential([
        keras.Input((8, 8, 1)), norm, RandomFlip("horizontal"), RandomTranslation(0.1, 0.1),
        keras.layers.Conv2D(2, 3), RandomRotation(0.05), keras.layers.Flatten(),
        keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
