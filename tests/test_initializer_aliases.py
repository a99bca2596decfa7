"""Keras 3's lowercase initializer aliases and the STFT initializer."""
import numpy as np
import pytest

from kerasnp import initializers as I

# Verified with Keras 3.15.1: each lowercase name is the class itself.
ALIASES = {"constant": "Constant", "glorot_normal": "GlorotNormal",
           "glorot_uniform": "GlorotUniform", "he_normal": "HeNormal", "he_uniform": "HeUniform",
           "identity": "Identity", "lecun_normal": "LecunNormal",
           "lecun_uniform": "LecunUniform", "ones": "Ones", "orthogonal": "Orthogonal",
           "random_normal": "RandomNormal", "random_uniform": "RandomUniform",
           "truncated_normal": "TruncatedNormal", "variance_scaling": "VarianceScaling",
           "zeros": "Zeros"}


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_lowercase_alias_is_the_class(alias):
    assert getattr(I, alias) is getattr(I, ALIASES[alias])


def test_alias_instances_behave_like_the_class():
    np.testing.assert_array_equal(I.glorot_uniform(seed=3)((4, 5)),
                                  I.GlorotUniform(seed=3)((4, 5)))
    assert I.constant(2.0)((2,)).tolist() == [2.0, 2.0]


def test_stft_names():
    assert I.STFTInitializer is I.STFT and I.stft is I.STFT
    assert isinstance(I.get("stft"), I.STFT) and isinstance(I.get("STFT"), I.STFT)


def test_stft_default_config_is_keras():
    # keras.initializers.STFT().get_config() in Keras 3.15.1
    assert I.STFT().get_config() == {"side": "real", "window": "hann", "periodic": False,
                                     "scaling": "density"}
    clone = I.deserialize(I.serialize(I.STFT("imag", "hamming", "spectrum", True)))
    assert clone.get_config() == {"side": "imag", "window": "hamming", "periodic": True,
                                  "scaling": "spectrum"}


def _reference(side, win, scaling, length, bins):
    t = np.arange(length)[:, None]
    k = np.arange(bins)[None, :]
    base = np.exp(-2j * np.pi * t * k / (2 * (bins - 1)))
    part = base.real if side == "real" else base.imag
    norm = {"density": np.sqrt((win ** 2).sum()), "spectrum": np.abs(win).sum(), None: 1}
    return part * win[:, None] / norm[scaling]


@pytest.mark.parametrize("side", ["real", "imag"])
@pytest.mark.parametrize("scaling", ["density", "spectrum", None])
def test_stft_kernel_against_windowed_dft(side, scaling):
    length, bins = 10, 9
    n = np.arange(length)
    hann_sym = 0.5 - 0.5 * np.cos(2 * np.pi * n / (length - 1))
    got = I.STFT(side, "hann", scaling)((length, 1, bins), dtype="float64")
    np.testing.assert_allclose(got[:, 0, :], _reference(side, hann_sym, scaling, length, bins),
                               atol=1e-12)


def test_stft_periodic_window_and_convolution_gives_rfft():
    length = 8
    n = np.arange(length)
    hamming_per = 0.54 - 0.46 * np.cos(2 * np.pi * n / length)
    re = I.STFT("real", "hamming", None, periodic=True)((length, 1, 5), dtype="float64")[:, 0]
    im = I.STFT("imag", "hamming", None, periodic=True)((length, 1, 5), dtype="float64")[:, 0]
    frame = np.random.default_rng(0).standard_normal(length)
    np.testing.assert_allclose(frame @ re + 1j * (frame @ im), np.fft.rfft(frame * hamming_per),
                               atol=1e-12)


def test_stft_array_window_and_none():
    win = np.linspace(0.1, 1.0, 4)
    k = I.STFT("real", win, None)((4, 1, 3), dtype="float64")
    np.testing.assert_allclose(k[:, 0, 0], win)
    assert I.STFT("real", win).get_config()["window"] == win.tolist()
    np.testing.assert_allclose(I.STFT("real", None)((4, 1, 3))[:, 0, 0], 1.0)


def test_stft_errors():
    with pytest.raises(ValueError, match="side"):
        I.STFT(side="both")
    with pytest.raises(ValueError, match="window.*kaiserr"):
        I.STFT(window="kaiserr")
    with pytest.raises(ValueError, match="scaling"):
        I.STFT(scaling="l2")
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        I.STFT(window=[1.0, 2.0])((4, 1, 3))
    with pytest.raises(ValueError, match="frame_length, 1, bins"):
        I.STFT()((4, 3))
