"""SimpleRNN, LSTM and GRU: `RNN` subclasses that hold their cell (weights, config) as Keras
does, but run the whole sequence as one fused op (`kerasnp/ops/_recurrent.py`): the input
projection of all steps in one BLAS product, the recurrence forward and back through time in
Numba kernels (dropout and recurrent dropout included: one mask per sequence each). The
generic cell loop of `RNN` remains for what the kernels do not cover: activations other than
tanh/sigmoid/relu/linear, and GRU with `reset_after=False`.
"""
from .. import ops
from .._registry import snake_case
from ..ops import _recurrent
from ..ops._dispatch import value
from .base import register
from .rnn import RNN
from .rnn_cells import WEIGHT_ARGS, LSTMCell, SimpleRNNCell
from .rnn_cells_gru import GRUCell

_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")
_LAYER_KEYS = ("name", "trainable", "dtype", "activity_regularizer")


def _delegate(*names):
    """Read-only properties reading the cell's attributes (Keras's `LSTM.units` etc.)."""
    def deco(cls):
        for n in names:
            setattr(cls, n, property(lambda self, n=n: getattr(self.cell, n)))
        return cls
    return deco


_COMMON = ("units", "activation", "use_bias", "dropout", "recurrent_dropout", "seed") + \
    WEIGHT_ARGS


class _FusedRNN(RNN):
    """What the three layers share: the cell made from the arguments, config, the fast path."""

    #: Its op splits the batch over kerasnp's threads (kernels/threads.py), so a model holding
    #: it trains and predicts with BLAS single-threaded (models/_loop_utils.py `thread_region`).
    computes_on_kerasnp_threads = True

    _cell_class = None

    def __init__(self, units, cell_kwargs, rnn_kwargs, kwargs):
        cell = self._cell_class(units, dtype=kwargs.get("dtype"),
                                trainable=kwargs.get("trainable", True),
                                name=snake_case(self._cell_class.__name__), **cell_kwargs)
        super().__init__(cell, **rnn_kwargs, **kwargs)

    def _codes(self, training):
        """The kernels' activation codes, or None where only the generic loop applies."""
        cell = self.cell
        codes = [_recurrent.activation_code(cell.activation)]
        if hasattr(cell, "recurrent_activation"):
            codes.append(_recurrent.activation_code(cell.recurrent_activation))
        return None if None in codes else codes

    def _fast_call(self, sequences, states, mask, training):
        codes = self._codes(training)
        if codes is None:
            return None
        dp, rdp = self.cell.dropout_masks(value(sequences)[:, 0], training)
        x = sequences if dp is None else ops.multiply(sequences, dp[:, None, :])
        final = [] if self.stateful and not self.return_state else None
        out = self._fused(x, states or (None, None), mask, codes, final, rdp)
        if self.return_state:
            return out[0], out[1:]
        return out, final or []

    def get_config(self):
        cfg = super().get_config()
        del cfg["cell"]
        cell_cfg = self.cell.get_config()
        for key in _LAYER_KEYS:
            cell_cfg.pop(key, None)
        cfg.update(cell_cfg)
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


@register
@_delegate(*_COMMON)
class SimpleRNN(_FusedRNN):
    """Fully connected RNN whose output is fed back: `h = activation(x·W + h₋₁·R + b)`.

    Args:
        units: positive int, size of the output and state.
        activation: default "tanh".
        use_bias: as in `SimpleRNNCell`, like the kernel/recurrent/bias initializers
            ("glorot_uniform", "orthogonal", "zeros"), regularizers, constraints, dropout,
            recurrent_dropout and seed.
        return_sequences, return_state, go_backwards, stateful, unroll: as in `RNN`.

    Weights (under the cell `simple_rnn_cell`): kernel `(features, units)`, recurrent_kernel
    `(units, units)`, bias `(units,)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.SimpleRNN(4)(np.zeros((2, 10, 8), "float32")).shape
        (2, 4)
    """

    _cell_class = SimpleRNNCell

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        args = locals()
        cell_kwargs = {k: args[k] for k in _COMMON if k != "units"}
        super().__init__(units, cell_kwargs, {k: args[k] for k in _RNN_ARGS},
                         dict(kwargs, activity_regularizer=activity_regularizer))

    def _fused(self, x, states, mask, codes, final, rdp):
        c = self.cell
        return _recurrent.simple_rnn(
            x, states[0], c.kernel, c.recurrent_kernel, c.bias, mask, self.go_backwards,
            self.return_sequences, self.return_state, self.zero_output_for_mask, codes[0],
            states_out=final, recurrent_mask=rdp)


@register
@_delegate(*_COMMON, "recurrent_activation", "unit_forget_bias")
class LSTM(_FusedRNN):
    """Long Short-Term Memory layer (Hochreiter 1997), Keras's weights and defaults.

    Args:
        units: positive int, size of the output and of the states h and c.
        activation, recurrent_activation: "tanh" and "sigmoid" by default.
        use_bias: as in Keras, like kernel_initializer ("glorot_uniform"),
            recurrent_initializer ("orthogonal"), bias_initializer ("zeros"), unit_forget_bias
            (True: the forget-gate bias starts at 1), the kernel/recurrent/bias/activity
            regularizers and the constraints.
        dropout, recurrent_dropout: fractions of the inputs / previous state dropped in
            training, one mask per sequence.
        seed: optional int seed of the dropout masks.
        return_sequences, return_state, go_backwards, stateful, unroll: as in `RNN`.
        use_cudnn: accepted for Keras compatibility ("auto", True, False; no effect).

    Weights (under the cell `lstm_cell`): kernel `(features, 4·units)`, recurrent_kernel
    `(units, 4·units)`, bias `(4·units,)`, gates in the order i, f, c, o. With
    `return_state` the layer returns `[output, h, c]`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> out, h, c = keras.layers.LSTM(4, return_state=True)(np.zeros((2, 10, 8), "float32"))
        >>> out.shape, h.shape, c.shape
        ((2, 4), (2, 4), (2, 4))
    """

    _cell_class = LSTMCell

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        if use_cudnn not in ("auto", True, False):
            raise ValueError("LSTM: argument `use_cudnn` must be one of 'auto', True, False. "
                             f"Received: use_cudnn={use_cudnn!r}")
        args = locals()
        cell_kwargs = {k: args[k] for k in _COMMON + ("recurrent_activation", "unit_forget_bias")
                       if k != "units"}
        super().__init__(units, cell_kwargs, {k: args[k] for k in _RNN_ARGS},
                         dict(kwargs, activity_regularizer=activity_regularizer))

    def _fused(self, x, states, mask, codes, final, rdp):
        c = self.cell
        return _recurrent.lstm(
            x, states[0], states[1], c.kernel, c.recurrent_kernel, c.bias, mask,
            self.go_backwards, self.return_sequences, self.return_state,
            self.zero_output_for_mask, codes[0], codes[1], states_out=final,
            recurrent_mask=rdp)


@register
@_delegate(*_COMMON, "recurrent_activation", "reset_after")
class GRU(_FusedRNN):
    """Gated Recurrent Unit (Cho et al. 2014), Keras's weights and defaults.

    Args:
        units: positive int, size of the output and state.
        activation, recurrent_activation: "tanh" and "sigmoid" by default.
        use_bias: as in `LSTM`, like the initializers ("glorot_uniform", "orthogonal",
            "zeros"), regularizers, constraints, dropout, recurrent_dropout and seed.
        reset_after: apply the reset gate after the recurrent product (default True, the
            variant of PyTorch's GRU and of cuDNN).
        return_sequences, return_state, go_backwards, stateful, unroll: as in `RNN`.
        use_cudnn: accepted for Keras compatibility (no effect).

    Weights (under the cell `gru_cell`): kernel `(features, 3·units)`, recurrent_kernel
    `(units, 3·units)`, gates in the order z, r, h; bias `(2, 3·units)` with `reset_after`
    (input bias, recurrent bias), `(3·units,)` without.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.GRU(4, return_sequences=True)(np.zeros((2, 10, 8), "float32")).shape
        (2, 10, 4)
    """

    _cell_class = GRUCell

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", **kwargs):
        if use_cudnn not in ("auto", True, False):
            raise ValueError("GRU: argument `use_cudnn` must be one of 'auto', True, False. "
                             f"Received: use_cudnn={use_cudnn!r}")
        args = locals()
        cell_kwargs = {k: args[k] for k in _COMMON + ("recurrent_activation", "reset_after")
                       if k != "units"}
        super().__init__(units, cell_kwargs, {k: args[k] for k in _RNN_ARGS},
                         dict(kwargs, activity_regularizer=activity_regularizer))

    def _codes(self, training):
        return super()._codes(training) if self.cell.reset_after else None

    def _fused(self, x, states, mask, codes, final, rdp):
        c = self.cell
        return _recurrent.gru(
            x, states[0], c.kernel, c.recurrent_kernel, c.bias, mask, self.go_backwards,
            self.return_sequences, self.return_state, self.zero_output_for_mask, codes[0],
            codes[1], states_out=final, recurrent_mask=rdp)

