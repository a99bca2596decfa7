"""SimpleRNN, LSTM, GRU: torch parity in float64 with copied weights (outputs, final states and
the gradients of the input and of every weight; go_backwards, return_state, initial states),
Keras's parameter counts and weight layouts, shapes, masks' outputs, errors."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers, ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import unwrap

TOL = 1e-6


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def _blocks(a, order, u, axis):
    """Keras gate blocks of `a` (along `axis`) rearranged into `order`."""
    parts = np.split(a, a.shape[axis] // u, axis=axis)
    return np.concatenate([parts[k] for k in order], axis=axis)


# Keras gate order -> torch's: LSTM i,f,c,o = i,f,g,o; GRU z,r,h -> r,z,n.
_ORDER = {"LSTM": [0, 1, 2, 3], "GRU": [1, 0, 2], "SimpleRNN": [0]}
_TORCH = {"LSTM": "LSTM", "GRU": "GRU", "SimpleRNN": "RNN"}


def _torch_net(layer, features):
    torch = pytest.importorskip("torch")
    kind, u = type(layer).__name__, layer.units
    net = getattr(torch.nn, _TORCH[kind])(features, u, batch_first=True, dtype=torch.float64)
    kernel, rec, bias = (w.numpy() for w in layer.weights)
    order = _ORDER[kind]
    b_ih, b_hh = (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros_like(bias))
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.tensor(_blocks(kernel, order, u, 1).T))
        net.weight_hh_l0.copy_(torch.tensor(_blocks(rec, order, u, 1).T))
        net.bias_ih_l0.copy_(torch.tensor(_blocks(b_ih, order, u, 0)))
        net.bias_hh_l0.copy_(torch.tensor(_blocks(b_hh, order, u, 0)))
    return net


def _torch_grads(layer, net):
    """torch's weight gradients in Keras's layouts."""
    kind, u = type(layer).__name__, layer.units
    back = np.argsort(_ORDER[kind])
    g = {n: getattr(net, n + "_l0").grad.numpy() for n in ("weight_ih", "weight_hh",
                                                            "bias_ih", "bias_hh")}
    kernel = _blocks(g["weight_ih"].T, back, u, 1)
    rec = _blocks(g["weight_hh"].T, back, u, 1)
    b_ih, b_hh = _blocks(g["bias_ih"], back, u, 0), _blocks(g["bias_hh"], back, u, 0)
    bias = np.stack([b_ih, b_hh]) if kind == "GRU" else b_ih
    return [kernel, rec, bias]


MAKERS = {"LSTM": layers.LSTM, "GRU": layers.GRU, "SimpleRNN": layers.SimpleRNN}


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("with_initial", [False, True])
def test_matches_torch_outputs_states_and_gradients(kind, go_backwards, with_initial, float64):
    torch = pytest.importorskip("torch")
    n, t, f, u = 3, 6, 4, 5
    n_states = 2 if kind == "LSTM" else 1
    layer = MAKERS[kind](u, return_sequences=True, return_state=True, go_backwards=go_backwards,
                         bias_initializer="random_normal")
    x = _x((n, t, f))
    init = [_x((n, u), 10 + k) for k in range(n_states)] if with_initial else None
    layer(x)
    net = _torch_net(layer, f)
    dy, ds = _x((n, t, u), 1), [_x((n, u), 2 + k) for k in range(n_states)]

    with GradientTape() as tape:
        tape.watch(x)
        if init:
            tape.watch(init)
        out, *states = layer(x, initial_state=init)
        loss = ops.sum(out * dy) + sum(ops.sum(s * d) for s, d in zip(states, ds))
    grads = tape.gradient(loss, [x] + (init or []) + layer.trainable_weights)

    xt = torch.tensor(x[:, ::-1].copy() if go_backwards else x, requires_grad=True)
    it = [torch.tensor(s[None], requires_grad=True) for s in init] if init else None
    if it is None:
        out_t, st = net(xt)
    else:
        out_t, st = net(xt, tuple(it) if kind == "LSTM" else it[0])
    st = list(st) if kind == "LSTM" else [st]
    loss_t = (out_t * torch.tensor(dy)).sum() + sum(
        (s[0] * torch.tensor(d)).sum() for s, d in zip(st, ds))
    loss_t.backward()

    np.testing.assert_allclose(unwrap(out), out_t.detach().numpy(), atol=TOL)
    for got, want in zip(states, st):
        np.testing.assert_allclose(unwrap(got), want[0].detach().numpy(), atol=TOL)
    dx_t = xt.grad.numpy()
    np.testing.assert_allclose(grads[0], dx_t[:, ::-1] if go_backwards else dx_t, atol=TOL)
    k = 1
    if init:
        for g, s in zip(grads[1:1 + n_states], it):
            np.testing.assert_allclose(g, s.grad.numpy()[0], atol=TOL)
        k += n_states
    for got, want, var in zip(grads[k:], _torch_grads(layer, net), layer.trainable_weights):
        np.testing.assert_allclose(got, want, atol=TOL, err_msg=var.path)


@pytest.mark.parametrize("kind", list(MAKERS))
def test_last_output_matches_torch_last_step(kind, float64):
    torch = pytest.importorskip("torch")
    layer = MAKERS[kind](4)
    x = _x((2, 7, 3))
    y = unwrap(layer(x))
    out_t, _ = _torch_net(layer, 3)(torch.tensor(x))
    np.testing.assert_allclose(y, out_t[:, -1].detach().numpy(), atol=TOL)


def test_parameter_counts_and_weight_layouts_equal_keras():
    for make, want, shapes in (
            (layers.LSTM, 24_832, [(32, 256), (64, 256), (256,)]),
            (layers.GRU, 18_816, [(32, 192), (64, 192), (2, 192)]),
            (layers.SimpleRNN, 6_208, [(32, 64), (64, 64), (64,)])):
        model = keras.Sequential([keras.Input((50, 32)), make(64)])
        assert model.count_params() == want, make.__name__
        assert [w.shape for w in model.weights] == shapes
        assert [w.name for w in model.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert keras.Sequential([keras.Input((50, 32)),
                             layers.GRU(64, reset_after=False)]).count_params() == 18_624
    lstm = layers.LSTM(3, name="enc")
    lstm(np.zeros((1, 2, 2), "float32"))
    assert [w.path for w in lstm.weights][0] == "enc/lstm_cell/kernel"
    np.testing.assert_array_equal(lstm.cell.bias.numpy(), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])


def test_defaults_follow_keras():
    lstm = layers.LSTM(8)
    assert lstm.activation.name == "tanh" and lstm.recurrent_activation.name == "sigmoid"
    assert type(lstm.recurrent_initializer).__name__ == "Orthogonal"
    assert type(lstm.kernel_initializer).__name__ == "GlorotUniform"
    assert lstm.unit_forget_bias and lstm.use_bias and not lstm.return_sequences
    assert layers.GRU(8).reset_after
    assert isinstance(lstm.cell, layers.LSTMCell) and isinstance(lstm, layers.RNN)


@pytest.mark.parametrize("kind", list(MAKERS))
def test_output_shapes(kind):
    x = np.zeros((2, 5, 3), "float32")
    n_states = 2 if kind == "LSTM" else 1
    for seq, state in ((False, False), (True, False), (False, True), (True, True)):
        layer = MAKERS[kind](4, return_sequences=seq, return_state=state)
        y = layer(x)
        want = layer.compute_output_shape((None, 5, 3))
        if state:
            assert len(y) == 1 + n_states
            assert [tuple(np.shape(a)) for a in y] == [(2,) + s[1:] for s in want]
        else:
            assert np.shape(y) == (2,) + want[1:]
        assert unwrap(y[0] if state else y).dtype == np.float32


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_steps_keep_state_and_output_as_keras(kind, zero_output):
    """A masked step carries the state; its output is the carried h (Keras's default) or 0."""
    keras.utils.set_random_seed(0)
    x = _x((3, 6, 2)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 1, 0, 0]], bool)
    layer = MAKERS[kind](4, return_sequences=True, return_state=True,
                         zero_output_for_mask=zero_output)
    out, h, *_ = (unwrap(a) for a in layer(x, mask=mask))
    plain = MAKERS[kind].from_config(dict(layer.get_config(), name="plain"))
    plain(x[:1, :4])
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(out[0, :4], unwrap(plain(x[:1, :4])[0])[0], rtol=1e-5, atol=1e-6)
    want = 0.0 if zero_output else out[0, 3]
    np.testing.assert_allclose(out[0, 4:], np.broadcast_to(want, (2, 4)), atol=1e-7)
    np.testing.assert_allclose(h[0], out[0, 3])               # final state = last real step
    np.testing.assert_allclose(out[2, 2], 0.0 if zero_output else out[2, 1], atol=1e-7)


def test_mask_matches_unpadded_and_go_backwards_skips_padding():
    keras.utils.set_random_seed(0)
    x = _x((2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    for back in (False, True):
        layer = layers.LSTM(4, go_backwards=back)
        y = unwrap(layer(x, mask=mask))
        np.testing.assert_allclose(y[0], unwrap(layer(x[:1, :3]))[0], rtol=1e-5, atol=1e-6)


def test_errors_name_the_layer_and_the_shapes():
    lstm = layers.LSTM(4, name="enc")
    with pytest.raises(ValueError, match=r"Layer 'enc' \(LSTM\) expected an input of shape "
                                         r"\(batch, timesteps, features\), received shape "
                                         r"\(None, 3\)"):         # at build: batch unknown
        lstm(np.zeros((2, 3), "float32"))
    lstm(np.zeros((2, 3, 5), "float32"))
    with pytest.raises(ValueError, match=r"received shape \(2, 3\)"):
        lstm(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"'enc' \(LSTM\) expected a mask of shape \(batch, "
                                         r"timesteps\) = \(2, 3\), received shape \(2, 4\)"):
        lstm(np.zeros((2, 3, 5), "float32"), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r"expected 2 initial state"):
        lstm(np.zeros((2, 3, 5), "float32"), initial_state=[np.zeros((2, 4), "float32")])
    with pytest.raises(ValueError, match=r"units"):
        layers.GRU(0)
    with pytest.raises(ValueError, match=r"use_cudnn"):
        layers.LSTM(3, use_cudnn="yes")
    with pytest.raises(ValueError, match=r"state_size"):
        layers.RNN(layers.Dense(3))
    with pytest.raises(ValueError, match=r"dropout"):
        layers.SimpleRNN(3, dropout=1.5)


def test_symbolic_shapes_in_a_functional_model():
    inp = keras.Input((7, 3))
    out, h, c = layers.LSTM(5, return_sequences=True, return_state=True)(inp)
    assert out.shape == (None, 7, 5) and h.shape == (None, 5) and c.shape == (None, 5)
    model = keras.Model(inp, [out, h, c])
    ys = model.predict(np.zeros((2, 7, 3), "float32"), verbose=0)
    assert [y.shape for y in ys] == [(2, 7, 5), (2, 5), (2, 5)]


def test_compute_mask_follows_keras():
    mask = np.ones((2, 4), bool)
    x = np.zeros((2, 4, 3))
    assert layers.LSTM(3, return_sequences=True).compute_mask(x, mask) is mask
    assert layers.LSTM(3).compute_mask(x, mask) is None
    assert layers.LSTM(3, return_sequences=True, return_state=True).compute_mask(x, mask) == \
        [mask, None, None]
    assert layers.GRU(3, return_state=True).compute_mask(x, mask) == [None, None]
    assert layers.LSTM(3).supports_masking
