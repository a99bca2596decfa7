"""The recurrent kernels' building blocks against NumPy: the small matrix product, the coded
activations (the float32 polynomial exponential within float32 rounding) and their
derivatives; float32 layers agree with float64 ones."""
import numpy as np
import pytest

from kerasnp import layers
from kerasnp.autodiff.tape import unwrap
from kerasnp.kernels.recurrent_math import (ACTIVATION_CODES, act_inplace, dact,
                                            gru_cells_back, gru_cells_fast, lstm_cells_back,
                                            lstm_cells_fast, matmul_into, scratch)

REFERENCE = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
             "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z}


@pytest.mark.parametrize("shape", [(64, 64, 256), (5, 7, 3), (3, 256, 64), (1, 1, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_into_equals_numpy(shape, dtype):
    n, m, p = shape
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(n, m)).astype(dtype), rng.normal(size=(m, p)).astype(dtype)
    out = np.full((n, p), np.nan, dtype)
    matmul_into(a, b, np.zeros((1, p), dtype), out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-5 if dtype == np.float32 else 1e-12)
    c = rng.normal(size=(n, p)).astype(dtype)
    matmul_into(a, b, c, out)                       # out = c + a·b
    np.testing.assert_allclose(out, c + a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("name", list(ACTIVATION_CODES))
@pytest.mark.parametrize("fast", [False, True])
def test_activations_and_derivatives(name, fast):
    dtype = np.float32 if fast else np.float64
    z = np.concatenate([np.linspace(-100, 100, 2001), [0.0, -1e-8, 1e-8, 88.5, -88.5]])
    x = z.astype(dtype)
    y = x.copy()
    act_inplace(y, ACTIVATION_CODES[name], fast, *scratch(len(y), dtype))
    want = REFERENCE[name](z)
    np.testing.assert_allclose(y, want, rtol=1e-6 if fast else 1e-14,
                               atol=2e-7 if fast else 1e-15)
    h = 1e-6
    for v, out in zip(z[::50], want[::50]):
        if abs(v) < 30 and not (name == "relu" and abs(v) < 1e-3):
            num = (REFERENCE[name](v + h) - REFERENCE[name](v - h)) / (2 * h)
            assert abs(dact(out, ACTIVATION_CODES[name]) - num) < 1e-6


def test_lstm_cells_fast_matches_numpy_and_the_per_gate_path():
    """The block step (float32 tanh/sigmoid): within 1e-6 relative of float64 NumPy, and bit for
    bit what act_inplace gives gate by gate."""
    rng = np.random.default_rng(0)
    n, u = 7, 13
    z = (rng.normal(size=(n, 4 * u)) * 4).astype(np.float32)
    z[0, :8] = [0.0, -1e-8, 88.5, -88.5, 100.0, -100.0, 30.0, -30.0]
    c_old = (rng.normal(size=(n, u)) * 3).astype(np.float32)
    neg_scale, mul, sub = (np.array(v * (2 * u) + w * u + v * u, np.float32)
                           for v, w in (([-1.0], [-2.0]), ([1.0], [2.0]), ([0.0], [1.0])))
    got = z.copy()
    c_new, tc, h = (np.full((n, u), np.nan, np.float32) for _ in range(3))
    lstm_cells_fast(got, c_old, c_new, tc, h, neg_scale, mul, sub, *scratch(4 * u, np.float32))
    z64 = z.astype(np.float64)
    sig = REFERENCE["sigmoid"]
    gi, gf, gg, go = sig(z64[:, :u]), sig(z64[:, u:2 * u]), np.tanh(z64[:, 2 * u:3 * u]), \
        sig(z64[:, 3 * u:])
    want_c = gf * c_old + gi * gg
    tol = dict(rtol=1e-6, atol=2e-7)
    np.testing.assert_allclose(got, np.concatenate([gi, gf, gg, go], axis=1), **tol)
    np.testing.assert_allclose(c_new, want_c, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(tc, np.tanh(c_new.astype(np.float64)), **tol)
    np.testing.assert_allclose(h, go * np.tanh(want_c), rtol=1e-6, atol=1e-6)
    ref, tmp = z.copy(), scratch(4 * u, np.float32)
    for b in range(n):
        for sl, code in ((np.s_[:2 * u], 1), (np.s_[2 * u:3 * u], 0), (np.s_[3 * u:], 1)):
            act_inplace(ref[b, sl], code, True, *tmp)
    ref_tc = ref[:, u:2 * u] * c_old + ref[:, :u] * ref[:, 2 * u:3 * u]
    np.testing.assert_array_equal(c_new, ref_tc)
    for b in range(n):
        act_inplace(ref_tc[b], 0, True, *tmp)
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(tc, ref_tc)
    np.testing.assert_array_equal(h, ref[:, 3 * u:] * ref_tc)


def test_gru_cells_fast_matches_numpy_and_the_per_gate_path():
    rng = np.random.default_rng(2)
    n, u = 6, 9
    xp, rec = ((rng.normal(size=(n, 3 * u)) * 4).astype(np.float32) for _ in range(2))
    h_old = rng.normal(size=(n, u)).astype(np.float32)
    g, h_new = np.full((n, 3 * u), np.nan, np.float32), np.full((n, u), np.nan, np.float32)
    gru_cells_fast(xp, rec, g, h_old, h_new, *scratch(3 * u, np.float32))
    x64, r64 = xp.astype(np.float64), rec.astype(np.float64)
    zr = REFERENCE["sigmoid"](x64[:, :2 * u] + r64[:, :2 * u])
    hh = np.tanh(x64[:, 2 * u:] + zr[:, u:] * r64[:, 2 * u:])
    np.testing.assert_allclose(g, np.concatenate([zr, hh], axis=1), rtol=1e-6, atol=2e-7)
    z = zr[:, :u]
    np.testing.assert_allclose(h_new, z * h_old + (1 - z) * hh, rtol=1e-6, atol=1e-6)
    ref, tmp = xp + rec, scratch(3 * u, np.float32)
    for b in range(n):
        act_inplace(ref[b, :2 * u], 1, True, *tmp)
        ref[b, 2 * u:] = xp[b, 2 * u:] + ref[b, u:2 * u] * rec[b, 2 * u:]
        act_inplace(ref[b, 2 * u:], 0, True, *tmp)
    np.testing.assert_array_equal(g, ref)
    zf = ref[:, :u]
    np.testing.assert_array_equal(h_new, zf * h_old + (np.float32(1) - zf) * ref[:, 2 * u:])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_cells_back_matches_numpy(dtype):
    rng = np.random.default_rng(1)
    n, u = 5, 11
    g = rng.random((n, 4 * u)).astype(dtype)
    g[:, 2 * u:3 * u] = 2 * g[:, 2 * u:3 * u] - 1                 # c̃ = tanh(.) in (-1, 1)
    tc, cp = np.tanh(rng.normal(size=(n, u))).astype(dtype), rng.normal(size=(n, u)).astype(dtype)
    dh, dc = rng.normal(size=(n, u)).astype(dtype), rng.normal(size=(n, u)).astype(dtype)
    i, f, c, o = g[:, :u], g[:, u:2 * u], g[:, 2 * u:3 * u], g[:, 3 * u:]
    dct = dc + dh * o * (1 - tc * tc)
    want = np.concatenate([dct * c * i * (1 - i), dct * cp * f * (1 - f),
                           dct * i * (1 - c * c), dh * tc * o * (1 - o)], axis=1)
    dz, dc_out = np.full_like(g, np.nan), dc.copy()
    lstm_cells_back(dh, dc_out, g, tc, cp, dz)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(dz, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(dc_out, dct * f, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gru_cells_back_matches_numpy(dtype):
    rng = np.random.default_rng(3)
    n, u = 5, 7
    g = rng.random((n, 3 * u)).astype(dtype)
    g[:, 2 * u:] = 2 * g[:, 2 * u:] - 1                           # h̃ = tanh(.) in (-1, 1)
    hp, dh = rng.normal(size=(n, u)).astype(dtype), rng.normal(size=(n, u)).astype(dtype)
    rec = rng.normal(size=(n, 3 * u)).astype(dtype)
    z, r, hh = g[:, :u], g[:, u:2 * u], g[:, 2 * u:]
    dzp, dah = dh * (hp - hh) * z * (1 - z), dh * (1 - z) * (1 - hh * hh)
    drp = dah * rec[:, 2 * u:] * r * (1 - r)
    dx, dr = np.full_like(g, np.nan), np.full_like(g, np.nan)
    gru_cells_back(dh, g, hp, rec, dx, dr)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(dx, np.concatenate([dzp, drp, dah], axis=1), rtol=tol, atol=tol)
    np.testing.assert_allclose(dr, np.concatenate([dzp, drp, dah * r], axis=1), rtol=tol,
                               atol=tol)


@pytest.mark.parametrize("make", [layers.LSTM, layers.GRU, layers.SimpleRNN])
def test_float32_layers_agree_with_float64(make):
    x = np.random.default_rng(0).normal(size=(4, 30, 5))
    layer = make(8, return_sequences=True)
    y32 = unwrap(layer(x.astype("float32")))
    twin = make(8, return_sequences=True, dtype="float64")
    twin(x)
    twin.set_weights([w.astype("float64") for w in layer.get_weights()])
    y64 = unwrap(twin(x))
    assert y32.dtype == np.float32 and y64.dtype == np.float64
    np.testing.assert_allclose(y32, y64, atol=2e-6)


@pytest.mark.parametrize("make", [layers.LSTM, layers.GRU, layers.SimpleRNN])
def test_batch_split_between_threads_changes_nothing(make, monkeypatch):
    """Row blocks on several threads give the single-thread results bit for bit."""
    from kerasnp import ops
    from kerasnp.autodiff import GradientTape
    from kerasnp.ops import _recurrent_threads
    rng = np.random.default_rng(0)
    x = rng.normal(size=(53, 7, 3)).astype("float32")
    mask = rng.random((53, 7)) > 0.3
    layer = make(5, return_sequences=True, return_state=True, recurrent_dropout=0.2, seed=1)
    layer(x)
    results = []
    for threads in ("1", "3"):
        monkeypatch.setenv("KERASNP_RNN_THREADS", threads)
        layer.cell._rng = np.random.default_rng(2)
        with GradientTape() as tape:
            tape.watch(x)
            out = layer(x, mask=mask, training=True)
            loss = sum(ops.sum(o * o) for o in out)
        results.append([unwrap(o) for o in out] + tape.gradient(loss, [x] + layer.weights))
    assert _recurrent_threads.max_threads() == 3
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_thread_budget_is_kerasnps_unless_overridden(monkeypatch):
    """The kernels' budget is kerasnp's thread budget (KERASNP_NUM_THREADS, else the CPUs the
    process may use); KERASNP_RNN_THREADS overrides it for the recurrent kernels; a bad value
    is a clear error naming the variable."""
    from kerasnp.kernels import threads
    from kerasnp.ops import _recurrent_threads
    monkeypatch.delenv("KERASNP_RNN_THREADS", raising=False)
    monkeypatch.delenv("KERASNP_NUM_THREADS", raising=False)
    assert _recurrent_threads.max_threads() == threads.available_cpus()
    monkeypatch.setenv("KERASNP_NUM_THREADS", "3")
    assert _recurrent_threads.max_threads() == 3
    monkeypatch.setenv("KERASNP_RNN_THREADS", "4")
    assert _recurrent_threads.max_threads() == 4
    monkeypatch.setenv("KERASNP_RNN_THREADS", "many")
    with pytest.raises(ValueError, match="KERASNP_RNN_THREADS.*Received.*many"):
        _recurrent_threads.max_threads()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_runs_the_threaded_kernels(monkeypatch):
    import multiprocessing
    monkeypatch.setenv("KERASNP_RNN_THREADS", "2")
    layer = layers.LSTM(4)
    x = np.random.default_rng(0).normal(size=(40, 5, 3)).astype("float32")
    want = unwrap(layer(x))                                 # the parent's pool now exists
    _FORKED.update(layer=layer, x=x)                        # the child sees it by fork
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(_call_forked_layer).get(timeout=60)
    np.testing.assert_array_equal(got, want)


_FORKED = {}


def _call_forked_layer():
    return unwrap(_FORKED["layer"](_FORKED["x"]))
