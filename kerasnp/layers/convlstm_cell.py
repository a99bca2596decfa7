"""The cell of the convolutional LSTMs: weights, arguments, dropout masks and one time step.

Keras's weights and gate order: `kernel (*kernel_size, in, 4·filters)`, `recurrent_kernel
(*kernel_size, filters, 4·filters)`, `bias (4·filters,)`, gates i, f, c, o along the last axis.
One step is

    z = conv(x, W; strides, padding, dilation) + b + conv(h₋₁, R; stride 1, "same")
    i, f, o = σ(z_i), σ(z_f), σ(z_o);   c = f·c₋₁ + i·tanh(z_c);   h = o·tanh(c)

written with `ops.nn.conv` and the fused activation ops, so the tape differentiates it. Dropout
follows Keras: four masks of a step input's shape (one per gate) and four of the state's
(recurrent dropout), drawn once per sequence in training.
"""
import numpy as np

from .. import _validate, activations, ops
from ..ops import _fused
from ..ops._conv_padding import output_length
from ..ops._dispatch import value
from .base import Layer, _serialize_attrs
from .conv import check_data_format, padding_arg
from .rnn_cells import WEIGHT_ARGS, _ForgetBias, set_weight_dropout_args


class ConvLSTMCell(Layer):
    """One step of a ConvLSTM over `rank` spatial axes (held by ConvLSTM1D/2D/3D as `cell`).

    Args: as `ConvLSTM2D`'s cell arguments (filters ... seed).
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.filters = _validate.positive_int(filters, "filters", self)
        self.kernel_size = _validate.int_tuple(kernel_size, rank, "kernel_size", self)
        self.strides = _validate.int_tuple(strides, rank, "strides", self)
        self.padding = padding_arg(padding, self)
        check_data_format(data_format, self)
        self.data_format = "channels_last"
        self.dilation_rate = _validate.int_tuple(dilation_rate, rank, "dilation_rate", self)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = _validate.boolean(use_bias, "use_bias", self)
        self.unit_forget_bias = _validate.boolean(unit_forget_bias, "unit_forget_bias", self)
        weights = dict(zip(WEIGHT_ARGS, (kernel_initializer, recurrent_initializer,
                                         bias_initializer, kernel_regularizer,
                                         recurrent_regularizer, bias_regularizer,
                                         kernel_constraint, recurrent_constraint,
                                         bias_constraint)))
        set_weight_dropout_args(self, weights, dropout, recurrent_dropout, seed)

    def build(self, input_shape):
        """`input_shape`: one step's `(batch, *spatial, channels)`."""
        f = self.filters
        self.kernel = self.add_weight(shape=(*self.kernel_size, input_shape[-1], 4 * f),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.recurrent_kernel = self.add_weight(
            shape=(*self.kernel_size, f, 4 * f), initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint,
            name="recurrent_kernel")
        init = _ForgetBias(self.bias_initializer, f) if self.unit_forget_bias else \
            self.bias_initializer
        self.bias = (self.add_weight(shape=(4 * f,), initializer=init,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint, name="bias")
                     if self.use_bias else None)

    def output_spatial(self, spatial):
        """Spatial size of the state and output for a step input of spatial size `spatial`."""
        return tuple(output_length(n, k, s, self.padding, d) for n, k, s, d in
                     zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    # -- dropout -----------------------------------------------------------------------------
    def _masks(self, shape, rate, dtype):
        if rate >= 1.0:
            return [np.zeros(shape, dtype)] * 4
        scale = np.asarray(1.0 / (1.0 - rate), dtype)
        return [(self._rng.random(shape) >= rate).astype(dtype) * scale for _ in range(4)]

    def dropout_masks(self, step_shape, state_shape, dtype, training):
        """`(4 input masks or None, 4 state masks or None)`, scaled by 1/(1 - rate)."""
        if not training:
            return None, None
        dp = self._masks(step_shape, self.dropout, dtype) if self.dropout > 0 else None
        rdp = (self._masks(state_shape, self.recurrent_dropout, dtype)
               if self.recurrent_dropout > 0 else None)
        return dp, rdp

    # -- the computation ---------------------------------------------------------------------
    def _gates(self, w):
        f = self.filters
        return [w[..., g * f:(g + 1) * f] for g in range(4)]

    def input_projection(self, steps, dp_masks):
        """`conv(x_t, W) + b` of every step at once: `steps` is `(n·t, *spatial, in)` (batch
        and time merged); with dropout, each gate sees its own masked copy (the masks
        `(n·t, *spatial, in)` repeat the sequence's)."""
        conv = lambda x, w: ops.nn.conv(x, w, self.strides, self.padding,   # noqa: E731
                                        dilation_rate=self.dilation_rate)
        if dp_masks is None:
            z = conv(steps, self.kernel)                                    # Z = X ⋆ W
        else:
            z = ops.concatenate([conv(steps * m, w) for m, w in
                                 zip(dp_masks, self._gates(self.kernel))], axis=-1)
        return z if self.bias is None else z + self.bias

    def recurrent_projection(self, h, rdp_masks):
        """`conv(h₋₁, R)` with stride 1 and "same" padding (the state keeps its size)."""
        if rdp_masks is None:
            return ops.nn.conv(h, self.recurrent_kernel, 1, "same")       # H₋₁ ⋆ R
        return ops.concatenate([ops.nn.conv(h * m, r, 1, "same") for m, r in
                                zip(rdp_masks, self._gates(self.recurrent_kernel))], axis=-1)

    def step(self, zx, h, c, rdp_masks=None):
        """One step from the input projection `zx` of this step and the states `(h, c)`."""
        z = zx + self.recurrent_projection(h, rdp_masks)
        ra, act = self.recurrent_activation, self.activation
        zi, zf, zc, zo = self._gates(z)
        i = _fused.apply_activation(ra, zi)
        f = _fused.apply_activation(ra, zf)
        g = _fused.apply_activation(act, zc)
        o = _fused.apply_activation(ra, zo)
        c = f * c + i * g                                                   # c = f·c₋₁ + i·g
        h = o * _fused.apply_activation(act, c)                             # h = o·tanh(c)
        return h, c

    def call(self, inputs, states, training=None):
        """Keras's cell contract: one step `(batch, *spatial, in)` -> `(h, [h, c])`."""
        x = value(inputs)
        h0 = value(states[0])
        dp, rdp = self.dropout_masks(x.shape, h0.shape, x.dtype, training)
        h, c = self.step(self.input_projection(inputs, dp), states[0], states[1], rdp)
        return h, [h, c]

    def cell_config(self):
        """The cell's own config keys, in Keras's order (the ConvLSTM layers' too)."""
        return dict(filters=self.filters, kernel_size=list(self.kernel_size),
                    strides=list(self.strides), padding=self.padding,
                    data_format=self.data_format, dilation_rate=list(self.dilation_rate),
                    activation=activations.serialize(self.activation),
                    recurrent_activation=activations.serialize(self.recurrent_activation),
                    use_bias=self.use_bias, unit_forget_bias=self.unit_forget_bias,
                    **_serialize_attrs(self, *WEIGHT_ARGS), dropout=self.dropout,
                    recurrent_dropout=self.recurrent_dropout, seed=self.seed)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(self.cell_config())
        return cfg
