"""ConvLSTM1D/2D/3D: parity with a NumPy loop reference (float64; its convolution a direct sum
over kernel offsets), masks, dropout masks, states, float64 central differences through the
whole sequence, Keras's defaults, config keys and parameter counts (literals checked with
Keras 3.15, whose outputs the layers also matched to 2e-7 in float32 when written)."""
import copy

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.autodiff import GradientTape, unwrap


def _rand(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def _same_pads(size, k, s, d):
    keff = (k - 1) * d + 1
    total = max((-(-size // s) - 1) * s + keff - size, 0)
    return total // 2, total - total // 2


def _conv(x, w, strides, padding, dilation):
    """Reference convolution, channels-last, any rank: Σ over offsets of x[taps]·w[offset]."""
    rank = x.ndim - 2
    k = w.shape[:rank]
    if padding == "same":
        x = np.pad(x, [(0, 0)] + [_same_pads(x.shape[1 + a], k[a], strides[a], dilation[a])
                                  for a in range(rank)] + [(0, 0)])
    out = [(x.shape[1 + a] - (k[a] - 1) * dilation[a] - 1) // strides[a] + 1 for a in range(rank)]
    y = np.zeros((x.shape[0], *out, w.shape[-1]))
    for off in np.ndindex(*k):
        taps = tuple(slice(off[a] * dilation[a], off[a] * dilation[a]
                           + strides[a] * (out[a] - 1) + 1, strides[a]) for a in range(rank))
        y += x[(slice(None),) + taps] @ w[off]
    return y


def _reference(layer, x, mask=None, dp=None, rdp=None, h=None, c=None):
    """ConvLSTM by hand: gates i, f, c, o; recurrent conv stride 1 "same"; Keras's masking."""
    kernel, rk, b = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
    f, rank = layer.filters, layer.rank
    s, d, ones = layer.strides, layer.dilation_rate, (1,) * rank
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))                         # noqa: E731
    gate = lambda w, g: w[..., g * f:(g + 1) * f]                    # noqa: E731
    n, t = x.shape[:2]
    outs = []
    for step in (range(t - 1, -1, -1) if layer.go_backwards else range(t)):
        zx = [_conv(x[:, step] * (1 if dp is None else dp[g]), gate(kernel, g), s,
                    layer.padding, d) + gate(b, g) for g in range(4)]
        if h is None:
            h = c = np.zeros(zx[0].shape)
        zh = [_conv(h * (1 if rdp is None else rdp[g]), gate(rk, g), ones, "same", ones)
              for g in range(4)]
        i, fg, o = sig(zx[0] + zh[0]), sig(zx[1] + zh[1]), sig(zx[3] + zh[3])
        c2 = fg * c + i * np.tanh(zx[2] + zh[2])
        h2 = o * np.tanh(c2)
        if mask is not None:
            keep = mask[:, step].reshape((n,) + (1,) * (rank + 1))
            out = np.where(keep, h2, 0.0 if layer.zero_output_for_mask else h)
            h2, c2 = np.where(keep, h2, h), np.where(keep, c2, c)
        else:
            out = h2
        outs.append(out)
        h, c = h2, c2
    return np.stack(outs, axis=1), h, c


def _layer(cls, x, seed=1, **kwargs):
    layer = cls(dtype="float64", return_sequences=True, return_state=True, **kwargs)
    layer(x)
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.standard_normal(w.shape) * 0.4 for w in layer.get_weights()])
    return layer


@pytest.mark.parametrize("cls, shape, kwargs", [
    (L.ConvLSTM1D, (2, 4, 7, 3), dict(filters=2, kernel_size=3, dilation_rate=2)),
    (L.ConvLSTM1D, (2, 3, 6, 2), dict(filters=3, kernel_size=2, strides=2, padding="same",
                                      go_backwards=True)),
    (L.ConvLSTM2D, (2, 4, 6, 5, 3), dict(filters=4, kernel_size=(3, 2), padding="same")),
    (L.ConvLSTM2D, (2, 3, 7, 6, 2), dict(filters=2, kernel_size=3, strides=(2, 1),
                                         go_backwards=True)),
    (L.ConvLSTM3D, (2, 3, 4, 5, 4, 2), dict(filters=3, kernel_size=2, padding="same")),
    (L.ConvLSTM3D, (1, 2, 5, 4, 5, 1), dict(filters=2, kernel_size=(2, 3, 2),
                                            dilation_rate=(2, 1, 1))),
])
def test_matches_a_numpy_loop(cls, shape, kwargs):
    x = _rand(*shape, seed=2)
    layer = _layer(cls, x, **kwargs)
    y, h, c = layer(x)
    ry, rh, rc = _reference(layer, x)
    np.testing.assert_allclose(y, ry, atol=1e-12)
    np.testing.assert_allclose(h, rh, atol=1e-12)
    np.testing.assert_allclose(c, rc, atol=1e-12)
    last = cls(dtype="float64", **kwargs)                        # return_sequences=False
    last(x)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x), ry[:, -1], atol=1e-12)


@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_steps_keep_the_states(zero_output):
    x = _rand(3, 5, 4, 4, 2, seed=3)
    mask = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [1, 0, 0, 0, 1]], bool)
    layer = _layer(L.ConvLSTM2D, x, filters=2, kernel_size=3, padding="same",
                   zero_output_for_mask=zero_output)
    for got, want in zip(layer(x, mask=mask), _reference(layer, x, mask=mask)):
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_dropout_masks_are_per_gate_and_fixed_over_time():
    x = _rand(2, 4, 5, 5, 2, seed=4)
    layer = _layer(L.ConvLSTM2D, x, filters=3, kernel_size=3, padding="same", dropout=0.4,
                   recurrent_dropout=0.3, seed=7)
    rng = copy.deepcopy(layer.cell._rng)                         # the draws the call will make
    dp = [(rng.random((2, 5, 5, 2)) >= 0.4) / 0.6 for _ in range(4)]
    rdp = [(rng.random((2, 5, 5, 3)) >= 0.3) / 0.7 for _ in range(4)]
    got = layer(x, training=True)
    for g, want in zip(got, _reference(layer, x, dp=dp, rdp=rdp)):
        np.testing.assert_allclose(g, want, atol=1e-12)
    for g, want in zip(layer(x), _reference(layer, x)):          # inference: no dropout
        np.testing.assert_allclose(g, want, atol=1e-12)


def test_initial_state_and_stateful_layers_carry_the_states():
    x = _rand(2, 6, 5, 3, seed=5)
    layer = _layer(L.ConvLSTM1D, x, filters=2, kernel_size=3, padding="same")
    h0, c0 = _rand(2, 5, 2, seed=6), _rand(2, 5, 2, seed=7)
    for g, want in zip(layer(x, initial_state=[h0, c0]), _reference(layer, x, h=h0, c=c0)):
        np.testing.assert_allclose(g, want, atol=1e-12)
    stateful = L.ConvLSTM1D(2, 3, padding="same", stateful=True, dtype="float64")
    stateful(x[:, :3])
    stateful.set_weights(layer.get_weights())
    stateful.reset_states()
    stateful(x[:, :3])
    np.testing.assert_allclose(stateful(x[:, 3:]), layer(x)[1], atol=1e-12)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, :3]), layer(x[:, :3])[1], atol=1e-12)
    with pytest.raises(ValueError, match=r"stateful.*Received: states of shape \(3, 5, 2\)"):
        stateful(_rand(3, 2, 5, 3))


@pytest.mark.parametrize("cls, shape", [(L.ConvLSTM2D, (2, 3, 4, 3, 2)),
                                        (L.ConvLSTM3D, (1, 2, 3, 2, 3, 1))])
def test_gradients_match_central_differences(cls, shape):
    x = _rand(*shape, seed=8)
    layer = _layer(cls, x, filters=2, kernel_size=2, padding="same", go_backwards=True)
    weights = layer.trainable_weights
    rng = np.random.default_rng(9)
    dys = [rng.standard_normal(np.shape(v)) for v in layer(x)]

    def loss():
        return sum(float(np.sum(unwrap(v) * dy)) for v, dy in zip(layer(x), dys))
    with GradientTape() as tape:
        tape.watch(x)
        outs = layer(x)
        total = sum(keras.ops.sum(v * dy) for v, dy in zip(outs, dys))
    grads = tape.gradient(total, [x] + weights)
    eps = 1e-6
    for k, (target, g) in enumerate(zip([x] + [w.value for w in weights], grads)):
        flat = target.reshape(-1)
        for i in rng.choice(flat.size, min(10, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + eps
            fp = loss()
            flat[i] = old - eps
            fm = loss()
            flat[i] = old
            np.testing.assert_allclose(np.asarray(g).reshape(-1)[i], (fp - fm) / (2 * eps),
                                       rtol=1e-6, atol=1e-8, err_msg=f"argument {k}")


def test_keras_weights_defaults_config_and_parameter_counts():
    layer = L.ConvLSTM2D(4, 3)
    layer(np.zeros((1, 5, 6, 6, 3), "float32"))
    assert [w.shape for w in layer.weights] == [(3, 3, 3, 16), (3, 3, 4, 16), (16,)]
    assert layer.name.startswith("conv_lstm2d")
    assert [w.path.split("/", 1)[1] for w in layer.weights] == [
        "conv_lstm_cell/kernel", "conv_lstm_cell/recurrent_kernel", "conv_lstm_cell/bias"]
    np.testing.assert_array_equal(layer.cell.bias.value, [0] * 4 + [1] * 4 + [0] * 8)
    assert layer.strides == (1, 1) and layer.padding == "valid" and layer.dropout == 0.0
    cfg = layer.get_config()
    assert list(cfg)[2:8] == ["return_sequences", "return_state", "go_backwards", "stateful",
                              "unroll", "zero_output_for_mask"]
    assert {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
            "activation", "recurrent_activation", "use_bias", "kernel_initializer",
            "recurrent_initializer", "bias_initializer", "unit_forget_bias",
            "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
            "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
            "recurrent_dropout", "seed"} <= set(cfg)
    assert "cell" not in cfg and cfg["activation"] == "tanh" and cfg["unit_forget_bias"]
    assert L.ConvLSTM2D.from_config(cfg).get_config() == cfg
    # Keras 3.15: 688, 1024, 128 and 492 parameters
    counts = [(L.ConvLSTM2D(4, (3, 2), padding="same"), (2, 4, 6, 5, 3)),
              (L.ConvLSTM2D(4, 3, strides=2), (2, 4, 6, 5, 3)),
              (L.ConvLSTM1D(2, 3, dilation_rate=2), (2, 4, 7, 3)),
              (L.ConvLSTM3D(3, 2, padding="same"), (2, 3, 4, 5, 4, 2))]
    got = []
    for lay, shape in counts:
        lay(np.zeros(shape, "float32"))
        got.append(lay.count_params())
    assert got == [688, 1024, 128, 492]
    model = keras.Sequential([keras.Input((4, 6, 5, 3)), L.ConvLSTM2D(4, (3, 2),
                                                                     return_sequences=True)])
    assert model.output_shape == (None, 4, 4, 4, 4)


def test_trains_in_a_model():
    model = keras.Sequential([keras.Input((3, 5, 5, 2)),
                              L.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
                              L.ConvLSTM2D(2, 3), L.Flatten(), L.Dense(1)])
    assert model.count_params() == 552 + 368 + 19              # Keras 3.15 summary
    model.compile("sgd", "mse")
    x, t = _rand(4, 3, 5, 5, 2).astype("float32"), _rand(4, 1).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, t, epochs=1, batch_size=2, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.parametrize("make, shape, match", [
    (lambda: L.ConvLSTM2D(2, 3), (1, 4, 4, 4),
     r"'conv_lstm2d.*' \(ConvLSTM2D\) expected input of rank 5 \(batch, time, rows, cols, "
     r"channels\), received shape \(None, 4, 4, 4\)"),
    (lambda: L.ConvLSTM3D(2, 3), (1, 2, 4, 4, 4),
     r"ConvLSTM3D\) expected input of rank 6"),
    (lambda: L.ConvLSTM1D(2, 5), (1, 2, 3, 1), r"too small for kernel_size=\(5,\)"),
])
def test_bad_inputs_name_the_layer(make, shape, match):
    with pytest.raises(ValueError, match=match):
        make()(np.ones(shape, "float32"))


def test_bad_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="padding"):
        L.ConvLSTM2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="dropout"):
        L.ConvLSTM1D(2, 3, dropout=1.5)
    layer = L.ConvLSTM1D(2, 3)
    with pytest.raises(ValueError, match=r"initial_state \[h, c\].*\(1, 3, 2\)"):
        layer(np.ones((1, 2, 5, 1), "float32"), initial_state=[np.zeros((1, 5, 2))] * 2)


def test_convlstm_saves_in_keras_format_without_falling_back(tmp_path):
    """ConvLSTM's weights sit under its cell in Keras's layout (`conv_lstm2d/cell/vars`), so
    `.keras` is written in Keras's format (no fallback warning) and loads back the same."""
    import warnings
    import zipfile
    import kerasnp as keras
    model = keras.Sequential([keras.Input((3, 6, 6, 2)), keras.layers.ConvLSTM2D(3, 3),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    x = np.random.default_rng(0).normal(size=(2, 3, 6, 6, 2)).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.save(tmp_path / "m.keras")
    assert "model.weights.h5" in zipfile.ZipFile(tmp_path / "m.keras").namelist()
    back = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
