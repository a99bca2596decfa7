"""Initializers: fans, distributions (moments and limits), orthogonality, seeding, dtype, get()."""
import math

import numpy as np
import pytest

import kerasnp.random as kr
from kerasnp import config
from kerasnp import initializers as I

SHAPE = (500, 400)  # 200k samples: std estimates within ~0.2%, we allow 2%
FAN_IN, FAN_OUT = 500, 400


@pytest.fixture(autouse=True)
def _fresh_seed_state(monkeypatch):
    monkeypatch.setattr(kr, "_state", {"seed": None, "count": 0})


def draw(init, shape=SHAPE, **kw):
    return init(shape, rng=np.random.default_rng(123), **kw)


# --------------------------------------------------------------------------------------- fans
@pytest.mark.parametrize("shape, fans", [
    ((), (1, 1)),
    ((7,), (7, 7)),
    ((5, 3), (5, 3)),
    ((3, 3, 16, 32), (3 * 3 * 16, 3 * 3 * 32)),
    ((5, 8, 4), (5 * 8, 5 * 4)),
])
def test_compute_fans(shape, fans):
    assert I.compute_fans(shape) == fans


def test_conv_kernel_fans_drive_he_normal_std():
    w = draw(I.HeNormal(), (3, 3, 64, 32))
    assert w.std() == pytest.approx(math.sqrt(2.0 / (3 * 3 * 64)), rel=0.03)


def test_1d_shape_uses_its_length_for_both_fans():
    w = draw(I.GlorotUniform(), (100_000,))
    limit = math.sqrt(6.0 / 200_000)
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit


# ------------------------------------------------------------------------- variance scaling
UNIFORM_PRESETS = [
    (I.GlorotUniform, math.sqrt(6.0 / (FAN_IN + FAN_OUT))),
    (I.HeUniform, math.sqrt(6.0 / FAN_IN)),
    (I.LecunUniform, math.sqrt(3.0 / FAN_IN)),
]
NORMAL_PRESETS = [
    (I.GlorotNormal, math.sqrt(2.0 / (FAN_IN + FAN_OUT))),
    (I.HeNormal, math.sqrt(2.0 / FAN_IN)),
    (I.LecunNormal, math.sqrt(1.0 / FAN_IN)),
]


@pytest.mark.parametrize("cls, limit", UNIFORM_PRESETS)
def test_uniform_presets_limits_and_std(cls, limit):
    w = draw(cls())
    assert w.dtype == np.float32 and w.shape == SHAPE
    assert w.min() >= -limit and w.max() <= limit
    assert w.max() > 0.999 * limit and w.min() < -0.999 * limit
    assert abs(w.mean()) < 0.01 * limit
    assert w.std() == pytest.approx(limit / math.sqrt(3.0), rel=0.02)


@pytest.mark.parametrize("cls, std", NORMAL_PRESETS)
def test_truncated_normal_presets_std_after_truncation(cls, std):
    w = draw(cls())
    # Keras divides by 0.8796 so that the std *after* truncation at 2 sigma is sqrt(scale / n).
    assert w.std() == pytest.approx(std, rel=0.02)
    assert np.abs(w).max() <= 2.0 * std / 0.87962566103423978 * (1 + 1e-6)
    assert abs(w.mean()) < 0.01 * std


@pytest.mark.parametrize("mode, n", [("fan_in", FAN_IN), ("fan_out", FAN_OUT),
                                     ("fan_avg", (FAN_IN + FAN_OUT) / 2)])
def test_variance_scaling_modes(mode, n):
    w = draw(I.VarianceScaling(scale=3.0, mode=mode, distribution="uniform"))
    assert w.std() == pytest.approx(math.sqrt(3.0 / n), rel=0.02)
    assert np.abs(w).max() <= math.sqrt(9.0 / n)


def test_variance_scaling_untruncated_normal_has_tails():
    std = math.sqrt(0.5 / FAN_IN)
    w = draw(I.VarianceScaling(0.5, distribution="untruncated_normal"))
    assert w.std() == pytest.approx(std, rel=0.02)
    assert (np.abs(w) > 2.5 * std).mean() == pytest.approx(0.0124, rel=0.15)  # P(|z| > 2.5)


def test_variance_scaling_normal_means_truncated_normal():
    init = I.VarianceScaling(distribution="Normal")
    assert init.distribution == "truncated_normal"
    assert np.array_equal(draw(init), draw(I.LecunNormal()))


def test_variance_scaling_small_fans_clamped_to_one():
    w = draw(I.VarianceScaling(1.0, "fan_in", "uniform"), (0, 5))
    assert w.shape == (0, 5)
    w = draw(I.VarianceScaling(1.0, "fan_in", "uniform"), ())
    assert w.shape == () and abs(float(w)) <= math.sqrt(3.0)


# ---------------------------------------------------------------------------- plain random
def test_random_normal_moments():
    w = draw(I.RandomNormal(mean=1.5, stddev=0.2))
    assert w.mean() == pytest.approx(1.5, abs=0.002)
    assert w.std() == pytest.approx(0.2, rel=0.02)
    assert (np.abs(w - 1.5) > 0.5).any()  # untruncated: tails beyond 2.5 std exist


def test_truncated_normal_bounds_and_std():
    w = draw(I.TruncatedNormal(mean=-1.0, stddev=0.1))
    assert np.abs(w + 1.0).max() <= 0.2 + 1e-6
    assert np.abs(w + 1.0).max() > 0.199
    assert w.mean() == pytest.approx(-1.0, abs=0.001)
    assert w.std() == pytest.approx(0.1 * 0.87962566103423978, rel=0.02)


def test_random_uniform_bounds_and_moments():
    w = draw(I.RandomUniform(minval=2.0, maxval=5.0))
    assert w.min() >= 2.0 and w.max() <= 5.0
    assert w.min() < 2.001 and w.max() > 4.999
    assert w.mean() == pytest.approx(3.5, abs=0.01)
    assert w.std() == pytest.approx(3.0 / math.sqrt(12.0), rel=0.02)


def test_keras_defaults():
    assert I.RandomNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert I.TruncatedNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert I.RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    assert I.VarianceScaling().get_config() == {
        "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None}
    assert I.Orthogonal().get_config() == {"gain": 1.0, "seed": None}
    assert I.Identity().get_config() == {"gain": 1.0}
    assert I.Constant().get_config() == {"value": 0.0}
    assert I.GlorotUniform(seed=4).get_config() == {"seed": 4}


# ------------------------------------------------------------------------ structured inits
@pytest.mark.parametrize("shape", [(50, 20), (20, 50), (30, 30), (3, 3, 4, 8), (2, 3, 2, 40)])
@pytest.mark.parametrize("gain", [1.0, 0.5])
def test_orthogonal(shape, gain):
    w = draw(I.Orthogonal(gain=gain), shape).astype(np.float64)
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    small = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(small, gain ** 2 * np.eye(small.shape[0]), atol=1e-5)


def test_orthogonal_needs_2d():
    with pytest.raises(ValueError, match="at least 2-D.*shape=\\(5,\\)"):
        I.Orthogonal()((5,))


def test_identity():
    np.testing.assert_array_equal(I.Identity(gain=2.0)((3, 3)), 2.0 * np.eye(3))
    np.testing.assert_array_equal(I.Identity()((2, 4)), np.eye(2, 4))
    with pytest.raises(ValueError, match="2-D"):
        I.Identity()((2, 2, 2))


def test_zeros_ones_constant():
    assert not I.Zeros()((3, 4)).any()
    assert (I.Ones()((3, 4)) == 1).all()
    assert (I.Constant(0.25)((2, 2)) == 0.25).all()
    np.testing.assert_array_equal(I.Constant([1.0, 2.0, 3.0])((2, 3)), [[1, 2, 3], [1, 2, 3]])
    assert I.Zeros()((2,), dtype="int32").dtype == np.int32
    with pytest.raises(ValueError, match="broadcast"):
        I.Constant([1.0, 2.0])((2, 3))
    with pytest.raises(ValueError, match="value"):
        I.Constant("a")


# ------------------------------------------------------------------------------- seeding
ALL_RANDOM = [I.RandomNormal, I.RandomUniform, I.TruncatedNormal, I.VarianceScaling,
              I.GlorotUniform, I.GlorotNormal, I.HeUniform, I.HeNormal, I.LecunUniform,
              I.LecunNormal, I.Orthogonal]


@pytest.mark.parametrize("cls", ALL_RANDOM)
def test_seeded_is_deterministic_per_call_and_ignores_rng(cls):
    a = cls(seed=7)((20, 10))
    b = cls(seed=7)((20, 10), rng=np.random.default_rng(99))
    c = cls(seed=7)((20, 10))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, cls(seed=8)((20, 10)))


@pytest.mark.parametrize("cls", ALL_RANDOM)
def test_rng_drives_unseeded_draws(cls):
    init = cls()
    a = init((20, 10), rng=np.random.default_rng(5))
    b = init((20, 10), rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(5)
    first, second = init((20, 10), rng=rng), init((20, 10), rng=rng)
    assert not np.array_equal(first, second)  # the layer's generator advances


def test_unseeded_without_rng_follows_set_random_seed():
    init = I.GlorotUniform()
    kr.set_random_seed(3)
    a1, a2 = init((8, 4)), init((8, 4))
    kr.set_random_seed(3)
    b1, b2 = init((8, 4)), init((8, 4))
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)


def test_bad_seed_and_rng():
    with pytest.raises(ValueError, match="seed=-1"):
        I.HeNormal(seed=-1)
    with pytest.raises(ValueError, match="seed='x'"):
        I.RandomNormal(seed="x")
    with pytest.raises(TypeError, match="Generator"):
        I.HeNormal()((2, 2), rng=42)


# --------------------------------------------------------------------------------- dtype
@pytest.mark.parametrize("name", ["glorot_uniform", "he_normal", "random_normal",
                                  "random_uniform", "truncated_normal", "orthogonal",
                                  "zeros", "ones", "constant", "identity",
                                  "lecun_uniform", "variance_scaling"])
@pytest.mark.parametrize("dtype", [None, "float32", "float64", np.float16])
def test_dtype(name, dtype):
    w = I.get(name)((6, 6), dtype=dtype, rng=np.random.default_rng(0))
    assert w.dtype == np.dtype(dtype or "float32")
    assert w.shape == (6, 6)


def test_default_dtype_follows_floatx(monkeypatch):
    monkeypatch.setitem(config._state, "floatx", "float64")
    assert I.HeUniform()((3, 3)).dtype == np.float64
    assert I.Zeros()((3,)).dtype == np.float64


def test_random_init_rejects_integer_dtype():
    with pytest.raises(ValueError, match="float.*dtype='int32'"):
        I.HeNormal()((3, 3), dtype="int32")


def test_bad_shape():
    with pytest.raises(ValueError, match="shape"):
        I.Zeros()((3, -1))
    assert I.Ones()(4).shape == (4,)


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "fan_middle"}, "'fan_in', 'fan_out', 'fan_avg'.*mode='fan_middle'"),
    ({"distribution": "gaussian"},
     "'truncated_normal', 'untruncated_normal', 'uniform'.*distribution='gaussian'"),
    ({"scale": 0.0}, "scale=0.0"),
    ({"scale": -1}, "scale=-1"),
])
def test_variance_scaling_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        I.VarianceScaling(**kwargs)


def test_other_validation():
    with pytest.raises(ValueError, match="stddev=0"):
        I.RandomNormal(stddev=0)
    with pytest.raises(ValueError, match="stddev=-0.1"):
        I.TruncatedNormal(stddev=-0.1)
    with pytest.raises(ValueError, match="maxval=0.0"):
        I.RandomUniform(minval=1.0, maxval=0.0)
    with pytest.raises(ValueError, match="gain"):
        I.Orthogonal(gain=float("nan"))


# ---------------------------------------------------------------------------- get / config
NAMES = {
    "zeros": I.Zeros, "ones": I.Ones, "constant": I.Constant, "random_normal": I.RandomNormal,
    "normal": I.RandomNormal, "random_uniform": I.RandomUniform, "uniform": I.RandomUniform,
    "truncated_normal": I.TruncatedNormal, "variance_scaling": I.VarianceScaling,
    "glorot_uniform": I.GlorotUniform, "glorot_normal": I.GlorotNormal,
    "he_uniform": I.HeUniform, "he_normal": I.HeNormal, "lecun_uniform": I.LecunUniform,
    "lecun_normal": I.LecunNormal, "orthogonal": I.Orthogonal, "identity": I.Identity,
}


@pytest.mark.parametrize("name, cls", NAMES.items())
def test_get_by_snake_and_class_name(name, cls):
    assert type(I.get(name)) is cls
    assert type(I.get(cls.__name__)) is cls
    assert I.get(name) is not I.get(name)  # a fresh instance each time


@pytest.mark.parametrize("init", [I.Constant([1.0, 2.0]), I.RandomNormal(0.1, 0.3, seed=2),
                                  I.VarianceScaling(2.0, "fan_out", "uniform", seed=1),
                                  I.HeNormal(seed=5), I.Orthogonal(gain=2.0, seed=3),
                                  I.Identity(0.5), I.Zeros()])
def test_config_round_trip(init):
    config_dict = I.serialize(init)
    again = I.deserialize(config_dict)
    assert type(again) is type(init)
    assert again.get_config() == init.get_config()
    assert type(init).from_config(init.get_config()).get_config() == init.get_config()
    np.testing.assert_array_equal(again((4, 2), rng=np.random.default_rng(0)),
                                  init((4, 2), rng=np.random.default_rng(0)))


def test_get_passthrough_and_errors():
    assert I.get(None) is None
    init = I.HeNormal()
    assert I.get(init) is init

    def fn(shape, dtype=None):
        return np.full(shape, 3.0, dtype)
    assert I.get(fn) is fn
    assert type(I.get(I.GlorotNormal)) is I.GlorotNormal
    with pytest.raises(ValueError, match="Unknown initializer 'glorot_unifrom'.*Valid: .*"
                                         "glorot_uniform.*he_normal.*Did you mean "
                                         "'glorot_uniform'"):
        I.get("glorot_unifrom")
    with pytest.raises(ValueError, match="Valid names: .*zeros.*identifier=3"):
        I.get(3)
    with pytest.raises(ValueError, match="class_name"):
        I.get({"config": {}})
    with pytest.raises(ValueError, match="Only Initializer"):
        I.serialize(fn)
