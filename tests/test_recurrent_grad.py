"""Float64 central-difference gradient checks of the recurrent layers (fused kernels and the
generic cell loop): masks, go_backwards, return_state, initial_state, stateful continuation,
dropout, a user cell written with ops; the fused path equals `RNN(cell)` step by step."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers, ops
from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import unwrap

from _tape_check import tape_gradient_errors

MAKERS = {"LSTM": (layers.LSTM, layers.LSTMCell), "GRU": (layers.GRU, layers.GRUCell),
          "SimpleRNN": (layers.SimpleRNN, layers.SimpleRNNCell)}
MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 1, 1, 0, 1]], bool)


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def _ok(errors):
    assert max(errors.values()) < 1e-6, errors


class Head(layers.Layer):
    """Calls `rnn` with fixed keyword arguments and joins a list output into one array."""

    def __init__(self, rnn, reseed=None, **call_kwargs):
        super().__init__()
        self.rnn, self.call_kwargs, self.reseed = rnn, call_kwargs, reseed

    def call(self, inputs, training=None):
        if self.reseed is not None:                  # one dropout draw for every call
            self.rnn.cell._rng = np.random.default_rng(self.reseed)
        kwargs = dict(self.call_kwargs)
        if isinstance(inputs, list):
            inputs, kwargs["initial_state"] = inputs[0], inputs[1:]
        out = self.rnn(inputs, training=training, **kwargs)
        if isinstance(out, list):
            return ops.concatenate([ops.reshape(o, (o.shape[0], -1)) for o in out], axis=-1)
        return out


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize("seq", [False, True])
@pytest.mark.parametrize("back", [False, True])
def test_fused_gradients_with_masks(kind, seq, back, float64):
    layer = MAKERS[kind][0](3, return_sequences=seq, go_backwards=back,
                            bias_initializer="random_normal")
    _ok(tape_gradient_errors(Head(layer, mask=MASK), _x((3, 5, 2))))


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize("zero_output", [False, True])
def test_return_state_and_initial_state_gradients(kind, zero_output, float64):
    layer = MAKERS[kind][0](3, return_sequences=True, return_state=True,
                            zero_output_for_mask=zero_output)
    n_states = 2 if kind == "LSTM" else 1
    inputs = [_x((3, 5, 2))] + [_x((3, 3), k + 1) for k in range(n_states)]
    errors = tape_gradient_errors(Head(layer, mask=MASK), inputs)
    _ok(errors)
    assert len(errors) == 1 + n_states + 3                 # x, each state, 3 weights


@pytest.mark.parametrize("kind", list(MAKERS))
def test_stateful_second_call_continues_and_differentiates(kind, float64):
    layer = MAKERS[kind][0](3, stateful=True, return_sequences=True)
    x1, x2 = _x((2, 4, 2)), _x((2, 4, 2), 1)
    first = unwrap(layer(x1))
    carried = [s.copy() for s in layer.states]
    both = MAKERS[kind][0].from_config(dict(layer.get_config(), stateful=False, name="both"))
    both(x1)
    both.set_weights(layer.get_weights())
    whole = unwrap(both(np.concatenate([x1, x2], axis=1)))
    np.testing.assert_allclose(first, whole[:, :4], atol=1e-12)
    np.testing.assert_allclose(unwrap(layer(x2)), whole[:, 4:], atol=1e-12)

    class Again(layers.Layer):                 # every call starts from the first call's state
        def __init__(self):
            super().__init__()
            self.rnn = layer

        def call(self, x):
            self.rnn.states = [s.copy() for s in carried]
            return self.rnn(x)
    _ok(tape_gradient_errors(Again(), x2))
    layer.reset_states()
    assert all(not s.any() for s in layer.states)
    np.testing.assert_allclose(unwrap(layer(x1)), first, atol=1e-12)
    with pytest.raises(ValueError, match=r"batch of 2 sequences"):
        layer(_x((3, 4, 2)))


def _pair(kind, u, **kwargs):
    """The fused layer and `RNN(cell)` with the same weights."""
    layer_cls, cell_cls = MAKERS[kind]
    fused = layer_cls(u, bias_initializer="random_normal", **kwargs)
    cell_kwargs = {k: v for k, v in kwargs.items() if k in ("dropout", "recurrent_dropout",
                                                            "seed", "reset_after")}
    rnn_kwargs = {k: v for k, v in kwargs.items() if k not in cell_kwargs}
    generic = layers.RNN(cell_cls(u, **cell_kwargs), **rnn_kwargs)
    return fused, generic


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
@pytest.mark.parametrize("seq", [False, True])
def test_fused_equals_the_generic_cell_loop(kind, back, zero_output, seq, float64):
    fused, generic = _pair(kind, 4, return_sequences=seq, return_state=True,
                           go_backwards=back, zero_output_for_mask=zero_output)
    x = _x((3, 5, 2))
    fused(x), generic(x)
    generic.set_weights(fused.get_weights())
    results = []
    for layer in (fused, generic):
        with GradientTape() as tape:
            tape.watch(x)
            out = layer(x, mask=MASK)
            loss = sum(ops.sum(o * _x(o.shape, k)) for k, o in enumerate(out))
        results.append([unwrap(o) for o in out] + tape.gradient(loss, [x] + layer.weights))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, atol=1e-12)


@pytest.mark.parametrize("kind", list(MAKERS))
def test_dropout_fused_equals_generic_and_is_off_in_inference(kind, float64):
    fused, generic = _pair(kind, 4, dropout=0.5, recurrent_dropout=0.3, seed=3,
                           return_sequences=True)
    x = _x((3, 5, 2))
    np.testing.assert_allclose(unwrap(fused(x)), unwrap(fused(x, training=False)))
    generic(x)
    generic.set_weights(fused.get_weights())
    fused.cell._rng, generic.cell._rng = np.random.default_rng(1), np.random.default_rng(1)
    y = unwrap(fused(x, training=True))
    np.testing.assert_allclose(y, unwrap(generic(x, training=True)), atol=1e-12)
    assert not np.allclose(y, unwrap(fused(x)))


@pytest.mark.parametrize("kind", list(MAKERS))
def test_dropout_and_recurrent_dropout_gradients(kind, float64):
    layer = MAKERS[kind][0](3, dropout=0.3, recurrent_dropout=0.4, return_sequences=True)
    _ok(tape_gradient_errors(Head(layer, reseed=5, mask=MASK), _x((3, 5, 2)), training=True))
    layer = MAKERS[kind][0](3, dropout=0.3)
    _ok(tape_gradient_errors(Head(layer, reseed=5), _x((3, 5, 2)), training=True))


def test_gru_reset_before_and_other_activations_take_the_cell_loop(float64):
    for layer in (layers.GRU(3, reset_after=False, return_sequences=True),
                  layers.LSTM(3, activation="elu"), layers.SimpleRNN(3, activation="softplus"),
                  layers.SimpleRNN(3, activation="relu"), layers.LSTM(3, use_bias=False),
                  layers.GRU(3, use_bias=False, recurrent_activation="relu")):
        _ok(tape_gradient_errors(Head(layer, mask=MASK), _x((3, 5, 2))))


@keras.saving.register_serializable(package="test_recurrent")
class MinimalRNNCell(layers.Layer):
    """The Keras guide's user cell, written with ops."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="orthogonal",
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        prev = states[0]
        out = ops.tanh(ops.matmul(inputs, self.kernel) + ops.matmul(prev, self.recurrent_kernel))
        return out, [out]

    def get_config(self):
        return dict(super().get_config(), units=self.units)


@pytest.mark.parametrize("back", [False, True])
def test_user_cell_through_the_generic_loop(back, float64):
    rnn = layers.RNN(MinimalRNNCell(4), return_sequences=True, return_state=True,
                     go_backwards=back)
    _ok(tape_gradient_errors(Head(rnn, mask=MASK), [_x((3, 5, 2)), _x((3, 4), 1)]))
    simple = layers.SimpleRNN(4, use_bias=False, go_backwards=back, return_sequences=True)
    x = _x((3, 5, 2))
    simple(x)
    simple.set_weights(rnn.get_weights())
    np.testing.assert_allclose(unwrap(rnn(x)[0]), unwrap(simple(x)), atol=1e-12)


def test_stacked_cells_gradients_and_states(float64):
    cells = [layers.LSTMCell(3), layers.GRUCell(2), MinimalRNNCell(4)]
    rnn = layers.RNN(cells, return_sequences=True, return_state=True)
    assert isinstance(rnn.cell, layers.StackedRNNCells)
    out, *states = rnn(_x((3, 5, 2)))
    assert out.shape == (3, 5, 4)
    assert [s.shape for s in states] == [(3, 3), (3, 3), (3, 2), (3, 4)]
    assert rnn.compute_output_shape((None, 5, 2)) == [(None, 5, 4), (None, 3), (None, 3),
                                                       (None, 2), (None, 4)]
    for v in rnn.weights:                       # the checker keys gradients by weight name
        v.name = v.path
    _ok(tape_gradient_errors(Head(rnn, mask=MASK), _x((3, 5, 2))))


def test_one_layer_called_twice_in_a_step_and_a_persistent_tape(float64):
    """Each call keeps its own saved states (the scratch pool never hands out live arrays)."""
    lstm = layers.LSTM(3, return_sequences=True)

    class Twice(layers.Layer):
        def __init__(self):
            super().__init__()
            self.rnn = lstm

        def call(self, x):
            return self.rnn(x) * self.rnn(ops.flip(x, axis=1))
    _ok(tape_gradient_errors(Twice(), _x((3, 5, 2))))
    x = _x((3, 5, 2))
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = lstm(x)
        lstm(_x((3, 5, 2), 1))                          # another call while y's node lives
    first = tape.gradient(y, [x] + lstm.weights)
    second = tape.gradient(y, [x] + lstm.weights)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
