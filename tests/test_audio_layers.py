"""STFTSpectrogram and MelSpectrogram: float64 values against NumPy / torch.stft references,
tape gradients against central differences, shapes, Keras's config keys and errors."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L

from _tape_check import tape_gradient_errors

RNG = np.random.default_rng(0)


def _hann(n, periodic):
    m = n if periodic else n - 1
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / m)


def _stft_reference(x, frame, step, nfft, win):
    """(batch, frames, channels, bins) complex STFT of (batch, time, channels) by np.fft."""
    frames = (x.shape[1] - frame) // step + 1
    segs = np.stack([x[:, i * step:i * step + frame] for i in range(frames)], axis=1)
    return np.fft.rfft(np.swapaxes(segs, -1, -2) * win, n=nfft, axis=-1)


@pytest.mark.parametrize("mode", ["real", "imag", "stft", "magnitude", "log", "psd", "angle"])
def test_stft_spectrogram_modes_against_numpy(mode):
    x = RNG.standard_normal((2, 70, 3))
    layer = L.STFTSpectrogram(mode=mode, frame_length=20, frame_step=7, fft_length=32,
                              dtype="float64")
    y = layer(x)
    win = _hann(20, periodic=False)
    z = _stft_reference(x, 20, 7, 32, win) / np.sqrt((win ** 2).sum())  # "density" scaling
    parts = {"real": z.real, "imag": z.imag, "magnitude": np.abs(z), "log": np.log(np.abs(z)),
             "angle": np.angle(z), "stft": np.concatenate([z.real, z.imag], axis=-1)}
    psd = np.abs(z) ** 2
    psd[..., 1:-1] *= 2
    parts["psd"] = psd
    ref = parts[mode].reshape(2, z.shape[1], -1)                    # channels major, bins minor
    assert y.shape == ref.shape == layer.compute_output_shape((2, 70, 3))
    if mode == "angle":                                  # -π and π are the same angle
        y = ref + (np.asarray(y) - ref + np.pi) % (2 * np.pi) - np.pi
    np.testing.assert_allclose(y, ref, atol=1e-10)


def test_stft_spectrogram_expand_dims_same_padding_and_options():
    x = RNG.standard_normal((1, 50, 2))
    layer = L.STFTSpectrogram(mode="real", frame_length=16, padding="same", expand_dims=True,
                              window="hamming", periodic=True, scaling="spectrum",
                              dtype="float64")
    y = layer(x)
    # "same" pads like a convolution: (16 - 1) // 2 = 7 samples left, the rest right.
    frames = -(-50 // 8)
    pad = max((frames - 1) * 8 + 16 - 50, 0)
    xp = np.pad(x, ((0, 0), (pad // 2, pad - pad // 2), (0, 0)))
    n = np.arange(16)
    win = 0.54 - 0.46 * np.cos(2 * np.pi * n / 16)
    z = _stft_reference(xp, 16, 8, 16, win) / win.sum()
    assert y.shape == (1, frames, 9, 2) == layer.compute_output_shape((1, 50, 2))
    np.testing.assert_allclose(y, np.swapaxes(z.real, -1, -2), atol=1e-10)


def test_stft_spectrogram_weights_are_keras_layout():
    # Keras 3.15.1: real_kernel then imag_kernel, (frame_length, 1, fft // 2 + 1), trainable.
    model = keras.Sequential([keras.Input((100, 2)),
                              L.STFTSpectrogram(frame_length=16, mode="stft", expand_dims=True)])
    assert model.output_shape == (None, 11, 18, 2) and model.count_params() == 288
    assert [w.shape for w in model.trainable_weights] == [(16, 1, 9), (16, 1, 9)]
    assert len(L.STFTSpectrogram(mode="real", frame_length=16)(np.zeros((1, 40, 1)))) == 1
    real_only = L.STFTSpectrogram(mode="real", frame_length=16)
    real_only(np.zeros((1, 40, 1)))
    assert [w.name for w in real_only.weights] == ["real_kernel"]


def test_stft_spectrogram_gradients():
    layer = L.STFTSpectrogram(mode="log", frame_length=8, frame_step=3, dtype="float64")
    errors = tape_gradient_errors(layer, RNG.standard_normal((2, 20, 1)))
    assert max(errors.values()) < 1e-6, errors


def _mel_reference(x, nfft, stride, seq, sr, n_mels, fmin, fmax, mag_exp, to_db, top_db, ref,
                   min_power):
    half = nfft // 2
    xp = np.pad(x, ((0, 0), (half, half)), mode="reflect")
    frames = 1 + (xp.shape[1] - nfft) // stride
    win = np.zeros(nfft)
    left = (nfft - seq) // 2
    win[left:left + seq] = _hann(seq, periodic=True)
    segs = np.stack([xp[:, i * stride:i * stride + nfft] for i in range(frames)], axis=1)
    spec = np.abs(np.fft.rfft(segs * win, axis=-1)) ** mag_exp
    mel = lambda f: 1127.0 * np.log(1 + np.asarray(f) / 700.0)             # noqa: E731
    bins = np.linspace(0, sr / 2, nfft // 2 + 1)
    edges = np.linspace(mel(fmin), mel(fmax), n_mels + 2)
    bank = np.zeros((nfft // 2 + 1, n_mels))
    for m in range(n_mels):
        lo, c, hi = edges[m:m + 3]
        for k in range(1, nfft // 2 + 1):                       # DC gets no weight
            b = mel(bins[k])
            bank[k, m] = max(0.0, min((b - lo) / (c - lo), (hi - b) / (hi - c)))
    out = spec @ bank
    if to_db:
        out = 10 * np.log10(np.maximum(out, min_power)) - 10 * np.log10(max(abs(ref), min_power))
        out = np.maximum(out, out.max() - top_db)
    return np.swapaxes(out, 1, 2)


@pytest.mark.parametrize("kw", [
    dict(fft_length=64, sequence_stride=16, num_mel_bins=8),
    dict(fft_length=64, sequence_stride=20, sequence_length=40, sampling_rate=8000,
         num_mel_bins=10, min_freq=50.0, max_freq=3000, mag_exp=1.0, top_db=30.0,
         ref_power=2.0),
    dict(fft_length=32, sequence_stride=8, num_mel_bins=6, power_to_db=False),
])
def test_mel_spectrogram_against_numpy(kw):
    x = RNG.standard_normal((2, 300))
    layer = L.MelSpectrogram(dtype="float64", **kw)
    full = dict(sequence_length=kw["fft_length"], sampling_rate=16000, min_freq=20.0,
                max_freq=None, mag_exp=2.0, power_to_db=True, top_db=80.0, ref_power=1.0)
    full.update(kw)
    ref = _mel_reference(x, full["fft_length"], full["sequence_stride"],
                         full["sequence_length"], full["sampling_rate"], full["num_mel_bins"],
                         full["min_freq"], full["max_freq"] or full["sampling_rate"] // 2,
                         full["mag_exp"], full["power_to_db"], full["top_db"],
                         full["ref_power"], 1e-10)
    y = layer(x)
    assert y.shape == ref.shape == layer.compute_output_shape((2, 300))
    np.testing.assert_allclose(y, ref, rtol=1e-9, atol=1e-9)


def test_mel_stft_matches_torch_stft():
    torch = pytest.importorskip("torch")
    from kerasnp.layers.audio_mel import stft_frames
    x = RNG.standard_normal((2, 200))
    win = _hann(64, periodic=True)
    ri = stft_frames(x, win, 16, 64)
    ref = torch.stft(torch.tensor(x), 64, hop_length=16, window=torch.tensor(win),
                     center=True, pad_mode="reflect", return_complex=True).numpy()
    np.testing.assert_allclose(ri[..., 0] + 1j * ri[..., 1], np.swapaxes(ref, 1, 2),
                               atol=1e-10)


@pytest.mark.parametrize("nfft", [16, 15])
def test_mel_gradients_through_the_fft_adjoint(nfft):
    layer = L.MelSpectrogram(fft_length=nfft, sequence_stride=5, num_mel_bins=4,
                             sampling_rate=1000, min_freq=10.0, power_to_db=False,
                             mag_exp=1.0, dtype="float64")
    errors = tape_gradient_errors(layer, RNG.standard_normal((2, 30)))
    assert max(errors.values()) < 1e-6, errors


def test_configs_match_keras():
    # keras.layers.MelSpectrogram().get_config() / STFTSpectrogram() in Keras 3.15.1.
    drop = ("name", "trainable", "dtype")
    mel = {k: v for k, v in L.MelSpectrogram().get_config().items() if k not in drop}
    assert mel == {"fft_length": 2048, "sequence_stride": 512, "sequence_length": 2048,
                   "window": "hann", "sampling_rate": 16000, "num_mel_bins": 128,
                   "min_freq": 20.0, "max_freq": 8000, "power_to_db": True, "top_db": 80.0,
                   "mag_exp": 2.0, "min_power": 1e-10, "ref_power": 1.0}
    stft = {k: v for k, v in L.STFTSpectrogram().get_config().items() if k not in drop}
    assert stft == {"mode": "log", "frame_length": 256, "frame_step": None, "fft_length": None,
                    "window": "hann", "periodic": False, "scaling": "density",
                    "padding": "valid", "data_format": "channels_last", "expand_dims": False}
    for layer in (L.MelSpectrogram(fft_length=64, window="hamming"),
                  L.STFTSpectrogram(mode="psd", frame_length=30, fft_length=64)):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("make, match", [
    (lambda: L.MelSpectrogram(fft_length=64, sequence_length=128),
     r"MelSpectrogram.*sequence_length=128"),
    (lambda: L.MelSpectrogram(window="kaiserr"), r"window.*kaiserr"),
    (lambda: L.MelSpectrogram(min_freq=9000.0), r"min_freq=9000"),
    (lambda: L.STFTSpectrogram(mode="power"), r"STFTSpectrogram.*mode.*'power'"),
    (lambda: L.STFTSpectrogram(frame_length=16, frame_step=20), r"frame_step=20"),
    (lambda: L.STFTSpectrogram(frame_length=16, fft_length=8), r"fft_length=8"),
    (lambda: L.STFTSpectrogram(padding="causal"), r"padding"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_input_ranks_and_short_signals():
    with pytest.raises(ValueError, match=r"MelSpectrogram.*rank 2"):
        L.MelSpectrogram(fft_length=16)(np.zeros((1, 40, 1)))
    with pytest.raises(ValueError, match=r"more than fft_length // 2 = 8"):
        L.MelSpectrogram(fft_length=16)(np.zeros((1, 5)))
    with pytest.raises(ValueError, match=r"STFTSpectrogram.*rank 3"):
        L.STFTSpectrogram(frame_length=16)(np.zeros((1, 40)))


def test_in_a_functional_model_float32():
    inp = keras.Input((400,))
    out = L.MelSpectrogram(fft_length=64, sequence_stride=32, num_mel_bins=16)(inp)
    model = keras.Model(inp, out)
    assert model.output_shape == (None, 16, 13)
    y = model.predict(RNG.standard_normal((3, 400)).astype("float32"), verbose=0)
    assert y.shape == (3, 16, 13) and y.dtype == np.float32
