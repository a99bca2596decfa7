"""Shared pieces of the activations package: the `ActivationFunction` base class, the
`UserActivation` wrapper for plain callables, argument validators and the numerically stable
`_sigmoid` / `_softplus` helpers used by several families.
"""
import numpy as np

from .. import _validate as validate
from .. import config
from ..autodiff.tape import GradientTape, Tensor, record
from ..variables import Variable


def _as_float(x):
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(config.floatx())


def _real(value, arg, owner):
    return validate.number(value, arg, owner)


def _non_negative(value, arg, owner):
    return validate.number(value, arg, owner, low=0.0)


def _non_zero(value, arg, owner):
    if validate.number(value, arg, owner) == 0:
        raise ValueError(f"{owner}: argument `{arg}` must be a non-zero number. "
                         f"Received: {arg}={value!r}")
    return float(value)


def _max_value(value, arg, owner):
    return None if value is None else validate.number(value, arg, owner, low=0.0)


def _boolean(value, arg, owner):
    return validate.boolean(value, arg, owner)


def _axis(value, arg, owner):
    items = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if not items or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                            for v in items):
        raise TypeError(f"{owner}: argument `{arg}` must be an integer or a non-empty tuple of "
                        f"integers. Received: {arg}={value!r}")
    return tuple(int(v) for v in items) if isinstance(value, (list, tuple)) else int(value)


class ActivationFunction:
    """Base class: an activation `y = f(x)` with its derivative.

    Subclasses set `name`, `uses_input`, `_params` (`{param: (default, validator)}`) and write
    `forward(x)` with `backward(dy, x, y)` right under it. Instances are immutable; configured
    variants come from `with_params(**kwargs)`.

    Attributes:
        name: registry name, e.g. `"relu"`.
        uses_input: True when `backward` needs the pre-activation input `x`; when False,
            callers may pass `x=None` and only keep the output `y`.
    """

    name = "activation"
    uses_input = False
    _params = {}

    def __init__(self, **kwargs):
        self._check_names(kwargs)
        for key, (default, check) in self._params.items():
            owner = f"Activation '{self.name}'"
            value = check(kwargs[key], key, owner) if key in kwargs else default
            object.__setattr__(self, key, value)

    def __call__(self, x, *args, **overrides):
        """Compute `f(x)` (a new array, same float dtype as `x`).

        On a tape `Tensor` (or a `Variable`) the result is one recorded node whose VJP is
        `backward`, so `keras.activations.relu(x)` inside a custom layer is differentiable.
        Extra positional or keyword arguments override parameters for this call only, as in
        Keras's functional use: `relu(x, max_value=6.0)`, `softmax(x, axis=1)`.
        """
        fn = self
        if args or overrides:
            if len(args) > len(self._params):
                raise TypeError(f"Activation '{self.name}' takes at most {len(self._params)} "
                                f"parameter(s) after x. Received: args={args!r}")
            overrides.update(zip(self._params, args))
            fn = self.with_params(**overrides)
        if type(x) is not np.ndarray:
            if isinstance(x, (Tensor, Variable)):
                return _on_tape(fn, x)
            if isinstance(x, _symbolic_type()):
                return _symbolic(fn, x)
        return fn.forward(_as_float(x))

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, dy, x, y):
        """Return `dx = dy * f'(x)`; `x` is None (unread) when `uses_input` is False."""
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def with_params(self, **kwargs):
        """Return a new instance with the given parameters changed, e.g. `alpha=0.5`."""
        self._check_names(kwargs)
        return type(self)(**{**self.get_config(), **kwargs})

    def get_config(self):
        """Return the parameters as a dict (empty for parameter-free activations)."""
        return {key: getattr(self, key) for key in self._params}

    def _check_names(self, kwargs):
        unknown = [k for k in kwargs if k not in self._params]
        if unknown:
            valid = ", ".join(self._params) or "(none)"
            got = ", ".join(f"{k}={kwargs[k]!r}" for k in unknown)
            raise TypeError(f"Activation '{self.name}' got unexpected argument(s) "
                            f"{', '.join(unknown)}. Valid: {valid}. Received: {got}")

    def __setattr__(self, key, value):
        raise AttributeError(f"Activation '{self.name}' is immutable; use "
                             f"with_params({key}=...) for a configured copy.")

    def __eq__(self, other):
        return (type(self) is type(other) and self.name == other.name
                and self.get_config() == other.get_config())

    def __hash__(self):
        return hash((type(self), self.name))

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"<activation {self.name}({params})>"


class UserActivation(ActivationFunction):
    """Wraps a plain callable `fn(x)`, usually written with `kerasnp.ops`.

    In a layer (`Dense(4, activation=fn)`) `fn` is called on the tape's tensors, so the tape
    differentiates its ops; `backward(dy, x, y)` takes the same derivative on a private tape.
    """

    uses_input = True

    def __init__(self, fn):
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "name", getattr(fn, "__name__", type(fn).__name__))

    def __call__(self, x, *args, **overrides):
        if type(x) is not np.ndarray and (isinstance(x, (Tensor, Variable))
                                          or isinstance(x, _symbolic_type())):
            return self.fn(x, *args, **overrides)
        return self.fn(_as_float(x), *args, **overrides)

    def forward(self, x):
        return self.fn(x)

    def backward(self, dy, x, y):
        """`dy · f'(x)`, from the tape differentiating `fn` at `x`."""
        a = np.array(_as_float(x))
        with GradientTape() as tape:
            tape.watch(a)
            try:                  # an identity node: operators on the input record too
                out = self.fn(record(a, lambda g: g, a))
            except TypeError as err:
                if "does not support ufuncs" not in str(err):
                    raise
                out = None
        if type(out) is not Tensor:
            raise NotImplementedError(
                f"activation '{self.name}' cannot be differentiated: it is not written with "
                f"kerasnp.ops (e.g. ops.tanh(x) * 2 instead of np.tanh(x) * 2), so the gradient "
                f"tape cannot see through it. Received: fn={self.fn!r}")
        return tape.gradient(out, a, output_gradients=dy)

    def with_params(self, **kwargs):
        self._check_names(kwargs)
        return self

    def __eq__(self, other):
        return type(other) is UserActivation and self.fn == other.fn

    def __hash__(self):
        return hash(self.fn)


def _symbolic_type():
    from ..ops._dispatch import SymbolicTensor   # late: kerasnp.ops imports the layers
    return SymbolicTensor


def _on_tape(act, x):
    """`act(x)` for a Tensor or Variable: one node whose VJP is `act.backward` (see
    `kerasnp.ops._fused.apply_activation`; softmax/sigmoid outputs remember their logits)."""
    from ..ops._fused import apply_activation   # late: kerasnp.ops imports the activations
    return apply_activation(act, x)


def _symbolic(act, x):
    """A functional-model node: the `kerasnp.ops` op of the same name, given the parameters
    that differ from the defaults when that op takes them (`softmax(x, axis=1)`)."""
    import inspect
    from ..ops._dispatch import OPS
    op = OPS.get(act.name)
    params = inspect.signature(op.raw).parameters if op is not None else {}
    # Parameters that differ from the defaults, and those the op requires (threshold's).
    changed = {k: getattr(act, k) for k, (d, _) in act._params.items()
               if getattr(act, k) != d or (k in params and
                                           params[k].default is inspect.Parameter.empty)}
    if op is None or not set(changed) <= set(params):
        raise TypeError(f"Activation '{act.name}' with {changed} cannot be applied to a symbolic "
                        f"tensor; use layers.Activation(...) in a functional model. "
                        f"Received: x={x!r}")
    return op(x, **changed)


# np.where with a data-dependent mask is ~10x slower than arithmetic (branch mispredictions),
# so the hot paths of this package blend with maximum/minimum and boolean products instead.

def _sigmoid(x):
    e = np.abs(x)
    np.negative(e, out=e)
    np.exp(e, out=e)                            # e = exp(-|x|) <= 1 never overflows
    e += 1
    np.reciprocal(e, out=e)                     # 1 / (1 + exp(-|x|)) = sigmoid(|x|)
    e *= np.exp(np.minimum(x, 0))               # x<0: e^x / (1 + e^x), accurate in the tail
    return e


def _softplus(x):
    e = np.abs(x)                               # (np.logaddexp is ~15x slower)
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.log1p(e, out=e)
    e += np.maximum(x, 0)                       # max(x, 0) + log(1 + exp(-|x|))
    return e
