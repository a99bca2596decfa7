"""Bidirectional on a small recurrent layer written with ops (the public recurrent API:
go_backwards, return_sequences, return_state, call(inputs, mask=, training=, initial_state=)):
merge modes, states, masks, initial_state, names, weights, config/save round trips, float64
gradient checks and errors. The LSTM-based tests (torch parity, Keras parameter counts, padded
batches) are in tests/test_wrappers_bidirectional_lstm.py."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers, ops
from kerasnp.autodiff.tape import unwrap

from _tape_check import tape_gradient_errors


class ToyRNN(layers.Layer):
    """h_t = tanh(x_t·W + h_{t-1}·U + b); masked steps keep the state and output zeros."""

    def __init__(self, units, return_sequences=False, return_state=False, go_backwards=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.units, self.return_sequences = units, return_sequences
        self.return_state, self.go_backwards = return_state, go_backwards
        self.supports_masking = True

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                name="recurrent_kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="random_normal",
                                    name="bias")

    def compute_output_shape(self, input_shape):
        out = (input_shape[0], input_shape[1], self.units) if self.return_sequences \
            else (input_shape[0], self.units)
        return [out, (input_shape[0], self.units)] if self.return_state else out

    def call(self, inputs, mask=None, training=None, initial_state=None):
        n, t = np.shape(unwrap(inputs))[:2]
        x = ops.flip(inputs, axis=1) if self.go_backwards else inputs
        m = None if mask is None else np.asarray(mask, bool)
        if m is not None and self.go_backwards:
            m = m[:, ::-1]
        h = initial_state[0] if initial_state else np.zeros((n, self.units), x.dtype)
        outs, steps = [], ops.unstack(x, axis=1)       # ops, so the tape sees every slice
        for k in range(t):
            new = ops.tanh(ops.matmul(steps[k], self.kernel)
                           + ops.matmul(h, self.recurrent_kernel) + self.bias)
            if m is None:
                h, out = new, new
            else:
                keep = m[:, k:k + 1].astype(x.dtype)
                h, out = new * keep + h * (1 - keep), new * keep
            outs.append(out)
        y = ops.stack(outs, axis=1) if self.return_sequences else outs[-1]
        if m is not None and not self.return_sequences:
            y = h                                    # the last real step's output
        return [y, h] if self.return_state else y

    def get_config(self):
        cfg = super().get_config()
        cfg.update(units=self.units, return_sequences=self.return_sequences,
                   return_state=self.return_state, go_backwards=self.go_backwards)
        return cfg


def _x(shape=(3, 4, 2), seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def _directions(bi, x, **kw):
    f = unwrap(bi.forward_layer(x, **kw))
    b = unwrap(bi.backward_layer(x, **kw))
    return f, b


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("seqs", [True, False])
def test_merge_modes(merge_mode, seqs):
    bi = layers.Bidirectional(ToyRNN(3, return_sequences=seqs), merge_mode=merge_mode)
    x = _x()
    y = bi(x)
    f, b = _directions(bi, x)
    if seqs:
        b = b[:, ::-1]                      # the backward sequence back in forward time order
    want = {"concat": lambda: np.concatenate([f, b], -1), "sum": lambda: f + b,
            "mul": lambda: f * b, "ave": lambda: (f + b) / 2, None: lambda: [f, b]}[merge_mode]()
    if merge_mode is None:
        assert isinstance(y, list) and len(y) == 2
        np.testing.assert_allclose(y[0], want[0])
        np.testing.assert_allclose(y[1], want[1])
    else:
        np.testing.assert_allclose(y, want, rtol=1e-12)
    shape = bi.compute_output_shape((None, 4, 2))
    units = 6 if merge_mode == "concat" else 3
    one = (None, 4, units) if seqs else (None, units)
    assert shape == ([one, one] if merge_mode is None else one)


def test_backward_direction_reads_the_sequence_backward():
    bi = layers.Bidirectional(ToyRNN(2, return_sequences=True))
    x = _x()
    bi(x)
    bi.backward_layer.set_weights(bi.forward_layer.get_weights())
    y = unwrap(bi(x))
    reversed_run = unwrap(bi.forward_layer(x[:, ::-1]))[:, ::-1]
    np.testing.assert_allclose(y[..., 2:], reversed_run, rtol=1e-12)


def test_names_weights_and_counts():
    rnn = ToyRNN(3, name="toy")
    bi = layers.Bidirectional(rnn)
    assert bi.forward_layer is not rnn                     # a fresh copy, as in Keras
    assert (bi.forward_layer.name, bi.backward_layer.name) == ("forward_toy", "backward_toy")
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
    bi(_x())
    assert [w.path for w in bi.weights] == [
        "forward_toy/kernel", "forward_toy/recurrent_kernel", "forward_toy/bias",
        "backward_toy/kernel", "backward_toy/recurrent_kernel", "backward_toy/bias"]
    assert bi.count_params() == 2 * (2 * 3 + 3 * 3 + 3) == 36
    again = layers.Bidirectional(layers.Bidirectional(ToyRNN(2, name="forward_x")).forward_layer)
    assert again.forward_layer.name == "forward_x"         # the prefix is not doubled


def test_weights_argument_sets_both_directions():
    ref = layers.Bidirectional(ToyRNN(2))
    ref(_x())
    bi = layers.Bidirectional(ToyRNN(2), weights=ref.get_weights())
    np.testing.assert_allclose(bi(_x()), ref(_x()))


def test_return_state_and_initial_state():
    bi = layers.Bidirectional(ToyRNN(3, return_sequences=True, return_state=True))
    x = _x()
    out, hf, hb = bi(x)
    (f, f_state), (b, b_state) = _directions(bi, x)
    np.testing.assert_allclose(out, np.concatenate([f, b[:, ::-1]], -1))
    np.testing.assert_allclose(hf, f_state)
    np.testing.assert_allclose(hb, b_state)
    assert bi.compute_output_shape((None, 4, 2)) == [(None, 4, 6), (None, 3), (None, 3)]
    h0f, h0b = _x((3, 3), 1), _x((3, 3), 2)
    out2, hf2, hb2 = bi(x, initial_state=[h0f, h0b])
    np.testing.assert_allclose(hf2, unwrap(bi.forward_layer(x, initial_state=[h0f]))[1])
    np.testing.assert_allclose(hb2, unwrap(bi.backward_layer(x, initial_state=[h0b]))[1])
    # merge_mode None: [forward, backward, *states]
    none = layers.Bidirectional(ToyRNN(3, return_state=True), merge_mode=None)
    assert len(none(x)) == 4
    assert none.compute_output_shape((None, 4, 2)) == [(None, 3)] * 4


def test_masks_reach_both_directions_and_pass_on():
    bi = layers.Bidirectional(ToyRNN(2, return_sequences=True))
    x = _x()
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool)
    y = unwrap(bi(x, mask=mask))
    f, b = _directions(bi, x, mask=mask)
    np.testing.assert_allclose(y, np.concatenate([f, b[:, ::-1]], -1))
    assert not y[~mask].any()                              # padded steps output zeros
    assert bi.compute_mask(x, mask) is mask
    last = layers.Bidirectional(ToyRNN(2, return_state=True), merge_mode=None)
    assert last.compute_mask(x, mask) == [None] * 4
    both = layers.Bidirectional(ToyRNN(2, return_sequences=True), merge_mode=None)
    assert both.compute_mask(x, mask) == [mask, mask]


def test_functional_model_with_a_masking_layer():
    inp = keras.Input((4, 2))
    h = layers.Bidirectional(ToyRNN(3, return_sequences=True))(layers.Masking()(inp))
    model = keras.Model(inp, layers.GlobalAveragePooling1D()(h))
    x = _x()
    x[0, 2:] = 0.0                                         # padding at the end of row 0
    bi = model.layers[2]
    mask = np.any(x != 0, axis=-1)
    seq = unwrap(bi(x, mask=mask))
    want = seq.sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(model(x), want, rtol=1e-12)
    # row 0 without its padded steps gives the same output
    np.testing.assert_allclose(unwrap(bi(x[:1, :2])).mean(1)[0], want[0], rtol=1e-12)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_gradients(merge_mode, float64):
    bi = layers.Bidirectional(ToyRNN(2, return_sequences=True), merge_mode=merge_mode)
    errors = tape_gradient_errors(bi, _x())
    assert max(errors.values()) < 1e-6, errors


def test_gradients_with_states_and_mask(float64):
    bi = layers.Bidirectional(ToyRNN(2, return_state=True))
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1], [1, 1, 0, 0]], bool)

    class Masked(layers.Layer):
        def __init__(self):
            super().__init__()
            self.bi = bi

        def call(self, x):
            out, hf, hb = self.bi(x, mask=mask)
            return out * 2.0 + ops.concatenate([hf, hb], axis=-1)

    errors = tape_gradient_errors(Masked(), _x())
    assert max(errors.values()) < 1e-6, errors


def test_config_round_trip_and_save(tmp_path):
    back = ToyRNN(3, go_backwards=True, return_sequences=True, name="back")
    bi = layers.Bidirectional(ToyRNN(3, return_sequences=True), merge_mode="sum",
                              backward_layer=back, name="bi")
    assert bi.backward_layer is back
    cfg = bi.get_config()
    assert cfg["merge_mode"] == "sum" and cfg["backward_layer"]["config"]["name"] == "back"
    copy = layers.Bidirectional.from_config(cfg, custom_objects={"ToyRNN": ToyRNN})
    assert copy.get_config() == cfg
    model = keras.Sequential([keras.Input((4, 2)), bi, layers.GlobalMaxPooling1D()])
    x = _x().astype("float32")
    model.save(tmp_path / "bi.keras")
    loaded = keras.models.load_model(tmp_path / "bi.keras", custom_objects={"ToyRNN": ToyRNN})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[0].backward_layer.name == "back"


def test_trains_in_a_sequential_model():
    keras.utils.set_random_seed(0)
    x = _x((32, 4, 2)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None]
    model = keras.Sequential([keras.Input((4, 2)), layers.Bidirectional(ToyRNN(4)),
                              layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, y, epochs=10, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_errors():
    with pytest.raises(ValueError, match=r"Bidirectional: argument `layer` must be a recurrent "
                                         r"layer.*Dense has no go_backwards, return_sequences, "
                                         r"return_state.*Received: layer=<Dense"):
        layers.Bidirectional(layers.Dense(3))
    with pytest.raises(ValueError, match=r"Bidirectional: argument `layer` must be a kerasnp"):
        layers.Bidirectional("lstm")
    with pytest.raises(ValueError, match=r"merge_mode.*'concat', 'sum', 'mul', 'ave', None.*"
                                         r"Received: merge_mode='avg'"):
        layers.Bidirectional(ToyRNN(2), merge_mode="avg")
    with pytest.raises(ValueError, match=r"same `return_sequences`.*forward_layer.return_"
                                         r"sequences=True, backward_layer.return_sequences=False"):
        layers.Bidirectional(ToyRNN(2, return_sequences=True),
                             backward_layer=ToyRNN(2, go_backwards=True))
    with pytest.raises(ValueError, match=r"same `return_state`"):
        layers.Bidirectional(ToyRNN(2), backward_layer=ToyRNN(2, go_backwards=True,
                                                              return_state=True))
    with pytest.raises(ValueError, match=r"different `go_backwards`.*backward_layer.go_backwards"
                                         r"=False"):
        layers.Bidirectional(ToyRNN(2), backward_layer=ToyRNN(2))
    bi = layers.Bidirectional(ToyRNN(2, return_state=True))
    with pytest.raises(ValueError, match=r"Bidirectional.*even number of initial states.*"
                                         r"Received: 1"):
        bi(_x(), initial_state=[np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"Bidirectional.*rank 3.*\(None, 4\)"):
        layers.Bidirectional(ToyRNN(2))(np.zeros((3, 4)))
    with pytest.raises(AttributeError, match=r"reset_states\(\) needs a stateful layer"):
        bi.reset_states()
