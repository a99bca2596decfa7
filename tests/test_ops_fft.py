"""FFT ops on Keras's `(real, imag)` pairs: values against torch.fft / torch.stft / torch.istft
in float64, gradients (the adjoint transforms) against central differences, errors."""
import numpy as np
import pytest

from kerasnp import ops
from tests._ops_check import check_grad

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)
RE, IM = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3, 6))


def _c(re, im):
    return torch.complex(torch.tensor(re), torch.tensor(im))


def _split(t):
    return t.real.numpy(), t.imag.numpy()


def _close(got, want, **kw):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-12, **kw)


def test_complex_transforms_against_torch():
    _close(ops.fft((RE, IM)), _split(torch.fft.fft(_c(RE, IM))))
    _close(ops.fft2((RE, IM)), _split(torch.fft.fft2(_c(RE, IM))))
    _close(ops.ifft2((RE, IM)), _split(torch.fft.ifft2(_c(RE, IM))))
    re, im = ops.fft((RE.astype(np.float32), IM.astype(np.float32)))
    assert re.dtype == np.float32 and im.dtype == np.float32


def test_real_transforms_against_torch():
    x = torch.tensor(RE)
    for n in (None, 4, 9):
        _close(ops.rfft(RE, fft_length=n), _split(torch.fft.rfft(x, n=n)))
    c = (RE[..., :4], IM[..., :4])
    for n in (None, 5, 6, 11):
        np.testing.assert_allclose(ops.irfft(c, fft_length=n),
                                   torch.fft.irfft(_c(*c), n=n).numpy(), atol=1e-12)
    np.testing.assert_allclose(ops.irfft(ops.rfft(RE)), RE, atol=1e-12)


def test_gradients():
    check_grad(lambda a, b: ops.fft((a, b)), RE, IM)
    check_grad(lambda a, b: ops.fft2((a, b)), RE, IM)
    check_grad(lambda a, b: ops.ifft2((a, b)), RE, IM)
    for n in (None, 4, 9):
        check_grad(lambda a: ops.rfft(a, fft_length=n), RE)
    for n in (None, 5, 6, 11):
        check_grad(lambda a, b: ops.irfft((a, b), fft_length=n), RE[..., :4], IM[..., :4])


STFT_CASES = [dict(sequence_length=8, sequence_stride=2, fft_length=8),
              dict(sequence_length=6, sequence_stride=3, fft_length=10, window="hamming"),
              dict(sequence_length=8, sequence_stride=4, fft_length=8, window=None,
                   center=False)]


def _torch_window(kw):
    w = kw.get("window", "hann")
    if w is None:
        return torch.ones(kw["sequence_length"], dtype=torch.float64)
    fn = torch.hann_window if w == "hann" else torch.hamming_window
    return fn(kw["sequence_length"], periodic=True, dtype=torch.float64)


@pytest.mark.parametrize("kw", STFT_CASES)
def test_stft_against_torch(kw):
    x = rng.standard_normal((2, 33))
    want = torch.stft(torch.tensor(x), n_fft=kw["fft_length"], hop_length=kw["sequence_stride"],
                      win_length=kw["sequence_length"], window=_torch_window(kw),
                      center=kw.get("center", True), pad_mode="reflect", return_complex=True)
    re, im = ops.stft(x, **kw)
    assert re.shape == (2, want.shape[-1], kw["fft_length"] // 2 + 1)
    _close((re, im), _split(want.transpose(-1, -2)))
    check_grad(lambda a: ops.stft(a, **kw), x[:1, :20])


def test_istft_inverts_stft_and_matches_torch():
    kw = STFT_CASES[0]
    x = rng.standard_normal((2, 32))
    spec = ops.stft(x, **kw)
    np.testing.assert_allclose(ops.istft(spec, **kw), x, atol=1e-12)
    np.testing.assert_allclose(ops.istft(spec, length=30, **kw), x[:, :30], atol=1e-12)
    want = torch.istft(_c(*spec).transpose(-1, -2), n_fft=8, hop_length=2, win_length=8,
                       window=torch.hann_window(8, periodic=True, dtype=torch.float64))
    np.testing.assert_allclose(ops.istft(spec, **kw), want.numpy(), atol=1e-12)


def test_istft_steady_state_window_path():
    # Keras's path when sequence_length < fft_length: the padded window over the periodic
    # steady-state Σ win², so the interior is reconstructed exactly.
    kw = STFT_CASES[1]
    x = rng.standard_normal(40)
    y = ops.istft(ops.stft(x, **kw), **kw)
    np.testing.assert_allclose(y[10:30], x[10:30], atol=1e-12)


@pytest.mark.parametrize("kw", STFT_CASES + [dict(sequence_length=6, sequence_stride=2,
                                                   fft_length=8, length=9)])
def test_istft_gradients(kw):
    frames, bins = 4, kw["fft_length"] // 2 + 1
    re, im = rng.standard_normal((frames, bins)), rng.standard_normal((frames, bins))
    check_grad(lambda a, b: ops.istft((a, b), **kw), re, im)


def test_errors():
    with pytest.raises(ValueError, match=r"fft: x must be a tuple \(real, imag\)"):
        ops.fft(RE)
    with pytest.raises(ValueError, match="the real and imaginary parts must have the same"):
        ops.fft((RE, IM[..., :2]))
    with pytest.raises(ValueError, match="stft: fft_length must be >= sequence_length"):
        ops.stft(RE, 8, 2, 4)
    with pytest.raises(ValueError, match="stft: a string window must be 'hann' or 'hamming'"):
        ops.stft(RE, 4, 2, 4, window="blackman")
    with pytest.raises(ValueError, match=r"window must have shape \(sequence_length,\)"):
        ops.stft(RE, 4, 2, 4, window=np.ones(3))
