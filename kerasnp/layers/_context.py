"""The call context: what one top-level layer or model call shares with the calls inside it.

Per thread (so concurrent predicts never mix): the `training` flag an outer call hands to inner
layers that were not given one, and the losses that `add_loss` adds during the call. When a call
ends, the losses added inside it become that layer's `losses` (Keras's "losses of the latest
call"); the trainer reads the model's.
"""
import threading

_local = threading.local()


def _stack():
    s = getattr(_local, "stack", None)
    if s is None:
        s = _local.stack = []
    return s


def training():
    """The training flag of the enclosing call (None at top level)."""
    s = _stack()
    return s[-1].training if s else None


class Call:
    """`with Call(layer, training):` around one layer's `call`."""

    __slots__ = ("layer", "training", "losses", "_start")

    def __init__(self, layer, training):
        self.layer = layer
        self.training = training

    def __enter__(self):
        try:                             # (`_stack()` inlined: this runs once per model call)
            s = _local.stack
        except AttributeError:
            s = _stack()
        self.losses = s[0].losses if s else []
        self._start = len(self.losses)
        s.append(self)
        return self

    def __exit__(self, *exc):
        _local.stack.pop()
        self.layer.__dict__["_last_losses"] = self.losses[self._start:]
        return False


def add_loss(layer, loss):
    """Add `loss` to the current call's losses (outside a call: to the layer's own list)."""
    s = _stack()
    if s:
        s[-1].losses.append(loss)
    else:
        layer.__dict__.setdefault("_last_losses", []).append(loss)


class isolated:
    """`with isolated():` calls inside start a fresh context (shape inference on zeros)."""

    def __enter__(self):
        self._saved = _stack()
        _local.stack = []
        return self

    def __exit__(self, *exc):
        _local.stack = self._saved
        return False
