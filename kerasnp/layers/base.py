"""The layer contract: `__init__` validates, `build` makes weights, `forward`/`backward` compute.

Every layer, built-in or user-written, subclasses `Layer`:

- `__init__(**kwargs)` validates hyper-parameters and resolves strings through registries; nothing
  shape-dependent happens there.
- `build(input_shape)` creates weights with `add_weight`, once, from the first real input shape
  (batch dimension included, as `None`).
- `forward(x, training=False)` returns the output and keeps only what `backward` needs.
- `backward(dy)` ADDS the gradient of each weight into `variable.grad` and returns the gradient with
  respect to the input.
"""
import itertools

import numpy as np

from .. import _validate, config, initializers, random
from .._registry import Registry, snake_case
from ..variables import Variable

LAYERS = Registry("layer")
_name_counters = {}


def unique_name(base):
    """Keras-style automatic names: `dense`, `dense_1`, `dense_2`, ..."""
    count = _name_counters.get(base, 0)
    _name_counters[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def reset_names():
    """Forget automatic names (part of `kerasnp.utils.clear_session`)."""
    _name_counters.clear()


def register(cls):
    """Class decorator: make a layer class loadable by name (`LAYERS[cls.__name__]`)."""
    LAYERS[cls.__name__] = cls
    return cls


def shape_str(shape):
    """`(None, 28, 28)` with plain ints, as `summary()` prints it."""
    if isinstance(shape, list):
        return "[" + ", ".join(shape_str(s) for s in shape) + "]"
    if shape is None:
        return "?"
    inner = ", ".join("None" if d is None else str(int(d)) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


class Layer:
    """Base class of all layers.

    Args:
        trainable: whether the layer's weights are updated in training.
        name: unique name; generated from the class name when omitted (`dense_1`).
        dtype: float type of the weights; defaults to `kerasnp.config.floatx()` at build time.
        input_shape: shape of one sample (without the batch axis), allowed on the first layer of a
            `Sequential` as in Keras; `Input(shape)` is the preferred way.
        activity_regularizer: regularizer applied to the layer's output.
    """

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None,
                 batch_input_shape=None, input_dim=None, activity_regularizer=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) "
                            f"{', '.join(sorted(kwargs))}. Received: {kwargs!r}")
        from .. import regularizers  # late: regularizers is a leaf module, avoid import cycles
        self.name = name if name is not None else unique_name(snake_case(type(self).__name__))
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Layer name must be a non-empty string. Received: name={name!r}")
        self._trainable = _validate.boolean(trainable, "trainable", self.name)
        self.dtype = np.dtype(dtype).name if dtype is not None else None
        self.built = False
        self._weights = []
        self._sublayers = []
        self._rng = random.make_generator()
        self.input_spec_shape = None  # full input shape seen at build, batch axis None
        self.activity_regularizer = regularizers.get(activity_regularizer)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        self._declared_input_shape = (tuple(input_shape) if input_shape is not None else None)

    # -- tracking ---------------------------------------------------------------------------
    def __setattr__(self, key, value):
        # Layers assigned as attributes become sublayers (their weights are this layer's too).
        if isinstance(value, Layer) and key not in ("_logit_grad_owner",) and "_sublayers" in self.__dict__:
            if value is not self and all(value is not s for s in self._sublayers):
                self._sublayers.append(value)
        object.__setattr__(self, key, value)

    # -- weights ----------------------------------------------------------------------------
    def add_weight(self, name, shape, initializer="glorot_uniform", trainable=True,
                   regularizer=None, constraint=None, dtype=None):
        """Create, track and return a `Variable` (call from `build`)."""
        from .. import constraints, regularizers
        dtype = np.dtype(dtype or self.dtype or config.floatx())
        init = initializers.get(initializer)
        value = np.asarray(init(tuple(int(s) for s in shape), dtype=dtype, rng=self._rng),
                           dtype=dtype)
        var = Variable(value, name, trainable=trainable,
                       regularizer=regularizers.get(regularizer),
                       constraint=constraints.get(constraint), path=f"{self.name}/{name}")
        self._weights.append(var)
        return var

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = _validate.boolean(value, "trainable", self)
        for layer in self._sublayers:
            layer.trainable = value

    def _all_weights(self):
        seen, out = set(), []
        for var in itertools.chain(self._weights, *(l._all_weights() for l in self._sublayers)):
            if id(var) not in seen:
                seen.add(id(var))
                out.append(var)
        return out

    @property
    def weights(self):
        """All variables: own ones in creation order, then each sublayer's (Keras's order)."""
        return self._all_weights()

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        own = [v for v in self._weights if v.trainable]
        subs = [v for l in self._sublayers for v in l.trainable_weights]
        return _unique(own + subs)

    @property
    def non_trainable_weights(self):
        trainable = {id(v) for v in self.trainable_weights}
        return [v for v in self._all_weights() if id(v) not in trainable]

    def get_weights(self):
        """List of weight arrays (copies), in `weights` order."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights):
        """Set weights from a list of arrays in `weights` order (shapes must match)."""
        variables = self.weights
        weights = list(weights)
        if len(weights) != len(variables):
            raise ValueError(f"{_validate.describe(self)} expected a list of {len(variables)} "
                             f"weight arrays, received {len(weights)}.")
        for var, value in zip(variables, weights):
            value = np.asarray(value)
            if value.shape != var.shape:
                raise ValueError(f"{_validate.describe(self)} weight '{var.path}' expected shape "
                                 f"{var.shape}, received shape {value.shape}.")
        for var, value in zip(variables, weights):
            var.value[...] = value

    def count_params(self):
        """Number of scalars in all weights (each shared variable counted once)."""
        if not self.built:
            raise ValueError(f"{_validate.describe(self)} is not built yet, so it has no weights "
                             "to count. Call it on data or give the model an Input first.")
        return int(sum(v.value.size for v in self._all_weights()))

    # -- contract ---------------------------------------------------------------------------
    def build(self, input_shape):
        """Create weights for inputs of `input_shape` (batch axis included, as None)."""
        self.built = True

    def _build_once(self, input_shape):
        if not self.built:
            self.input_spec_shape = input_shape
            self.build(input_shape)
            self.built = True

    def forward(self, x, training=False):
        """Compute the output for input batch `x` and keep what `backward` needs."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x, training).")

    def backward(self, dy):
        """Add weight gradients into `.grad` and return the gradient with respect to the input."""
        raise NotImplementedError(
            f"{type(self).__name__} has no backward(dy): it can predict but not train. "
            "Implement backward to use it in fit().")

    def compute_output_shape(self, input_shape):
        """Output shape for `input_shape` (batch axis as None). Default: unchanged."""
        return input_shape

    def __call__(self, inputs, training=False):
        """Eager call on arrays (builds on first use); symbolic call on `Input` tensors."""
        from ..models.graph import KerasTensor, call_symbolic
        first = inputs[0] if isinstance(inputs, (list, tuple)) and inputs else inputs
        if isinstance(first, KerasTensor):
            return call_symbolic(self, inputs)
        if isinstance(inputs, (list, tuple)):
            x = [np.asarray(a) for a in inputs]
            shape = [(None,) + a.shape[1:] for a in x]
        else:
            x = np.asarray(inputs)
            shape = (None,) + x.shape[1:]
        self._build_once(shape)
        return self.forward(x, training=training)

    # -- activation helpers shared by layers that end in an activation ------------------------
    # A layer class that routes its activation's backward through `_activation_backward` sets
    # `_fuses_activation = True`; only then may the training engine hand it dL/d(pre-activation)
    # directly (the fused softmax/sigmoid + cross-entropy gradient). Custom layers never get it.
    _fuses_activation = False
    _logit_grad = False  # set by the training engine: dy already is dL/d(pre-activation)
    _needs_dx = True     # cleared by a top-level model for layers fed straight by its inputs

    def _activation_backward(self, dy, z, y):
        """dL/dz from dL/dy through `self.activation`, or dy itself when the loss fused it."""
        if self._logit_grad:
            return dy
        return self.activation.backward(dy, z, y)

    def check_gradients(self, x, eps=1e-6, print_fn=None, tol=1e-5):
        """Check this layer's backward against float64 central differences at input `x`.

        Prints a table of the max relative error of the input gradient and of each weight's
        gradient, flagging failures, and returns it as a dict. See
        `kerasnp.utils.gradient_check.layer_gradient_report`.
        """
        from ..utils.gradient_check import layer_gradient_report
        return layer_gradient_report(self, x, eps=eps, print_fn=print_fn, tol=tol)

    # -- serialisation ----------------------------------------------------------------------
    def get_config(self):
        """Constructor arguments as a JSON-friendly dict (extended by subclasses)."""
        cfg = {"name": self.name, "trainable": self.trainable}
        if self.dtype is not None:
            cfg["dtype"] = self.dtype
        if self.activity_regularizer is not None:
            cfg["activity_regularizer"] = _serialize(self.activity_regularizer)
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


def _unique(variables):
    seen, out = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _serialize_attrs(layer, *names):
    """`{name: serialized getattr(layer, name)}` for initializer/regularizer/constraint args."""
    return {name: _serialize(getattr(layer, name)) for name in names}


def _serialize(obj):
    """Config of a registry object (`{"class_name", "config"}`), or its name for functions."""
    if obj is None:
        return None
    if hasattr(obj, "get_config") and not hasattr(obj, "uses_input"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    from .. import activations
    return activations.serialize(obj)
