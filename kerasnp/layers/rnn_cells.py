"""Recurrent cells: one time step of SimpleRNN and LSTM (GRU in `rnn_cells_gru.py`).

A cell follows Keras's contract: `state_size`, `output_size`, `call(inputs, states,
training=None) -> (output, new_states)` and `get_initial_state(batch_size)`. `RNN(cell)` loops
over time with them (the tape differentiates each step's ops); `LSTM`, `GRU` and `SimpleRNN`
hold a cell for its weights and config but run the whole sequence in one fused op.

Dropout follows Keras: one mask per sequence (not per step), drawn in training only, for the
inputs (`dropout`) and for the previous state (`recurrent_dropout`). A cell called on its own
draws fresh masks each call; `RNN` draws them once per sequence (`dropout_masks`).
"""
import numpy as np

from .. import _validate, activations, constraints, initializers, ops, regularizers
from ..initializers import Initializer
from ..ops import _fused
from ..ops._dispatch import value
from .base import Layer, _serialize_attrs, register

WEIGHT_ARGS = ("kernel_initializer", "recurrent_initializer", "bias_initializer",
               "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
               "kernel_constraint", "recurrent_constraint", "bias_constraint")


def set_weight_dropout_args(cell, weights, dropout, recurrent_dropout, seed):
    """A recurrent cell's WEIGHT_ARGS (from `weights`, by name), dropout rates and seed, checked
    and set on `cell` (the dense cells and ConvLSTMCell)."""
    for name in WEIGHT_ARGS:
        module = (initializers if name.endswith("initializer") else
                  regularizers if name.endswith("regularizer") else constraints)
        setattr(cell, name, module.get(weights[name]))
    cell.dropout = _validate.number(dropout, "dropout", cell, low=0.0, high=1.0)
    cell.recurrent_dropout = _validate.number(recurrent_dropout, "recurrent_dropout", cell,
                                              low=0.0, high=1.0)
    cell.seed = None if seed is None else _validate.non_negative_int(seed, "seed", cell)
    if seed is not None:
        cell._rng = np.random.default_rng(cell.seed)


class DropoutRNNCell(Layer):
    """What the built-in cells share: argument handling, weights, dropout masks, config."""

    def _set_args(self, units, activation, use_bias, dropout, recurrent_dropout, seed, **weights):
        self.units = _validate.positive_int(units, "units", self)
        self.activation = activations.get(activation)
        self.use_bias = _validate.boolean(use_bias, "use_bias", self)
        set_weight_dropout_args(self, weights, dropout, recurrent_dropout, seed)

    def _add_weights(self, n_in, width, bias_shape, bias_initializer=None):
        self.kernel = self.add_weight(shape=(n_in, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width), initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint,
            name="recurrent_kernel")
        self.bias = (self.add_weight(shape=bias_shape,
                                     initializer=bias_initializer or self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint, name="bias")
                     if self.use_bias else None)

    def _mask(self, shape, rate, dtype):
        keep = self._rng.random(shape) >= rate
        return keep.astype(dtype) / np.asarray(1.0 - rate, dtype) if rate < 1.0 else \
            np.zeros(shape, dtype)

    def dropout_masks(self, inputs, training):
        """`(input mask (B, F) or None, recurrent mask (B, units) or None)`, scaled by
        1/(1 - rate) as Keras's dropout; None outside training or at rate 0."""
        if not training:
            return None, None
        a = value(inputs)
        dtype = a.dtype if a.dtype.kind == "f" else np.dtype("float32")
        n = a.shape[0]
        dp = self._mask((n, a.shape[-1]), self.dropout, dtype) if self.dropout > 0 else None
        rdp = (self._mask((n, self.units), self.recurrent_dropout, dtype)
               if self.recurrent_dropout > 0 else None)
        return dp, rdp

    def call(self, inputs, states, training=None):
        return self.step(inputs, states, *self.dropout_masks(inputs, training))

    def get_initial_state(self, batch_size=None):
        """Zero states, one `(batch_size, size)` array per entry of `state_size`."""
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) \
            else [self.state_size]
        dtype = self.dtype or (self.kernel.dtype if self.built else None) or "float32"
        return [np.zeros((batch_size, s), dtype=dtype) for s in sizes]

    def _config(self, **extra):
        cfg = super().get_config()
        cfg.update(units=self.units, activation=activations.serialize(self.activation),
                   use_bias=self.use_bias, **extra, **_serialize_attrs(self, *WEIGHT_ARGS),
                   dropout=self.dropout, recurrent_dropout=self.recurrent_dropout,
                   seed=self.seed)
        return cfg


def first_state(states):
    """The state of a single-state cell, given as an array or a one-item list (Keras)."""
    return states[0] if isinstance(states, (list, tuple)) else states


@register
class SimpleRNNCell(DropoutRNNCell):
    """One step of a fully connected RNN: `h = activation(x·kernel + h₋₁·recurrent_kernel + b)`.

    Args:
        units: positive int, size of the state and output.
        activation: default "tanh".
        use_bias: as in Keras, like kernel_initializer ("glorot_uniform"),
            recurrent_initializer ("orthogonal"), bias_initializer ("zeros") and the
            kernel/recurrent/bias regularizers and constraints.
        dropout, recurrent_dropout: fractions in [0, 1] of the inputs / previous state dropped in
            training (one mask per sequence inside `RNN`).
        seed: optional int seed of the dropout masks.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> rnn = keras.layers.RNN(keras.layers.SimpleRNNCell(4))
        >>> rnn(np.zeros((2, 5, 3), "float32")).shape
        (2, 4)
    """

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._set_args(units, activation, use_bias, dropout, recurrent_dropout, seed,
                       **{k: v for k, v in locals().items() if k in WEIGHT_ARGS})
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self._add_weights(input_shape[-1], self.units, (self.units,))

    def step(self, inputs, states, dp_mask=None, rec_mask=None):
        """One step with given dropout masks (None: no dropout)."""
        h = first_state(states)
        x = inputs if dp_mask is None else inputs * dp_mask
        hd = h if rec_mask is None else h * rec_mask
        z = ops.matmul(x, self.kernel) + ops.matmul(hd, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        out = _fused.apply_activation(self.activation, z)
        return out, ([out] if isinstance(states, (list, tuple)) else out)

    def get_config(self):
        return self._config()


class _ForgetBias(Initializer):
    """LSTM bias with `unit_forget_bias`: the base initializer, then ones on the forget gate."""

    def __init__(self, base, units):
        self.base, self.units = base, units

    def __call__(self, shape, dtype=None, rng=None):
        b = np.array(self.base(shape, dtype=dtype, rng=rng))
        b[self.units:2 * self.units] = 1.0
        return b


@register
class LSTMCell(DropoutRNNCell):
    """One LSTM step (Hochreiter 1997), Keras's weights: `kernel (in, 4u)`,
    `recurrent_kernel (u, 4u)`, `bias (4u,)`, gates in the order i, f, c, o:

        z = x·kernel + h₋₁·recurrent_kernel + bias;  i, f, o = σ(z_i), σ(z_f), σ(z_o)
        c = f·c₋₁ + i·tanh(z_c);  h = o·tanh(c)      (σ: recurrent_activation, tanh: activation)

    Args:
        units: positive int, size of the state and output.
        activation, recurrent_activation: "tanh" and "sigmoid" by default.
        use_bias: as in Keras, like the initializers (kernel "glorot_uniform", recurrent
            "orthogonal", bias "zeros"), regularizers and constraints of the three weights.
        unit_forget_bias: add 1 to the forget gate's bias at initialization (default True).
        dropout, recurrent_dropout, seed: as in `SimpleRNNCell`.

    States: `[h, c]`. Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.RNN(keras.layers.LSTMCell(4))(np.zeros((2, 5, 3), "float32")).shape
        (2, 4)
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        kwargs.pop("implementation", None)               # Keras's switch; one kernel here
        super().__init__(**kwargs)
        self._set_args(units, activation, use_bias, dropout, recurrent_dropout, seed,
                       **{k: v for k, v in locals().items() if k in WEIGHT_ARGS})
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = _validate.boolean(unit_forget_bias, "unit_forget_bias", self)
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def build(self, input_shape):
        init = _ForgetBias(self.bias_initializer, self.units) if self.unit_forget_bias else None
        self._add_weights(input_shape[-1], 4 * self.units, (4 * self.units,), init)

    def step(self, inputs, states, dp_mask=None, rec_mask=None):
        """One step with given dropout masks (None: no dropout)."""
        h, c = states[0], states[1]
        u = self.units
        x = inputs if dp_mask is None else inputs * dp_mask
        hd = h if rec_mask is None else h * rec_mask
        z = ops.matmul(x, self.kernel) + ops.matmul(hd, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        ra, act = self.recurrent_activation, self.activation
        i = _fused.apply_activation(ra, z[:, :u])
        f = _fused.apply_activation(ra, z[:, u:2 * u])
        g = _fused.apply_activation(act, z[:, 2 * u:3 * u])
        o = _fused.apply_activation(ra, z[:, 3 * u:])
        c = f * c + i * g
        h = o * _fused.apply_activation(act, c)
        return h, [h, c]

    def get_config(self):
        return self._config(recurrent_activation=activations.serialize(self.recurrent_activation),
                            unit_forget_bias=self.unit_forget_bias)
