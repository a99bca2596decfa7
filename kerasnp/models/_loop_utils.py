"""Small helpers of the training loop: result shaping, argument checks, Ctrl-C handling."""
import contextlib
import signal
import threading

from ..kernels.threads import num_threads, single_threaded_blas


def _values(logs):
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _join(metrics, weighted_metrics):
    if weighted_metrics is None:
        return metrics
    if metrics is None:
        return weighted_metrics
    if isinstance(metrics, (list, tuple)) and isinstance(weighted_metrics, (list, tuple)):
        return list(metrics) + list(weighted_metrics)
    raise ValueError("Give weighted_metrics as a list together with a list of metrics.")


def _verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 0 (silent), 1 (progress bar), 2 (one line per epoch) "
                         f"or 'auto'. Received: verbose={verbose!r}")
    return verbose


class _SigintFlag:
    """Within `with`, the first Ctrl-C sets `.flag` (fit stops after the batch); a second one
    raises KeyboardInterrupt as usual."""

    def __init__(self):
        self.flag = False
        self._old = None

    def _handler(self, signum, frame):
        if self.flag:
            raise KeyboardInterrupt
        self.flag = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


def _holds_threaded_layer(model):
    """Whether a layer of `model` (nested models, wrappers and sublayers included) computes on
    kerasnp's threads (`computes_on_kerasnp_threads`)."""
    seen, todo = set(), [model]
    while todo:
        layer = todo.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if getattr(type(layer), "computes_on_kerasnp_threads", False):
            return True
        todo.extend(layer.__dict__.get("_sublayers", ()))
        todo.extend(layer.__dict__.get("_layers", ()) or ())
    return False


@contextlib.contextmanager
def thread_region(model):
    """fit/evaluate/predict of a model whose convolutions or recurrent layers split batches over
    kerasnp's threads run with BLAS single-threaded throughout (its dense products included):
    OpenBLAS's workers spin after every threaded product, on the very cores kerasnp's threads
    need next (a reference-CNN step: 18 ms with BLAS single-threaded, 23 ms with the dense
    layers' products left on two BLAS threads, 2-core VM). Models without such layers keep
    BLAS's threads."""
    if num_threads() == 1 or not _holds_threaded_layer(model):
        yield
        return
    with single_threaded_blas():
        yield
