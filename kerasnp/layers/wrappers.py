"""Layer wrappers: the `Wrapper` base class and `TimeDistributed` (Bidirectional lives in
`bidirectional.py`).

A wrapper holds another layer as a sublayer: its weights are the wrapped layer's, its config
nests the wrapped layer's config (`{"layer": {"class_name", "config"}}`), and from_config rebuilds
it through the layer registry (or `custom_objects`).
"""
import numpy as np

from .. import _validate, ops
from ..ops._dispatch import value
from .base import Layer, register, shape_str
from .serialization import deserialize_layer, serialize_layer


def check_layer(layer, arg, owner):
    """Refuse a `layer` argument that is not a Layer instance (a class, a string...)."""
    if not isinstance(layer, Layer):
        hint = (" Pass an instance, e.g. Dense(8), not the class." if isinstance(layer, type)
                and issubclass(layer, Layer) else "")
        raise ValueError(f"{owner}: argument `{arg}` must be a kerasnp.layers.Layer instance."
                         f"{hint} Received: {arg}={layer!r}")
    return layer


@register
class Wrapper(Layer):
    """Base class of layers that wrap another layer (Keras's `keras.layers.Wrapper`).

    Args:
        layer: the wrapped `Layer` instance; it becomes a sublayer (its weights are this
            layer's weights).

    Subclasses override `call` (and `compute_output_shape`); the base class calls the wrapped
    layer unchanged.
    """

    def __init__(self, layer, **kwargs):
        check_layer(layer, "layer", type(self).__name__)
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer._build_once(input_shape)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def call(self, inputs, training=None):
        return self.layer(inputs, training=training)

    def get_config(self):
        cfg = super().get_config()
        cfg["layer"] = serialize_layer(self.layer)
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        return cls(**config)


@register
class TimeDistributed(Wrapper):
    """Applies the wrapped layer to every time slice of its input, with the same weights.

    The input `(batch, time, ...)` is folded to `(batch·time, ...)`, passed through the layer
    once (one fused call, not a loop over steps), and unfolded to `(batch, time, ...)`.

    Args:
        layer: a `Layer` instance, e.g. `Dense(8)` or `Conv2D(16, 3)`.

    Call arguments:
        inputs: `(batch, time, ...)`, at least 3-D.
        training: passed to the wrapped layer.
        mask: optional `(batch, time)` booleans; passed to the wrapped layer (folded like the
            input) when its `call` takes a mask, and passed on to the next layer unchanged.

    Input shape: `(batch, time, *inner)`.  Output shape: `(batch, time, *inner_output)`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.TimeDistributed(keras.layers.Dense(8))
        >>> layer(np.ones((4, 10, 16), "float32")).shape
        (4, 10, 8)
    """

    supports_masking = True            # the mask passes on unchanged (Keras's default rule)

    def _child_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3 or \
                isinstance(input_shape[0], (tuple, list)):
            raise ValueError(f"{_validate.describe(self)} expected an input of rank >= 3 "
                             "(batch, time, ...), received shape "
                             f"{shape_str(input_shape)}.")
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        super().build(self._child_shape(input_shape))

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (child[0], input_shape[1], *child[1:])

    def call(self, inputs, training=None, mask=None):
        shape = np.shape(value(inputs))
        if len(shape) < 3:
            self._child_shape(shape)                    # raises the rank error
        n, t = shape[:2]
        kwargs = {"training": training}
        if mask is not None:
            m = np.asarray(value(mask))
            if m.shape[:2] != (n, t):
                raise ValueError(f"{_validate.describe(self)} expected a mask of shape "
                                 f"({n}, {t}, ...) (batch, time), received shape {m.shape}.")
            kwargs["mask"] = m.reshape((n * t,) + m.shape[2:])
        y = self.layer(ops.reshape(inputs, (n * t,) + shape[2:]), **kwargs)   # fold time in
        return ops.reshape(y, (n, t) + np.shape(value(y))[1:])                 # and out again
