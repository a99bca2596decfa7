"""Bidirectional over kerasnp's recurrent layers: parity with torch's bidirectional nn.LSTM in
float64 with copied weights (outputs, final states and every gradient; padded batches against
packed sequences), Keras's parameter counts, padded rows equal to the unpadded sequences,
float64 gradient checks through masks and states, save/load."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers, ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import unwrap

from _tape_check import tape_gradient_errors

if not all(hasattr(layers, n) for n in ("LSTM", "GRU", "SimpleRNN")):
    pytest.skip("the recurrent layers have not landed yet", allow_module_level=True)

TOL = 1e-10


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def test_parameter_counts_equal_keras():
    for rnn, want in ((layers.LSTM(64), 49_664), (layers.GRU(64), 37_632),
                      (layers.SimpleRNN(64), 12_416)):
        model = keras.Sequential([keras.Input((10, 32)), layers.Bidirectional(rnn)])
        assert model.count_params() == want, type(rnn).__name__
        assert model.output_shape == (None, 128)


def _torch_lstm(bi, features, units):
    """A torch bidirectional LSTM holding `bi`'s weights (Keras gate order i, f, c, o is
    torch's i, f, g, o; torch's second bias is zero)."""
    torch = pytest.importorskip("torch")
    net = torch.nn.LSTM(features, units, batch_first=True, bidirectional=True,
                        dtype=torch.float64)
    with torch.no_grad():
        for suffix, layer in (("", bi.forward_layer), ("_reverse", bi.backward_layer)):
            kernel, recurrent, bias = (w.numpy() for w in layer.weights)
            getattr(net, "weight_ih_l0" + suffix).copy_(torch.tensor(kernel.T))
            getattr(net, "weight_hh_l0" + suffix).copy_(torch.tensor(recurrent.T))
            getattr(net, "bias_ih_l0" + suffix).copy_(torch.tensor(bias))
            getattr(net, "bias_hh_l0" + suffix).zero_()
    return net


def _torch_grads(net, layer, suffix):
    """torch's gradients in Keras's layouts: kernel, recurrent_kernel, bias."""
    g = lambda name: getattr(net, name + suffix).grad.numpy()             # noqa: E731
    return [g("weight_ih_l0").T, g("weight_hh_l0").T, g("bias_ih_l0")]


@pytest.mark.parametrize("masked", [False, True])
def test_bidirectional_lstm_matches_torch(masked, float64):
    torch = pytest.importorskip("torch")
    n, t, f, u = 3, 5, 4, 6
    x = _x((n, t, f))
    lengths = np.array([5, 3, 1]) if masked else np.full(n, t)
    mask = np.arange(t)[None, :] < lengths[:, None]
    x[~mask] = 0.0
    bi = layers.Bidirectional(layers.LSTM(u, return_sequences=True, return_state=True,
                                          bias_initializer="random_normal"))
    bi(x)
    net = _torch_lstm(bi, f, u)
    dy, dh, dc = _x((n, t, 2 * u), 1), _x((4, n, u), 2), _x((4, n, u), 3)

    with GradientTape() as tape:
        tape.watch(x)
        out, hf, cf, hb, cb = bi(x, mask=mask if masked else None)
        loss = (ops.sum(out * dy) + ops.sum(hf * dh[0]) + ops.sum(cf * dc[0])
                + ops.sum(hb * dh[1]) + ops.sum(cb * dc[1]))
    grads = tape.gradient(loss, [x] + bi.trainable_weights)

    xt = torch.tensor(x, requires_grad=True)
    if masked:
        packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths),
                                                         batch_first=True)
        out_p, (h, c) = net(packed)
        out_t, _ = torch.nn.utils.rnn.pad_packed_sequence(out_p, batch_first=True,
                                                          total_length=t)
    else:
        out_t, (h, c) = net(xt)
    loss_t = ((out_t * torch.tensor(dy)).sum() + (h * torch.tensor(dh[:2])).sum()
              + (c * torch.tensor(dc[:2])).sum())
    loss_t.backward()

    np.testing.assert_allclose(unwrap(out), out_t.detach().numpy(), atol=TOL)
    for got, want in ((hf, h[0]), (hb, h[1]), (cf, c[0]), (cb, c[1])):
        np.testing.assert_allclose(unwrap(got), want.detach().numpy(), atol=TOL)
    np.testing.assert_allclose(grads[0], xt.grad.numpy(), atol=TOL)
    want = _torch_grads(net, bi.forward_layer, "") + _torch_grads(net, bi.backward_layer,
                                                                  "_reverse")
    for got, ref, var in zip(grads[1:], want, bi.trainable_weights):
        np.testing.assert_allclose(got, ref, atol=TOL, err_msg=var.path)


def test_padded_rows_equal_the_unpadded_sequences():
    keras.utils.set_random_seed(0)
    inp = keras.Input((None,), dtype="int32")
    h = layers.Embedding(20, 8, mask_zero=True)(inp)
    out = layers.Dense(2)(layers.Bidirectional(layers.LSTM(6))(h))
    model = keras.Model(inp, out)
    tokens = np.array([[3, 9, 4, 1, 0, 0], [5, 0, 0, 0, 0, 0], [2, 2, 7, 8, 6, 11]])
    lengths = (tokens != 0).sum(1)
    padded = unwrap(model(tokens))
    for i, k in enumerate(lengths):
        np.testing.assert_allclose(padded[i], unwrap(model(tokens[i:i + 1, :k]))[0],
                                   rtol=1e-5, atol=1e-6)
    seq_model = keras.Model(inp, layers.Bidirectional(layers.GRU(4, return_sequences=True))(
        layers.Embedding(20, 8, mask_zero=True)(inp)))
    seq = unwrap(seq_model(tokens))
    assert not seq[tokens == 0].any()                       # padded steps output zeros
    for i, k in enumerate(lengths):
        np.testing.assert_allclose(seq[i, :k], unwrap(seq_model(tokens[i:i + 1, :k]))[0],
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make", [lambda: layers.LSTM(3, return_state=True),
                                  lambda: layers.GRU(3, return_state=True),
                                  lambda: layers.SimpleRNN(3, return_state=True)])
def test_gradients_through_masks_and_states(make, float64):
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool)
    bi = layers.Bidirectional(make(), merge_mode="ave")

    class Head(layers.Layer):
        def __init__(self):
            super().__init__()
            self.bi = bi

        def call(self, x):
            out, *states = self.bi(x, mask=mask)
            return ops.concatenate([out] + states, axis=-1)

    errors = tape_gradient_errors(Head(), _x((3, 4, 2)))
    assert max(errors.values()) < 1e-6, errors


def test_initial_state_is_split_between_directions():
    bi = layers.Bidirectional(layers.LSTM(3, return_state=True))
    x = _x((2, 4, 2)).astype("float32")
    init = [_x((2, 3), k).astype("float32") for k in range(4)]
    out, hf, cf, hb, cb = bi(x, initial_state=init)
    _, hf2, cf2 = bi.forward_layer(x, initial_state=init[:2])
    _, hb2, cb2 = bi.backward_layer(x, initial_state=init[2:])
    for a, b in ((hf, hf2), (cf, cf2), (hb, hb2), (cb, cb2)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_text_classifier_trains_and_saves(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 30, (64, 10))
    for row, k in zip(tokens, rng.integers(2, 10, 64)):
        row[k:] = 0
    y = (tokens[:, 0] % 2).astype("int64")
    model = keras.Sequential([keras.Input((None,), dtype="int32"),
                              layers.Embedding(30, 8, mask_zero=True),
                              layers.Bidirectional(layers.LSTM(8)),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    hist = model.fit(tokens, y, epochs=8, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    model.save(tmp_path / "text.keras")
    loaded = keras.models.load_model(tmp_path / "text.keras")
    bi = loaded.layers[1]
    assert (bi.forward_layer.name, bi.backward_layer.name) == ("forward_lstm", "backward_lstm")
    np.testing.assert_array_equal(loaded.predict(tokens, verbose=0),
                                  model.predict(tokens, verbose=0))


def test_backward_layer_mismatch_with_real_layers():
    with pytest.raises(ValueError, match=r"same `return_sequences`"):
        layers.Bidirectional(layers.LSTM(4, return_sequences=True),
                             backward_layer=layers.LSTM(4, go_backwards=True))
    bi = layers.Bidirectional(layers.LSTM(4), backward_layer=layers.GRU(4, go_backwards=True))
    assert bi(_x((2, 3, 2)).astype("float32")).shape == (2, 8)
