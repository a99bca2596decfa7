"""The layer contract (Keras's): `__init__` validates, `build` makes weights, `call` computes.

Every layer, built-in or user-written, subclasses `Layer`:

- `__init__(**kwargs)` validates hyper-parameters and resolves strings through registries; nothing
  shape-dependent happens there.
- `build(input_shape)` creates weights with `add_weight`, once, from the first real input shape
  (batch dimension included, as `None`).
- `call(inputs, training=None, mask=None)` computes the output with `kerasnp.ops`. Inside a
  `GradientTape` every op records its VJP, so a layer needs no backward. A layer keeps no
  per-call state on `self`: the tape's closures hold it, so one layer can be called many times
  in a step and from several threads.

Layers written for kerasnp's first contract (`forward(x, training)` + `backward(dy)` that adds
weight gradients into `variable.grad`) still work: `call` runs them as one recorded op
(`_legacy.legacy_call`).
"""
import itertools

import numpy as np

from .. import _validate, _weight_budget, config, initializers, random
from .._registry import Registry, snake_case
from ..autodiff.tape import unwrap
from ..ops._fused import regularizer_penalty
from ..variables import Variable
from . import _context
from ._call_utils import (_CONCRETE, _build_params, _call_signature, _has_symbolic,
                          _is_leaf_class, _shape_of)

LAYERS = Registry("layer")
_structure = [0]   # bumped when any layer gains weights, sublayers or changes `trainable`


def structure_version():
    """A number that changes whenever some layer's set of (trainable) weights may change, so
    the trainer can keep its list of trainable variables between steps."""
    return _structure[0]
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
        try:
            # "string": Keras's dtype of text inputs (NumPy str or object arrays)
            self.dtype = ("string" if dtype in ("string", "str", str) else
                          np.dtype(dtype).name if dtype is not None else None)
        except TypeError:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): argument `dtype` "
                             "must be a NumPy dtype such as 'float32' or 'float64'. "
                             f"Received: dtype={dtype!r}") from None
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
        # Layers assigned as attributes (also inside lists, tuples and dicts) become sublayers:
        # their weights are this layer's too.
        if "_sublayers" in self.__dict__:
            # Lists and dicts of layers are tracked under public names only: the private
            # bookkeeping lists of models (`_all_layers`, `_stack`) are not sublayers.
            items = ([value] if isinstance(value, Layer) else
                     [] if key.startswith("_") else _layers_in(value))
            if items or key in ("_sublayers", "_weights"):
                _structure[0] += 1
            for item in items:
                if item is not self and all(item is not s for s in self._sublayers):
                    self._sublayers.append(item)
        object.__setattr__(self, key, value)

    # -- weights ----------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None, *args, **kwargs):
        """Create, track and return a `Variable` (call from `build` or `__init__`).

        Args (keywords, as in Keras 3):
            shape: tuple of ints (default `()`, a scalar).
            initializer: name, instance or callable (default "glorot_uniform" for floats,
                "zeros" for other dtypes).
            dtype: dtype of the variable (default the layer's dtype or floatx).
            trainable: whether optimizers update it.
            regularizer, constraint: optional; their penalty / projection apply in training.
            name: short name (default `variable`, `variable_1`, ...).

        The first kerasnp order `add_weight(name, shape, initializer, trainable, regularizer,
        constraint, dtype)` (a string first) is still accepted.
        """
        if isinstance(shape, str):                    # kerasnp's first positional order
            legacy = [shape, initializer, dtype, trainable, regularizer, constraint, name, *args]
            names = ["name", "shape", "initializer", "trainable", "regularizer", "constraint",
                     "dtype"]
            given = dict(zip(names, legacy))
            defaults = {"initializer": None, "trainable": True, "regularizer": None,
                        "constraint": None, "dtype": None}
            for k, d in defaults.items():
                if given.get(k) is None and k != "trainable":
                    given[k] = kwargs.pop(k, d)
            given.update(kwargs)
            if given.get("trainable") is None:
                given["trainable"] = True
            return Layer.add_weight(self, **given)
        if args or kwargs:
            unknown = sorted(set(kwargs) - {"autocast", "aggregation", "synchronization"})
            if args or unknown:
                raise TypeError(f"{_validate.describe(self)}: add_weight() takes keyword "
                                "arguments shape, initializer, dtype, trainable, regularizer, "
                                f"constraint, name. Received: args={args!r}, "
                                f"kwargs={sorted(kwargs)!r}")
        from .. import constraints, regularizers
        dtype = np.dtype(dtype or self.dtype or config.floatx())
        if initializer is None:
            initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
        if name is None:
            taken = {v.name for v in self._weights}
            name = "variable"
            k = 0
            while name in taken:
                k += 1
                name = f"variable_{k}"
        shape = () if shape is None else tuple(int(s) for s in (
            shape if isinstance(shape, (tuple, list)) else (shape,)))
        _weight_budget.charge(self, name, shape, dtype)   # a model file's limit, before allocating
        init = initializers.get(initializer)
        value = np.asarray(init(shape, dtype=dtype, rng=self._rng), dtype=dtype)
        var = Variable(value, name, trainable=trainable,
                       regularizer=regularizers.get(regularizer),
                       constraint=constraints.get(constraint), path=f"{self.name}/{name}")
        self._weights.append(var)
        _structure[0] += 1
        if var.trainable:
            self.__dict__.setdefault("_made_trainable", set()).add(id(var))
            var.trainable = self._trainable
        return var

    @property
    def variables(self):
        """All variables (Keras 3 name of `weights`)."""
        return self.weights

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    # -- symbolic endpoints (set by the first call on symbolic tensors, models/graph.py) -----
    @property
    def input(self):
        """The symbolic input tensor(s) of the layer's first call on symbolic tensors."""
        return self._endpoint("input")

    @input.setter
    def input(self, value):
        self.__dict__["input"] = value

    @property
    def output(self):
        """The symbolic output tensor(s) of the layer's first call on symbolic tensors."""
        return self._endpoint("output")

    @output.setter
    def output(self, value):
        self.__dict__["output"] = value

    def _endpoint(self, which):
        if which not in self.__dict__:     # AttributeError, as Keras's, so hasattr() is False
            raise AttributeError(f"The layer '{self.name}' ({type(self).__name__}) has never "
                                 f"been called on a symbolic tensor and thus has no defined "
                                 f"{which}. Call it on a kerasnp.Input(...) (or a tensor of "
                                 f"a functional model) first.")
        return self.__dict__[which]

    # -- losses -----------------------------------------------------------------------------
    def add_loss(self, loss):
        """Add a scalar (a tensor made with ops) to the training loss of the current call.

        Call it inside `call()`: `self.add_loss(1e-3 * ops.sum(ops.square(x)))`. The losses of
        the last call are in `layer.losses` (and a model's in `model.losses`); `fit` adds those of
        each step to the loss it differentiates.
        """
        _context.add_loss(self, loss)

    @property
    def losses(self):
        """The losses added by `add_loss` during the latest call (this layer's and those of the
        layers it called), then the weight regularization penalties (tape nodes in training)."""
        out = list(self.__dict__.get("_last_losses", ()))
        cached = self.__dict__.get("_regularized")
        if cached is None or cached[0] != _structure[0]:
            cached = self.__dict__["_regularized"] = (_structure[0], [
                v for v in self._all_weights() if v.regularizer is not None])
        out.extend(regularizer_penalty(v.regularizer, v) for v in cached[1] if v.trainable)
        return out

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freeze or unfreeze the layer: as in Keras 3, its trainable variables follow (so the
        tape stops tracking a frozen layer's weights), and so do its sublayers."""
        self._trainable = _validate.boolean(value, "trainable", self)
        _structure[0] += 1
        made = self.__dict__.get("_made_trainable", ())
        for v in self._weights:
            if id(v) in made:
                v.trainable = self._trainable
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

    def _build_once(self, input_shape, arg_shapes=None):
        """Build from the first call's shapes; `arg_shapes` holds `<arg>_shape` keywords for
        tensors passed by name that `build` takes (Keras's rule: `key=k` -> `key_shape`)."""
        if not self.built:
            self.input_spec_shape = input_shape
            params = _build_params(type(self))
            extra = arg_shapes or {}
            if params is not None and len(params) > 1 and isinstance(input_shape, list):
                self.build(*input_shape, **extra)   # build(self, query_shape, value_shape)
            else:
                self.build(input_shape, **extra)
            self.built = True

    def call(self, inputs, training=None):
        """Compute the output with `kerasnp.ops` (override this; add `mask=None` to receive
        masks). The default runs a first-contract layer's `forward`/`backward` as one op."""
        if _legacy_layer(type(self)):
            from ._legacy import legacy_call
            return legacy_call(self, inputs, bool(training))
        raise NotImplementedError(
            f"Layer '{self.name}' ({type(self).__name__}) must implement "
            "call(self, inputs, training=None).")

    def forward(self, x, training=False):
        """The output for `x` as NumPy, without recording (kept from the first contract:
        `layer.forward(x)` is `ops.convert_to_numpy(layer(x))` for call()-style layers)."""
        if _legacy_layer(type(self)):
            raise NotImplementedError(f"{type(self).__name__} must implement forward(x, training).")
        return unwrap(self(x, training=training))

    def backward(self, dy):
        """First-contract layers override this; call()-style layers are differentiated by the
        tape (use `kerasnp.GradientTape`)."""
        raise NotImplementedError(
            f"{type(self).__name__} has no backward(dy): it is differentiated by the tape. Use "
            "kerasnp.GradientTape to take gradients.")

    def compute_output_shape(self, input_shape):
        """Output shape for `input_shape` (batch axis as None). Default: unchanged for layers of
        the first contract; for call()-style layers, the shape that `call` gives on zeros."""
        if _legacy_layer(type(self)) or type(self).call is Layer.call:
            return input_shape
        from .op_layer import infer_output_shape
        return infer_output_shape(self, input_shape)

    def __call__(self, *args, **kwargs):
        """Eager call on arrays (builds on first use); symbolic call on `Input` tensors.

        `training` and `mask` are keyword arguments: `layer(x, training=True)`. When `training`
        is not given, the value of the enclosing call applies (so `model(x, training=True)`
        reaches every layer inside), else the `call` signature's default.
        """
        if len(args) == 1 and type(args[0]) in _CONCRETE and self.built and \
                (not kwargs or (len(kwargs) == 1 and "training" in kwargs)):
            return self._call_fast(args[0], kwargs.get("training"))   # the hot path of fit
        if not args:
            # Keras takes the inputs from the first argument of call() even when it is named:
            # `layer(inputs=x)`, `mha(query=q, value=v)`.
            names = _call_signature(type(self)).names
            first = "inputs" if "inputs" in kwargs or not names else names[0]
            if first not in kwargs:
                raise TypeError(f"Layer '{self.name}' ({type(self).__name__}) was called "
                                f"without inputs: pass them first or as `{first}=`. "
                                f"Received: keyword arguments {sorted(kwargs)}")
            args = (kwargs.pop(first),)
        inputs = args[0]
        if _has_symbolic(args, kwargs):
            from ..models.graph import call_symbolic
            return call_symbolic(self, args, kwargs)
        accepts = _call_signature(type(self))
        if len(args) > 1 and not accepts.positional_extra:
            raise TypeError(
                f"Layer '{self.name}' ({type(self).__name__}) got {len(args) - 1} extra "
                "positional argument(s); pass training and mask by keyword: "
                f"layer(x, training=True). Received: {len(args)} positional arguments")
        training = kwargs.pop("training", None)
        if training is None:
            training = _context.training()
        if accepts.training:
            kwargs["training"] = training
        if "mask" in kwargs and not accepts.mask:
            if kwargs["mask"] is not None and not accepts.var_kw:
                kwargs.pop("mask")
            elif kwargs["mask"] is None:
                kwargs.pop("mask")
        if not self.built:
            self._build_once(_shape_of(inputs))
        with _context.Call(self, training):
            y = self.call(*args, **kwargs)
            if self.activity_regularizer is not None:
                self._add_activity_loss(y)
        return y

    def _call_fast(self, x, training):
        """`__call__` for one built, concrete input: what fit and predict do at every step."""
        builtin, takes_training = _FAST.get(type(self)) or _fast_info(type(self))
        if training is None:
            training = _context.training()
        if builtin and not self._sublayers and self.activity_regularizer is None:
            # A built-in layer without sublayers calls no layer and adds no loss: it needs no
            # call context of its own.
            return self.call(x, training=training) if takes_training else self.call(x)
        with _context.Call(self, training):
            y = self.call(x, training=training) if takes_training else self.call(x)
            if self.activity_regularizer is not None:
                self._add_activity_loss(y)
        return y

    def _add_activity_loss(self, y):
        """The activity regularizer's penalty of each output, divided by the batch size as in
        Keras 3 (so its strength does not depend on the batch size)."""
        for out in (y if isinstance(y, (list, tuple)) else [y]):
            penalty = regularizer_penalty(self.activity_regularizer, out)
            n = np.ndim(unwrap(out))
            self.add_loss(penalty / np.shape(unwrap(out))[0] if n > 0 else penalty)

    # -- masking (Keras's rules) ---------------------------------------------------------------
    #: Whether the layer passes a mask on (through `compute_mask`). A layer that does not
    #: support masking ends the mask: the layers after it see none.
    supports_masking = False

    def compute_mask(self, inputs, previous_mask=None):
        """The mask of this layer's output, given its inputs and their mask (`previous_mask`:
        a boolean array `(batch, timesteps)` with True where a step is real, a list of them for
        several inputs, or None). Used only when `supports_masking` is True; the default
        passes the mask on unchanged. Functional and Sequential models call it between layers
        and hand the mask to the next layer's `call(..., mask=)`."""
        return previous_mask

    # First-contract layers may read this in backward; the tape makes it always True.
    _needs_dx = True

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


_FAST = {}


def _fast_info(cls):
    """`(built-in class, call takes training)` for `_call_fast`, cached per class (one lookup
    per layer call instead of two function calls)."""
    info = _FAST[cls] = (_is_leaf_class(cls), _call_signature(cls).training)
    return info


def _layers_in(value):
    if isinstance(value, Layer):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, Layer)]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, Layer)]
    return []


def _legacy_layer(cls):
    """A first-contract layer: defines forward (and maybe backward) but not call."""
    return cls.call is Layer.call and cls.forward is not Layer.forward


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
