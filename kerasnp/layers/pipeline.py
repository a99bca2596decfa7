"""Pipeline: a list of (preprocessing) layers applied one after the other, as one layer."""
from .. import _validate
from ..autodiff.tape import stop_recording
from .base import Layer, register
from .serialization import deserialize_layer, serialize_layer
from .wrappers import check_layer


@register
class Pipeline(Layer):
    """Applies `layers` in order; the output of each is the input of the next.

    Meant for preprocessing chains (augmentations, rescaling, lookups) usable on their own, in a
    data pipeline or inside a model. As in Keras, `training` defaults to True when the pipeline
    is called directly (random augmentations run); inside a model the model's mode applies.
    Masks are passed from each layer to the next (`compute_mask`).

    Args:
        layers: list of Layer instances.
        name: optional name.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> pipe = keras.layers.Pipeline([keras.layers.Rescaling(2.0),
        ...                               keras.layers.Rescaling(1.0, offset=1.0)])
        >>> pipe(np.array([[1.0, 2.0]])).tolist()
        [[3.0, 5.0]]
    """

    def __init__(self, layers, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(layers, (list, tuple)):
            raise ValueError(f"{_validate.describe(self)}: `layers` must be a list of layers. "
                             f"Received: layers={layers!r}")
        self.layers = [check_layer(x, "layers", type(self).__name__) for x in layers]
        self.supports_masking = any(getattr(x, "supports_masking", False) for x in self.layers)

    def build(self, input_shape):
        shape = input_shape
        for layer in self.layers:
            if not layer.built:
                layer._build_once(shape)
            shape = layer.compute_output_shape(shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        shape = input_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def call(self, inputs, training=True, mask=None):
        x = inputs
        if training is None:            # no enclosing mode: Keras's default for pipelines
            training = True
        for layer in self.layers:
            kwargs = {"training": training}
            if mask is not None:
                kwargs["mask"] = mask
            y = layer(x, **kwargs)
            mask = layer.compute_mask(x, mask) if layer.supports_masking else None
            x = y
        return x

    def compute_mask(self, inputs, previous_mask=None):
        """The last layer's mask; the inner masks need the inner outputs, so the chain runs
        again (in inference, unrecorded) when some layer makes or passes a mask."""
        if not self.supports_masking:
            return None
        x, mask = inputs, previous_mask
        with stop_recording():
            for i, layer in enumerate(self.layers):
                y = layer(x, training=False) if i + 1 < len(self.layers) else None
                mask = layer.compute_mask(x, mask) if layer.supports_masking else None
                x = y
        return mask

    def get_config(self):
        # Keras's keys: the layers and the name only
        return {"layers": [serialize_layer(x) for x in self.layers], "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["layers"] = [deserialize_layer(x, custom_objects) for x in config["layers"]]
        return cls(**config)
