"""The call context: what one top-level layer or model call shares with the calls inside it.

Per thread (so concurrent predicts never mix): the `training` flag an outer call hands to inner
layers that were not given one, and the losses that `add_loss` collects during the call. The
outermost call starts a fresh context; `collect_losses()` lets the trainer take the losses of
one step.
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

    __slots__ = ("layer", "training", "losses", "_top", "_prev")

    def __init__(self, layer, training):
        self.layer = layer
        self.training = training

    def __enter__(self):
        s = _stack()
        self._top = not s
        self.losses = [] if self._top else s[0].losses
        self._prev = len(self.losses)
        s.append(self)
        # Keras semantics: a layer's `losses` are those of its latest call.
        self.layer.__dict__["_last_losses"] = []
        return self

    def __exit__(self, *exc):
        _stack().pop()
        return False


def add_loss(layer, loss):
    """Record `loss` for `layer` in the current call (or keep it on the layer at top level)."""
    s = _stack()
    layer.__dict__.setdefault("_last_losses", []).append(loss)
    if s:
        s[0].losses.append(loss)


class collect_losses:
    """`with collect_losses() as losses:` -> every `add_loss` of the calls inside, in order."""

    def __enter__(self):
        self._outer = Call.__new__(Call)
        self._outer.layer = _Sink()
        self._outer.training = None
        self._outer.__enter__()
        return self._outer.losses

    def __exit__(self, *exc):
        return self._outer.__exit__(*exc)


class _Sink:
    """Stands in for a layer at the top of a loss collection."""

    def __init__(self):
        self.__dict__ = {}
