"""Sequential: a plain stack of layers, the chain case of `Model`'s graph."""
from ..layers.base import Layer, register
from ..layers.core import InputLayer
from . import graph, model_config
from .model import Model


@register
class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: optional list of layers (an `Input(shape)` first fixes the input shape).
        name: model name (default `sequential`, `sequential_1`, ...).

    Example:
        >>> import kerasnp as keras
        >>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])
        >>> model.output_shape
        (None, 10)
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(trainable=trainable, name=name)
        self._stack = []
        self._input_layer = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer, rebuild=True):
        """Append a layer (or an `Input` tensor, which sets the input shape)."""
        if isinstance(layer, graph.KerasTensor):
            if layer._inputs or not isinstance(layer._layer, InputLayer):
                raise TypeError("Sequential.add takes layers or a kerasnp.Input(...) tensor; "
                                f"received the output of layer '{layer.name}'. Use the "
                                "functional API (kerasnp.Model(inputs, outputs)) for graphs.")
            layer = layer._layer
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer instance. Received: layer={layer!r} "
                            f"(type {type(layer).__name__})")
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._stack:
                raise ValueError(f"Sequential '{self.name}': an Input can only be the first "
                                 "layer, and only once.")
            self._input_layer = layer
        else:
            if any(l.name == layer.name for l in self._stack):
                raise ValueError(f"Sequential '{self.name}': all layers must have unique names; "
                                 f"'{layer.name}' is already in the model.")
            self._stack.append(layer)
        self._invalidate()
        if rebuild:
            self._maybe_build()

    def pop(self, rebuild=True):
        """Remove and return the last layer."""
        if not self._stack:
            raise IndexError(f"Sequential '{self.name}' has no layers to pop.")
        layer = self._stack.pop()
        self._invalidate()
        if rebuild:
            self._maybe_build()
        return layer

    def _invalidate(self):
        self._nodes = []
        self.built = False
        self._sublayers = list(self._stack)
        self._all_layers = list(self._stack)

    def _maybe_build(self):
        if self._input_layer is not None:
            self.build((None,) + self._input_layer.shape)
        elif self._stack and self._stack[0]._declared_input_shape is not None:
            self.build((None,) + self._stack[0]._declared_input_shape)

    @property
    def layers(self):
        """The layers in order (without the InputLayer, as in Keras)."""
        return list(self._stack)

    def build(self, input_shape=None):
        """Build every layer for inputs of `input_shape` (batch axis included, e.g. `(None, 784)`)."""
        if input_shape is None:
            self._maybe_build()
            if not self.built:
                raise ValueError(f"Sequential '{self.name}' cannot be built without an input "
                                 "shape: start it with kerasnp.Input(shape) or call "
                                 "model.build((None, features)).")
            return
        input_shape = tuple(input_shape)
        if self._input_layer is None or (None,) + self._input_layer.shape != input_shape:
            self._input_layer = InputLayer(shape=input_shape[1:],
                                           name=self._input_layer.name if self._input_layer
                                           else None)
        if not self._stack:
            return
        tensor = graph.KerasTensor(input_shape, self._input_layer, [])
        first = tensor
        for layer in self._stack:
            try:
                tensor = graph.call_symbolic(layer, tensor)
            except ValueError as err:
                if str(err).startswith(f"Layer '{layer.name}'"):
                    raise                      # already names the layer and the shapes
                raise ValueError(f"Sequential '{self.name}': layer '{layer.name}' "
                                 f"({type(layer).__name__}) cannot take input of shape "
                                 f"{tensor.shape}: {err}") from None
        self._set_graph(*graph.trace([first], [tensor]))
        self._tensors = ([first], [tensor])
        self._all_layers = list(self._stack)

    def _build_once(self, input_shape):
        if not self.built:
            self.build(input_shape)

    def _has_call(self):
        return True

    def get_config(self):
        """The layers in order (the Input first, when there is one), each as
        `{"class_name", "config"}`."""
        return model_config.sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild a Sequential model from `get_config()` (see `Model.from_config`)."""
        return model_config.sequential_from_config(cls, config, custom_objects)
