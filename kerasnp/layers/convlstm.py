"""Convolutional LSTMs (Shi et al. 2015): ConvLSTM1D, ConvLSTM2D, ConvLSTM3D.

An LSTM whose input and recurrent transformations are convolutions, over sequences of 1-D, 2-D
or 3-D channels-last frames `(batch, time, *spatial, channels)`. The layer holds its cell
(`convlstm_cell.ConvLSTMCell`: weights and one step) as Keras does; it runs the input convolution
of every step in one call (batch and time merged) and then loops over time with the cell's ops,
so the tape differentiates the whole sequence. States, masks, `go_backwards` and `stateful`
follow `RNN` (a masked step keeps the previous states and repeats the previous output).
"""
import numpy as np

from .. import _validate, ops
from ..autodiff.tape import unwrap
from ..ops._dispatch import value
from .base import Layer, register, shape_str, unique_name
from .convlstm_cell import ConvLSTMCell
from .rnn_cells import WEIGHT_ARGS

_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
             "zero_output_for_mask")
_CELL_ARGS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
              "activation", "recurrent_activation", "use_bias", "unit_forget_bias", "dropout",
              "recurrent_dropout", "seed") + WEIGHT_ARGS


class _ConvLSTM(Layer):
    """What ConvLSTM1D/2D/3D share; subclasses set `rank`."""

    rank = 2
    supports_masking = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 **kwargs):
        args = locals()
        if kwargs.get("name") is None:      # Keras's auto-name: conv_lstm2d, not conv_lst_m2d
            kwargs["name"] = unique_name(f"conv_lstm{self.rank}d")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for arg in _RNN_ARGS:
            setattr(self, arg, _validate.boolean(args[arg], arg, self))
        self.cell = ConvLSTMCell(self.rank, **{k: args[k] for k in _CELL_ARGS},
                                 dtype=kwargs.get("dtype"),
                                 trainable=kwargs.get("trainable", True),
                                 name="conv_lstm_cell")
        self.states = None              # the carried states of a stateful layer (arrays)
        self._frame = None              # one frame's (*spatial, channels), known once built

    def __getattr__(self, name):        # Keras's layer.filters, layer.kernel_size, ...
        if name in _CELL_ARGS and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    # -- shapes -------------------------------------------------------------------------------
    def _check_shape(self, shape):
        if len(shape) != self.rank + 3:
            axes = ("steps", "rows, cols", "depth, rows, cols")[self.rank - 1]
            raise ValueError(f"{_validate.describe(self)} expected input of rank "
                             f"{self.rank + 3} (batch, time, {axes}, channels), received shape "
                             f"{shape_str(shape)}.")
        if None in tuple(shape[2:]):
            raise ValueError(f"{_validate.describe(self)} needs known spatial and channel "
                             f"sizes. Received input shape {shape_str(shape)}.")

    def build(self, sequences_shape, initial_state_shape=None):
        shape = tuple(sequences_shape)
        self._check_shape(shape)
        self.compute_output_shape(shape)
        self._frame = shape[2:]
        if not self.cell.built:
            self.cell._build_once((None,) + shape[2:])
            for v in self.cell.weights:         # Keras's paths: conv_lstm2d/conv_lstm_cell/..
                if not v.path.startswith(self.name + "/"):
                    v.path = f"{self.name}/{v.path}"

    def _state_shape(self, shape):
        out = self.cell.output_spatial(shape[2:-1])
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(f"{_validate.describe(self)}: frames of spatial size "
                             f"{tuple(shape[2:-1])} are too small for kernel_size="
                             f"{self.cell.kernel_size} with padding='{self.cell.padding}'. "
                             f"Received input shape {shape_str(shape)}.")
        return (shape[0], *out, self.cell.filters)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        shape = tuple(sequences_shape)
        state = self._state_shape(shape)
        out = (shape[0], shape[1]) + state[1:] if self.return_sequences else state
        return [out, state, state] if self.return_state else out

    def compute_mask(self, inputs, previous_mask=None):
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        out = mask if self.return_sequences else None
        return [out, None, None] if self.return_state else out

    # -- states -------------------------------------------------------------------------------
    def get_initial_state(self, batch_size):
        """Zero `[h, c]` for a batch of `batch_size` sequences of the built frame shape."""
        if self._frame is None:
            raise ValueError(f"{_validate.describe(self)} is not built yet: call it on a batch "
                             "first.")
        state = self._state_shape((batch_size, None) + self._frame)
        dtype = self.dtype or "float32"
        return [np.zeros(state, dtype), np.zeros(state, dtype)]

    def reset_states(self):
        """Set a stateful layer's carried states back to zeros."""
        if self.states is not None:
            self.states = [np.zeros_like(s) for s in self.states]

    reset_state = reset_states

    def _initial_states(self, initial_state, shape, dtype):
        state = self._state_shape(shape)
        if initial_state is not None:
            states = list(initial_state)
            if len(states) != 2 or any(np.shape(value(s)) != state for s in states):
                raise ValueError(f"{_validate.describe(self)} expected initial_state [h, c], "
                                 f"each of shape {shape_str(state)}. Received: shapes "
                                 f"{[shape_str(np.shape(value(s))) for s in states]}")
            return states
        if not self.stateful:
            return [np.zeros(state, dtype), np.zeros(state, dtype)]
        if self.states is not None and self.states[0].shape != state:
            raise ValueError(f"{_validate.describe(self)} is stateful: its states have shape "
                             f"{shape_str(self.states[0].shape)}, so every batch must give "
                             f"states of that shape (or call reset_states() after setting a new "
                             f"batch size). Received: states of shape {shape_str(state)}")
        if self.states is None:
            self.states = [np.zeros(state, dtype), np.zeros(state, dtype)]
        return list(self.states)

    # -- call ---------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        x = value(sequences)
        shape = x.shape
        self._check_shape(shape)
        n, t = shape[:2]
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype("float32")
        h, c = self._initial_states(initial_state, shape, dtype)
        if mask is not None:
            mask = np.asarray(value(mask)).astype(bool, copy=False)
            if mask.shape != (n, t):
                raise ValueError(f"{_validate.describe(self)} expected a mask of shape (batch, "
                                 f"time) = {shape_str((n, t))}, received shape "
                                 f"{shape_str(mask.shape)}.")
        cell = self.cell
        dp, rdp = cell.dropout_masks((n,) + shape[2:], np.shape(value(h)), dtype, training)
        if dp is not None:                       # one mask per sequence, repeated over time
            dp = [np.repeat(m, t, axis=0) for m in dp]
        merged = ops.reshape(sequences, (n * t,) + shape[2:])
        zx = cell.input_projection(merged, dp)                   # every step's X ⋆ W + b
        zx = ops.unstack(ops.reshape(zx, (n, t) + np.shape(value(zx))[1:]), axis=1)
        outputs = []
        for step in (range(t - 1, -1, -1) if self.go_backwards else range(t)):
            h_new, c_new = cell.step(zx[step], h, c, rdp)
            if mask is not None:
                keep = mask[:, step].reshape((n,) + (1,) * (self.rank + 1))
                out = ops.where(keep, h_new, np.zeros((), dtype) if self.zero_output_for_mask
                                else h)
                h_new, c_new = ops.where(keep, h_new, h), ops.where(keep, c_new, c)
            else:
                out = h_new
            outputs.append(out)
            h, c = h_new, c_new
        output = ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        if self.stateful:
            self.states = [np.array(unwrap(h)), np.array(unwrap(c))]
        return [output, h, c] if self.return_state else output

    # -- config -------------------------------------------------------------------------------
    def get_config(self):
        cfg = super().get_config()
        cfg.update({arg: getattr(self, arg) for arg in _RNN_ARGS})
        cfg.update(self.cell.cell_config())
        return cfg


_DOC = """Convolutional LSTM over sequences of {what}: the LSTM's products are convolutions.

    With `z = conv(x_t, kernel) + bias + conv(h_{{t-1}}, recurrent_kernel)` (the recurrent
    convolution with stride 1 and "same" padding), gates i, f, c, o in Keras's order:
    `c_t = σ(z_f)·c_{{t-1}} + σ(z_i)·tanh(z_c)`, `h_t = σ(z_o)·tanh(c_t)`.

    Args:
        filters: channels of the output and of the states.
        kernel_size, strides, dilation_rate: int or {n}-tuple (of the input convolution).
        padding: "valid" or "same" (of the input convolution).
        data_format: None or "channels_last".
        activation, recurrent_activation: "tanh" and "sigmoid" by default.
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer: as for LSTM
            ("glorot_uniform", "orthogonal" and "zeros" by default).
        unit_forget_bias: True (default) starts the forget-gate bias at 1.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: as for LSTM.
        activity_regularizer: as for LSTM.
        kernel_constraint, recurrent_constraint, bias_constraint: as for LSTM.
        dropout, recurrent_dropout: fractions of the inputs / previous state dropped in
            training (four masks each, one per gate, drawn once per sequence); seed: their seed.
        return_sequences, return_state, go_backwards, stateful: as for LSTM.

    Weights (under the cell `conv_lstm_cell`): kernel `({k}, in, 4·filters)`, recurrent_kernel
    `({k}, filters, 4·filters)`, bias `(4·filters,)`.

    Call arguments: `sequences`, optional `initial_state` `[h, c]`, `mask` `(batch, time)`,
    `training`.

    Input shape: `(batch, time, {axes}, channels)`.
    Output shape: `(batch, {out}, filters)`, with `time` after `batch` when return_sequences;
    with return_state, `[output, h, c]`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.{name}(4, 3, padding="same", return_sequences=True)
        >>> layer(np.zeros({example}, "float32")).shape
        {result}
    """


@register
class ConvLSTM1D(_ConvLSTM):
    __doc__ = _DOC.format(what="1-D frames", n=1, k="k", axes="steps",
                          out="new_steps", name="ConvLSTM1D", example="(2, 5, 8, 3)",
                          result="(2, 5, 8, 4)")
    rank = 1


@register
class ConvLSTM2D(_ConvLSTM):
    __doc__ = _DOC.format(what="images", n=2, k="kh, kw",
                          axes="rows, cols", out="new_rows, new_cols", name="ConvLSTM2D",
                          example="(2, 5, 6, 6, 3)", result="(2, 5, 6, 6, 4)")
    rank = 2


@register
class ConvLSTM3D(_ConvLSTM):
    __doc__ = _DOC.format(what="volumes", n=3, k="kd, kh, kw",
                          axes="depth, rows, cols", out="new_depth, new_rows, new_cols",
                          name="ConvLSTM3D", example="(2, 3, 4, 4, 4, 2)",
                          result="(2, 3, 4, 4, 4, 4)")
    rank = 3
