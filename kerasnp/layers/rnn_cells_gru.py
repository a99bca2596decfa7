"""GRUCell: one step of a gated recurrent unit, Keras's weights and both reset variants."""
from .. import _validate, activations, ops
from ..ops import _fused
from .base import register
from .rnn_cells import WEIGHT_ARGS, DropoutRNNCell, first_state


@register
class GRUCell(DropoutRNNCell):
    """One GRU step (Cho et al. 2014). Weights as Keras: `kernel (in, 3u)`,
    `recurrent_kernel (u, 3u)`, gates in the order z, r, h; `bias (2, 3u)` (input bias, then
    recurrent bias) with `reset_after=True`, `(3u,)` without:

        reset_after=True:   h̃ = tanh(x·W_h + b_h + r·(h₋₁·R_h + b'_h))   (PyTorch's GRU)
        reset_after=False:  h̃ = tanh(x·W_h + b_h + (r·h₋₁)·R_h)
        z, r = σ(x·W + h₋₁·R + b) on their blocks;  h = z·h₋₁ + (1 - z)·h̃

    Args:
        units: positive int, size of the state and output.
        activation, recurrent_activation: "tanh" and "sigmoid" by default.
        use_bias: as in `LSTMCell`, like the initializers, regularizers, constraints, dropout,
            recurrent_dropout and seed.
        reset_after: apply the reset gate after the recurrent product (default True).

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.RNN(keras.layers.GRUCell(4))(np.zeros((2, 5, 3), "float32")).shape
        (2, 4)
    """

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(**kwargs)
        self._set_args(units, activation, use_bias, dropout, recurrent_dropout, seed,
                       **{k: v for k, v in locals().items() if k in WEIGHT_ARGS})
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = _validate.boolean(reset_after, "reset_after", self)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        u3 = 3 * self.units
        self._add_weights(input_shape[-1], u3, (2, u3) if self.reset_after else (u3,))

    def step(self, inputs, states, dp_mask=None, rec_mask=None):
        """One step with given dropout masks (None: no dropout)."""
        h = first_state(states)
        u = self.units
        x = inputs if dp_mask is None else inputs * dp_mask
        hd = h if rec_mask is None else h * rec_mask
        xw = ops.matmul(x, self.kernel)
        if self.bias is not None:
            xw = xw + (self.bias[0] if self.reset_after else self.bias)
        ra, act = self.recurrent_activation, self.activation
        if self.reset_after:
            rec = ops.matmul(hd, self.recurrent_kernel)
            if self.bias is not None:
                rec = rec + self.bias[1]
            z = _fused.apply_activation(ra, xw[:, :u] + rec[:, :u])
            r = _fused.apply_activation(ra, xw[:, u:2 * u] + rec[:, u:2 * u])
            hh = _fused.apply_activation(act, xw[:, 2 * u:] + r * rec[:, 2 * u:])
        else:
            rec = ops.matmul(hd, self.recurrent_kernel[:, :2 * u])
            z = _fused.apply_activation(ra, xw[:, :u] + rec[:, :u])
            r = _fused.apply_activation(ra, xw[:, u:2 * u] + rec[:, u:])
            hh = _fused.apply_activation(
                act, xw[:, 2 * u:] + ops.matmul(r * hd, self.recurrent_kernel[:, 2 * u:]))
        out = z * h + (1 - z) * hh
        return out, ([out] if isinstance(states, (list, tuple)) else out)

    def get_config(self):
        return self._config(recurrent_activation=activations.serialize(self.recurrent_activation),
                            reset_after=self.reset_after)
