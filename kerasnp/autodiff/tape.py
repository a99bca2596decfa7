"""The reverse-mode tape: `record` one node per op, `GradientTape.gradient` walks them backwards.

An op computes its output with NumPy, then calls `record(y, vjp, *inputs)`. Outside a tape (or
when no input is tracked) `record` returns `y` untouched: predict and evaluate pay one attribute
lookup per op. Inside a tape it wraps `y` in a `Tensor` and appends a node `(y, inputs, vjp)` to
every active tape; `vjp(dy)` returns one gradient per input (None where there is none).

What is tracked inside a tape: trainable `Variable`s, `Tensor`s produced by recorded ops, and
anything passed to `tape.watch` (arrays are watched by identity). Tapes are per thread, so two
threads never see each other's nodes.
"""
import threading

import numpy as np

from ..variables import Variable
from .._operators import ArrayOperators

_local = threading.local()


def _state():
    s = getattr(_local, "s", None)
    if s is None:
        s = _local.s = _State()
    return s


class _State:
    __slots__ = ("tapes", "paused")

    def __init__(self):
        self.tapes = []      # active, recording tapes (innermost last)
        self.paused = 0      # > 0 inside tape.stop_recording() or while computing a gradient


class Tensor(ArrayOperators):
    """An array produced by an op while a `GradientTape` records: `.value` is the NumPy array.

    It behaves like an array in ops and in operators (`x + y`, `x @ w`, `x[:, 0]`, `-x`), and
    `np.asarray(t)` (or `t.numpy()`, `keras.ops.convert_to_numpy(t)`) gives its values.
    """

    __slots__ = ("value", "_keras_logits", "_keras_mask", "__weakref__")

    def __init__(self, value):
        self.value = value
        self._keras_logits = None   # set by softmax/sigmoid: lets the loss fuse its gradient
        self._keras_mask = None

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)

    def numpy(self):
        """The values, as a NumPy array."""
        return self.value

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __len__(self):
        return len(self.value)

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __bool__(self):
        return bool(self.value)

    def __repr__(self):
        return f"<Tensor shape={self.value.shape} dtype={self.value.dtype}>\n{self.value!r}"


class _Node:
    __slots__ = ("out", "inputs", "vjp")

    def __init__(self, out, inputs, vjp):
        self.out, self.inputs, self.vjp = out, inputs, vjp


def recording():
    """True when an op's result would be recorded (a tape is active and not paused)."""
    try:
        s = _local.s
    except AttributeError:
        s = _state()
    return bool(s.tapes) and not s.paused


def is_tracked(x):
    """Whether `x` carries a gradient on the active tapes (False outside a tape)."""
    try:
        s = _local.s
    except AttributeError:
        s = _state()
    if not s.tapes or s.paused:
        return False
    if type(x) is Tensor:
        return True
    return _tracked(x, s.tapes)


def _tracked(x, tapes):
    if type(x) is Tensor:
        return True
    if isinstance(x, Variable) and x.trainable:
        return True
    return _watched(x, tapes)


def _watched(x, tapes):
    for t in tapes:
        if t._watched and id(x) in t._watched:
            return True
    return False


def record(y, vjp, *inputs):
    """Return `y` as a tracked `Tensor` with its node on the active tapes, or `y` unchanged.

    Args:
        y: the op's output (a NumPy array).
        vjp: `vjp(dy)` -> a gradient per input (a tuple, or the gradient itself for one input);
            None for an input that gets no gradient. Gradients must have the input's shape.
        *inputs: the op's differentiable inputs, in the order `vjp` returns their gradients.
    """
    try:                        # (inlined `_state()`: record runs once per op)
        s = _local.s
    except AttributeError:
        s = _state()
    tapes = s.tapes
    if not tapes or s.paused:
        return y
    for a in inputs:
        if type(a) is Tensor or (isinstance(a, Variable) and a.trainable) or \
                (a is not None and _watched(a, tapes)):
            break
    else:
        return y
    out = Tensor(y if type(y) is np.ndarray else np.asarray(y))
    node = _Node(out, inputs, vjp)
    for tape in tapes:
        tape._nodes.append(node)
    return out


def unwrap(x):
    """The NumPy value of a Tensor or Variable; anything else unchanged."""
    if type(x) is Tensor or isinstance(x, Variable):
        return x.value
    return x


class GradientTape:
    """Records ops so that `gradient(target, sources)` can differentiate through them.

    Used as in TensorFlow::

        with keras.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = loss_fn(y, y_pred)
        grads = tape.gradient(loss, model.trainable_variables)

    Trainable variables used inside the block are watched automatically; `watch(x)` adds arrays,
    tensors or non-trainable variables.

    Args:
        persistent: allow several `gradient` calls (otherwise the tape frees its nodes after one).
        watch_accessed_variables: watch trainable variables automatically (kept for TensorFlow
            compatibility; only `True` is supported).
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        if watch_accessed_variables is not True:
            raise ValueError("GradientTape(watch_accessed_variables=False) is not supported: "
                             "kerasnp watches every trainable variable. Received: "
                             f"watch_accessed_variables={watch_accessed_variables!r}")
        self.persistent = bool(persistent)
        self._nodes = []
        self._watched = {}
        self._used = False
        self._active = False

    def __enter__(self):
        _state().tapes.append(self)
        self._active = True
        return self

    def __exit__(self, *exc):
        tapes = _state().tapes
        if self in tapes:
            tapes.remove(self)
        self._active = False
        return False

    def watch(self, tensor):
        """Track `tensor` (an array, Tensor or Variable, or a list of them) from now on."""
        items = tensor if isinstance(tensor, (list, tuple)) else [tensor]
        for x in items:
            if isinstance(x, (int, float, complex, bool)) or x is None:
                raise TypeError("GradientTape.watch takes arrays, tensors or variables. "
                                f"Received: {type(x).__name__}")
            self._watched[id(x)] = x

    def stop_recording(self):
        """Context manager: ops inside it are not recorded."""
        return _Paused()

    def reset(self):
        """Forget everything recorded so far."""
        self._nodes = []
        self._watched = {}

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """d(sum of target)/d(each source), in the structure of `sources`.

        Args:
            target: a tensor (or list of tensors, whose sum is differentiated).
            sources: a variable or tensor, or a (nested) list/tuple/dict of them.
            output_gradients: optional upstream gradient for `target` (same structure).
            unconnected_gradients: `"none"` (None for a source the target does not depend on) or
                `"zero"` (zeros).
        Returns:
            gradients in the structure of `sources`; each has its source's shape.
        """
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError("unconnected_gradients must be 'none' or 'zero'. Received: "
                             f"unconnected_gradients={unconnected_gradients!r}")
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can compute gradients only once; "
                               "create it as GradientTape(persistent=True) to call gradient() "
                               "several times.")
        self._used = True
        if type(sources) is list and _NESTING.isdisjoint(map(type, sources)):
            flat, rebuild = sources, list              # the common case: a list of variables
        else:
            flat, rebuild = _flatten(sources)
        targets = target if isinstance(target, (list, tuple)) else [target]
        seeds = (output_gradients if isinstance(output_gradients, (list, tuple))
                 else [output_gradients]) if output_gradients is not None else [None] * len(targets)
        grads = {}
        keep = []
        src_ids = {id(x) for x in flat}
        for t, g in zip(targets, seeds):
            value = unwrap(t)
            if not isinstance(value, np.ndarray) and not np.isscalar(value):
                raise TypeError("GradientTape.gradient: target must be a tensor or array. "
                                f"Received: {type(t).__name__}")
            g = np.ones_like(value) if g is None else np.asarray(unwrap(g), dtype=np.result_type(value))
            _acc(grads, id(t), g)
            keep.append(t)
        s = _state()
        s.paused += 1
        get = grads.get
        try:
            for node in reversed(self._nodes):
                key = id(node.out)
                g = get(key)
                if g is None:
                    continue
                if key not in src_ids:
                    del grads[key]
                dxs = node.vjp(g)
                inputs = node.inputs
                if len(inputs) == 1 and type(dxs) is not tuple and type(dxs) is not list:
                    dxs = (dxs,)
                for x, dx in zip(inputs, dxs):
                    if dx is not None:
                        k = id(x)
                        old = get(k)
                        grads[k] = dx if old is None else old + dx
        finally:
            s.paused -= 1
        out = []
        for src in flat:
            g = get(id(src))
            if g is None:
                if unconnected_gradients == "zero":
                    out.append(_shaped(np.zeros_like(unwrap(src)), src))
                else:
                    out.append(None)
                continue
            v = src.value if type(src) is Variable else None
            if type(g) is np.ndarray and v is not None and g.shape == v.shape and \
                    g.dtype == v.dtype:
                out.append(g)                          # the common case, without a call
            else:
                out.append(_shaped(g, src))
        if not self.persistent:
            self._nodes = []
        del keep
        return rebuild(out)


_NESTING = frozenset((list, tuple, dict))


def _acc(grads, key, g):
    old = grads.get(key)
    grads[key] = g if old is None else old + g


def _shaped(g, src):
    if g is None:
        return None
    value = unwrap(src)
    if type(g) is np.ndarray and type(value) is np.ndarray and g.shape == value.shape and \
            g.dtype == value.dtype:
        return g
    if not isinstance(value, np.ndarray):
        return g
    g = np.asarray(g)
    if g.shape != value.shape:
        g = np.broadcast_to(g, value.shape).copy()
    if g.dtype != value.dtype and value.dtype.kind == "f":
        g = g.astype(value.dtype)
    return g


def _flatten(sources):
    """Flat list of sources and a function that puts values back in the same structure."""
    if isinstance(sources, dict):
        keys = list(sources)
        parts = [_flatten(sources[k]) for k in keys]
        flat = [x for p in parts for x in p[0]]
        sizes = [len(p[0]) for p in parts]

        def rebuild(vals):
            out, i = {}, 0
            for k, (_, rb), n in zip(keys, parts, sizes):
                out[k] = rb(vals[i:i + n])
                i += n
            return out
        return flat, rebuild
    if isinstance(sources, (list, tuple)):
        parts = [_flatten(s) for s in sources]
        flat = [x for p in parts for x in p[0]]
        sizes = [len(p[0]) for p in parts]
        kind = type(sources) if isinstance(sources, list) else tuple

        def rebuild(vals):
            out, i = [], 0
            for (_, rb), n in zip(parts, sizes):
                out.append(rb(vals[i:i + n]))
                i += n
            return kind(out) if kind is not tuple else tuple(out)
        return flat, rebuild
    return [sources], lambda vals: vals[0]


class _Paused:
    def __enter__(self):
        _state().paused += 1
        return self

    def __exit__(self, *exc):
        _state().paused -= 1
        return False


def stop_recording():
    """Context manager: ops inside it are not recorded on any tape (inference inside training)."""
    return _Paused()
