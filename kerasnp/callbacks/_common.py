"""Pieces shared by the callbacks that watch a metric or write files."""
import numbers
import os
import warnings

import numpy as np

from .. import _validate

MODES = ("auto", "min", "max")
# In "auto" mode these name fragments mean "higher is better"; anything else is minimised.
_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "fmeasure", "iou", "r2_score")


def monitor_name(monitor, owner):
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(f"{owner}: argument `monitor` must be the name of a logged quantity "
                         f"such as 'val_loss' or 'accuracy'. Received: monitor={monitor!r}")
    return monitor


def resolve_mode(mode, monitor, owner):
    """'min' or 'max': `mode` itself, or for 'auto' inferred from the monitored name."""
    _validate.choice(mode, "mode", MODES, owner)
    if mode != "auto":
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if "loss" in name or "error" in name:
        return "min"
    return "max" if any(h in name for h in _HIGHER_IS_BETTER) else "min"


def monitored_value(logs, monitor, owner, purpose):
    """`logs[monitor]` as a float, or None after a warning that lists the available keys."""
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(f"{owner}: {purpose} is conditioned on `{monitor}`, which is not in the "
                      f"logs. Available: {', '.join(logs) or '(none)'}.", UserWarning,
                      stacklevel=3)
        return None
    if np.size(value) != 1:
        raise ValueError(f"{owner}: `{monitor}` must be a single number to be monitored, "
                         f"received an array of shape {np.shape(value)}.")
    return float(np.asarray(value).reshape(()))


def save_freq_arg(save_freq, owner, allow_false=False):
    """'epoch' or a positive number of batches (False too, where allowed)."""
    if save_freq == "epoch" or (allow_false and save_freq is False):
        return save_freq
    if isinstance(save_freq, numbers.Integral) and not isinstance(save_freq, bool) \
            and save_freq > 0:
        return int(save_freq)
    valid = "'epoch', a positive int (a number of batches)" + (" or False" if allow_false else "")
    raise ValueError(f"{owner}: argument `save_freq` must be {valid}. "
                     f"Received: save_freq={save_freq!r}")


def verbose_arg(verbose, owner):
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"{owner}: argument `verbose` must be 0 (silent), 1 or 2 (print "
                         "messages). "
                         f"Received: verbose={verbose!r}")
    return int(verbose)


def path_arg(path, arg, owner):
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ValueError(f"{owner}: argument `{arg}` must be a non-empty path (str or "
                         f"os.PathLike). Received: {arg}={path!r}")
    return os.fspath(path)


def safe_to_write(model, owner):
    """False when the weights are no longer finite (NaN or inf): the writer then skips the file
    and training stops, so no checkpoint ever holds non-finite weights.

    The engine already stops before a batch with a non-finite loss updates the weights; this
    catches the rarer case of an update that overflows while the loss was still finite. One
    pass over the weights costs little next to writing them to a file.
    """
    for var in model.weights:
        if not np.isfinite(var.value).all():
            model.stop_training = True
            say(f"{owner}: weight '{var.path}' is not finite (NaN or inf); not writing it, "
                "terminating training.")
            return False
    return True


def say(message):
    """Print a callback's message as Keras does: to stdout, or to the "kerasnp" logger after
    `kerasnp.utils.disable_interactive_logging()`."""
    from ..utils.interactive_logging import print_msg     # lazy: utils imports the models
    print_msg(message)


def _multi_process():
    """The distribution when it spans several processes, else None (the common case)."""
    from ..distribution import _state as dstate
    return dstate.active


def is_chief():
    """Whether this process prints and writes files: always, except the processes other than
    process 0 of a multi-process `kerasnp.distribution` run."""
    dist = _multi_process()
    return dist is None or dist.is_chief


def write_once(write, what):
    """Run `write()` (a file write) on process 0 only; the others wait for it, so no process
    reads a half-written file, and all raise when it failed (no process goes on alone).
    Returns `write()`'s result on process 0 (None elsewhere)."""
    dist = _multi_process()
    if dist is None:
        return write()
    result, error = None, None
    if dist.is_chief:
        try:
            result = write()
        except Exception as exc:           # told to the others below, then raised here
            error = exc
    if dist.any(error is not None):        # a collective: the barrier after the write
        if error is not None:
            raise error
        raise RuntimeError(f"Process 0 failed while writing {what}; see its error. This is "
                           f"process {dist.process_id}.")
    return result
