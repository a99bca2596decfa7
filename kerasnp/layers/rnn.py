"""RNN: runs a cell over the time axis (Keras's base class of the recurrent layers).

The generic path loops over time in Python with the cell's ops, so the tape differentiates any
cell, a user's included. `LSTM`, `GRU` and `SimpleRNN` subclass `RNN` and override
`_fast_call` to run the whole sequence as one fused op (see `recurrent.py`); everything else
(states, masks, stateful layers, shapes, config) lives here and is shared.

Masks follow Keras: a masked step keeps the previous states, and its output is the previous
output (`zero_output_for_mask=False`, the default) or zeros; the last output is the output of
the last step processed.
"""
import numpy as np

from .. import _validate, ops
from ..autodiff.tape import unwrap
from ..ops._dispatch import value
from .base import Layer, register, shape_str
from .rnn_stacked import StackedRNNCells, check_cell, flat_sizes, flatten, pack
from .serialization import deserialize_layer, serialize_layer


def initial_state_of(cell, batch_size, dtype):
    """A cell's initial states (its `get_initial_state`, else zeros), as a flat list."""
    fn = getattr(cell, "get_initial_state", None)
    if fn is not None:
        return flatten(fn(batch_size=batch_size))
    return [np.zeros((batch_size, n), dtype=dtype) for n in flat_sizes(cell.state_size)]


@register
class RNN(Layer):
    """Base class for recurrent layers: applies `cell` to every step of a sequence.

    Args:
        cell: an RNN cell (`state_size`, optional `output_size`, `call(inputs, states,
            training=None)` returning `(output, new_states)`, optional `get_initial_state`),
            or a list of cells (stacked with `StackedRNNCells`).
        return_sequences: return the output of every step `(batch, timesteps, units)` instead of
            the last one `(batch, units)`.
        return_state: also return the final states: `[output, *states]`.
        go_backwards: process the sequence in reverse (the returned sequence is in processing
            order, as Keras).
        stateful: the final states of a batch are the initial states of the next one (same
            batch size); `reset_states()` sets them back to zeros.
        unroll: accepted for Keras compatibility (no effect).
        zero_output_for_mask: masked steps output zeros instead of the previous output.

    Call arguments:
        sequences: `(batch, timesteps, features)`.
        initial_state: optional list of initial state arrays (one per state).
        mask: optional boolean `(batch, timesteps)`, True for real steps.
        training: dropout applies only in training.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> rnn = keras.layers.RNN(keras.layers.LSTMCell(8), return_sequences=True)
        >>> rnn(np.zeros((2, 5, 3), "float32")).shape
        (2, 5, 8)
    """

    supports_masking = True

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        check_cell(cell, "cell", type(self).__name__)
        super().__init__(**kwargs)
        self.cell = cell
        for arg, v in (("return_sequences", return_sequences), ("return_state", return_state),
                       ("go_backwards", go_backwards), ("stateful", stateful),
                       ("unroll", unroll), ("zero_output_for_mask", zero_output_for_mask)):
            setattr(self, arg, _validate.boolean(v, arg, self))
        self.states = None              # the carried states of a stateful layer (arrays)

    @property
    def state_size(self):
        s = self.cell.state_size
        return list(s) if isinstance(s, (list, tuple)) else [s]

    # -- shapes -------------------------------------------------------------------------------
    def _check_shape(self, shape):
        if len(shape) != 3:
            raise ValueError(f"{_validate.describe(self)} expected an input of shape (batch, "
                             f"timesteps, features), received shape {shape_str(shape)}.")

    def build(self, sequences_shape, initial_state_shape=None):
        self._check_shape(tuple(sequences_shape))
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._build_once((None,) + tuple(sequences_shape)[2:])
            for v in self.cell.weights:         # Keras's paths: lstm/lstm_cell/kernel
                if not v.path.startswith(self.name + "/"):
                    v.path = f"{self.name}/{v.path}"

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        b, t = sequences_shape[0], sequences_shape[1]
        units = getattr(self.cell, "output_size", None) or flat_sizes(self.cell.state_size)[0]
        out = (b, t, units) if self.return_sequences else (b, units)
        if not self.return_state:
            return out
        return [out] + [(b, n) for n in flat_sizes(self.cell.state_size)]

    def compute_mask(self, inputs, previous_mask=None):
        """Keras's rule: a returned sequence keeps the mask, a last output has none; with
        return_state, `[output mask, None for each state]`."""
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(flat_sizes(self.cell.state_size))
        return out

    # -- states -------------------------------------------------------------------------------
    def get_initial_state(self, batch_size):
        """Zero initial states for a batch (the cell's own `get_initial_state` if it has one)."""
        dtype = self.dtype or getattr(self.cell, "dtype", None) or "float32"
        return initial_state_of(self.cell, batch_size, dtype)

    def reset_states(self):
        """Set a stateful layer's carried states back to zeros."""
        if self.states is not None:
            self.states = [np.zeros_like(s) for s in self.states]

    reset_state = reset_states

    def _initial_states(self, initial_state, batch):
        """The flat list of initial states, or None for zeros (the fused ops make them)."""
        sizes = flat_sizes(self.cell.state_size)
        if initial_state is not None:
            states = flatten(initial_state)
            if len(states) != len(sizes):
                raise ValueError(f"{_validate.describe(self)} expected {len(sizes)} initial "
                                 f"state(s) of sizes {sizes}. Received: {len(states)} initial "
                                 "state(s)")
            for s, n in zip(states, sizes):
                if np.shape(value(s)) != (batch, n):
                    raise ValueError(f"{_validate.describe(self)} expected initial states of "
                                     f"shape {shape_str((batch, n))}, received shape "
                                     f"{shape_str(np.shape(value(s)))}.")
            return states
        if not self.stateful:
            return None
        if self.states is None:
            self.states = [np.asarray(s) for s in self.get_initial_state(batch)]
        elif self.states[0].shape[0] != batch:
            raise ValueError(f"{_validate.describe(self)} is stateful: its states hold a batch "
                             f"of {self.states[0].shape[0]} sequences, so every batch must have "
                             f"that size (or call reset_states() after setting a new one). "
                             f"Received: a batch of {batch}")
        return list(self.states)

    # -- call ---------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        shape = np.shape(value(sequences))
        self._check_shape(shape)
        if mask is not None:
            mask = np.asarray(value(mask)).astype(bool, copy=False)
            if mask.shape != shape[:2]:
                raise ValueError(f"{_validate.describe(self)} expected a mask of shape (batch, "
                                 f"timesteps) = {shape_str(shape[:2])}, received shape "
                                 f"{shape_str(mask.shape)}.")
        states = self._initial_states(initial_state, shape[0])
        result = self._fast_call(sequences, states, mask, training)
        if result is None:
            if states is None:
                states = self.get_initial_state(shape[0])
            result = self._loop(sequences, states, mask, training)
        output, final = result
        if self.stateful:
            self.states = [np.array(unwrap(s)) for s in final]
        if self.return_state:               # flat: [output, h, c] (stacked cells: every state)
            return [output] + list(final)
        return output

    def _fast_call(self, sequences, states, mask, training):
        """`(output, flat final states)` from a fused op, or None to take the generic loop."""
        return None

    def _loop(self, sequences, states, mask, training):
        """The generic path: the cell's ops step by step (the tape differentiates them)."""
        cell, size = self.cell, self.cell.state_size
        steps = ops.unstack(sequences, axis=1)
        order = range(len(steps) - 1, -1, -1) if self.go_backwards else range(len(steps))
        builtin = hasattr(cell, "step") and hasattr(cell, "dropout_masks")
        if builtin:                                 # one dropout mask per sequence (Keras)
            masks = cell.dropout_masks(steps[0], training)
        outputs, prev = [], None
        for t in order:
            structured = pack(size, states)
            if builtin:
                out, new = cell.step(steps[t], structured, *masks)
            else:
                out, new = cell(steps[t], structured, training=training)
            new = flatten(new)
            if mask is not None:
                keep = mask[:, t:t + 1]
                if not self.zero_output_for_mask:
                    last = structured[-1] if isinstance(structured[0], list) else structured
                    prev = flatten(last)[0]
                out = ops.where(keep, out, np.zeros((), value(out).dtype)
                                if self.zero_output_for_mask else prev)
                new = [ops.where(keep, n, s) for n, s in zip(new, states)]
            outputs.append(out)
            states = new
        output = ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return output, states

    # -- config -------------------------------------------------------------------------------
    def get_config(self):
        cfg = super().get_config()
        cfg.update(return_sequences=self.return_sequences, return_state=self.return_state,
                   go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll,
                   zero_output_for_mask=self.zero_output_for_mask,
                   cell=serialize_layer(self.cell))
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["cell"] = deserialize_layer(config["cell"], custom_objects)
        return cls(**config)
