"""Bidirectional: runs a recurrent layer forward and a copy of it backward in time, then merges.

The forward layer is rebuilt from the given layer's config (named `forward_<name>`); the backward
layer is the same config with `go_backwards` flipped (named `backward_<name>`) unless one is
given. A backward layer's sequence output runs backward in time, so it is flipped back before the
merge, and step `t` of the result holds both directions' outputs for step `t` (Keras's layout).
"""
import numpy as np

from .. import _validate, ops
from ..ops._dispatch import value
from .base import Layer, register, shape_str
from .serialization import deserialize_layer, serialize_layer
from .wrappers import Wrapper, check_layer

MERGE_MODES = ("concat", "sum", "mul", "ave", None)
_RECURRENT_ATTRS = ("go_backwards", "return_sequences", "return_state")


def _check_recurrent(layer, arg, owner):
    missing = [a for a in _RECURRENT_ATTRS if not hasattr(layer, a)]
    if missing:
        raise ValueError(f"{owner}: argument `{arg}` must be a recurrent layer (SimpleRNN, LSTM, "
                         f"GRU, RNN or a layer with the attributes {', '.join(_RECURRENT_ATTRS)}); "
                         f"{type(layer).__name__} has no {', '.join(missing)}. "
                         f"Received: {arg}={layer!r}")


def _copy(layer, name, **changes):
    """A fresh layer of the same class and config (no weights carried over), renamed."""
    cfg = dict(layer.get_config(), name=name, **changes)
    return type(layer).from_config(cfg)


def _strip(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


@register
class Bidirectional(Wrapper):
    """Bidirectional wrapper for recurrent layers.

    Args:
        layer: a recurrent layer instance (`LSTM`, `GRU`, `SimpleRNN`, `RNN`, or a layer with
            `go_backwards`, `return_sequences`, `return_state` attributes and a config). A new
            forward layer is made from its config: its weights are not reused.
        merge_mode: how the two directions' outputs combine: "concat" (default, features
            side by side), "sum", "mul", "ave", or None (a list `[forward, backward]`).
        weights: optional list of arrays, the forward layer's weights then the backward
            layer's, set when the layer is built.
        backward_layer: optional recurrent layer for the backward direction; it must have the
            opposite `go_backwards` and the same `return_sequences`, `return_state` and
            `stateful` as `layer`.

    Call arguments:
        sequences: `(batch, time, features)`.
        initial_state: optional list of state arrays: the first half goes to the forward layer,
            the second half to the backward layer.
        mask: optional `(batch, time)` booleans (True = a real step), given to both directions.
        training: passed to both layers.

    Returns the merged output; with `return_state`, `[output, *forward_states,
    *backward_states]` (`[forward, backward, *states...]` when merge_mode is None).

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> model = keras.Sequential([keras.Input((5, 10)),
        ...                           keras.layers.Bidirectional(keras.layers.LSTM(8)),
        ...                           keras.layers.Dense(3)])
        >>> model(np.zeros((2, 5, 10), "float32")).shape
        (2, 3)
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        owner = "Bidirectional"
        check_layer(layer, "layer", owner)
        _check_recurrent(layer, "layer", owner)
        if backward_layer is not None:
            check_layer(backward_layer, "backward_layer", owner)
            _check_recurrent(backward_layer, "backward_layer", owner)
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"{owner}: argument `merge_mode` must be one of 'concat', 'sum', "
                             f"'mul', 'ave', None. Received: merge_mode={merge_mode!r}")
        Layer.__init__(self, **kwargs)
        self.forward_layer = _copy(layer, "forward_" + _strip(layer.name, "forward_"))
        self.backward_layer = (backward_layer if backward_layer is not None else _copy(
            layer, "backward_" + _strip(layer.name, "backward_"),
            go_backwards=not layer.go_backwards))
        self._verify()
        for part in (self.forward_layer, self.backward_layer):
            if getattr(part, "zero_output_for_mask", None) is not None:
                # as in Keras: masked steps of a returned sequence are 0 in both directions
                part.zero_output_for_mask = part.return_sequences
        self.merge_mode = merge_mode
        self._initial_weights = list(weights) if weights else None
        self.stateful = getattr(layer, "stateful", False)
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    @property
    def layer(self):
        """The forward layer (Keras's `Wrapper.layer`)."""
        return self.forward_layer

    def _verify(self):
        f, b = self.forward_layer, self.backward_layer
        if f.go_backwards == b.go_backwards:
            raise ValueError(f"{_validate.describe(self)}: the forward and backward layers must "
                             "have different `go_backwards` values. Received: "
                             f"forward_layer.go_backwards={f.go_backwards}, "
                             f"backward_layer.go_backwards={b.go_backwards}")
        for attr in ("stateful", "return_sequences", "return_state"):
            fv, bv = getattr(f, attr, False), getattr(b, attr, False)
            if fv != bv:
                raise ValueError(f"{_validate.describe(self)}: the forward and backward layers "
                                 f"must have the same `{attr}`. Received: forward_layer.{attr}="
                                 f"{fv}, backward_layer.{attr}={bv}")

    # -- shapes -------------------------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        if len(sequences_shape) < 3:
            raise ValueError(f"{_validate.describe(self)} expected an input of rank 3 (batch, "
                             f"time, features), received shape {shape_str(sequences_shape)}.")
        for layer in (self.forward_layer, self.backward_layer):
            if not layer.built:
                layer._build_once(tuple(sequences_shape))
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_weights(weights)                      # forward's, then backward's

    def _split_shape(self, sequences_shape):
        out = self.forward_layer.compute_output_shape(tuple(sequences_shape))
        if self.return_state:
            return tuple(out[0]), [tuple(s) for s in out[1:]]
        return tuple(out), []

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        out, states = self._split_shape(sequences_shape)
        if self.merge_mode == "concat":
            out = out[:-1] + (None if out[-1] is None else 2 * out[-1],)
        outputs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return outputs + states + states
        return outputs if self.merge_mode is None else out

    # -- call ---------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {"training": training}
        if mask is not None:
            kwargs["mask"] = mask
        forward_kw, backward_kw = dict(kwargs), dict(kwargs)
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
                else [initial_state]
            if len(states) % 2:
                raise ValueError(f"{_validate.describe(self)} expected an even number of initial "
                                 "states (the forward layer's, then the backward layer's). "
                                 f"Received: {len(states)} initial states")
            half = len(states) // 2
            forward_kw["initial_state"] = states[:half]
            backward_kw["initial_state"] = states[half:]
        y = self.forward_layer(sequences, **forward_kw)
        y_rev = self.backward_layer(sequences, **backward_kw)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.flip(y_rev, axis=1)                # back to forward time order
        if self.merge_mode == "concat":
            output = [ops.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            output = [y + y_rev]
        elif self.merge_mode == "ave":
            output = [(y + y_rev) * 0.5]
        elif self.merge_mode == "mul":
            output = [y * y_rev]
        else:
            output = [y, y_rev]
        if self.return_state or self.merge_mode is None:
            return output + states
        return output[0]

    def compute_mask(self, inputs, previous_mask=None):
        """Keras's rule: the sequence output keeps the input mask (each of the two outputs when
        merge_mode is None); a last-step output and the states have none."""
        mask = previous_mask[0] if isinstance(previous_mask, list) else previous_mask
        out = mask if self.return_sequences else None
        masks = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n_states = len(self._split_shape((None,) + np.shape(value(inputs))[1:])[1])
            return masks + [None] * (2 * n_states)
        return masks if self.merge_mode is None else masks[0]

    # -- state and config ---------------------------------------------------------------------
    @property
    def states(self):
        f, b = getattr(self.forward_layer, "states", None), getattr(self.backward_layer,
                                                                    "states", None)
        return tuple(f) + tuple(b) if f and b else None

    def reset_states(self):
        """Reset both directions' states (stateful layers only)."""
        if not self.stateful:
            raise AttributeError(f"{_validate.describe(self)}: reset_states() needs a stateful "
                                 "layer. Received: stateful=False")
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def get_config(self):
        cfg = Layer.get_config(self)
        cfg.update(layer=serialize_layer(self.forward_layer), merge_mode=self.merge_mode,
                   backward_layer=serialize_layer(self.backward_layer))
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"], custom_objects)
        return cls(**config)
