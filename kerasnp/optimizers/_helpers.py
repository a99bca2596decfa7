"""Private helpers of the optimizer base: clipping maths, argument checks."""
import math
import numbers

import numpy as np

from kerasnp import _validate as validate
from kerasnp.optimizers import schedules

# Keras config keys for features kerasnp does not implement, with their inert values.
INERT = {"loss_scale_factor": None, "gradient_accumulation_steps": None, "jit_compile": None,
          "is_legacy_optimizer": None}


def clip_scale(sq_norm, clip):
    """Keras's clip-by-norm factor: `clip / max(norm, clip)` (1 when the norm is within)."""
    norm = math.sqrt(sq_norm)
    return clip / norm if norm > clip else 1.0


def sq_norm(g):
    g = g.reshape(-1)
    return float(np.dot(g, g))


def check_lr(value, owner):
    if isinstance(value, schedules.LearningRateSchedule):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return validate.number(value, "learning_rate", owner, low=0.0)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return validate.number(float(value), "learning_rate", owner, low=0.0)
    if callable(value):
        return value
    raise TypeError(f"{type(owner).__name__}: argument `learning_rate` must be a float >= 0, a "
                    f"LearningRateSchedule or a callable with no arguments. "
                    f"Received: learning_rate={value!r}")


def optional(value, arg, owner, low_open=True):
    if value is None:
        return None
    return validate.number(value, arg, owner, low=0.0, low_open=low_open)


def check_inert_kwargs(owner, kwargs):
    for key, value in kwargs.items():
        if key not in INERT:
            raise TypeError(f"{type(owner).__name__} got an unexpected argument `{key}`. "
                            f"Received: {key}={value!r}")
        if key in ("loss_scale_factor", "gradient_accumulation_steps") and value:
            raise ValueError(f"{type(owner).__name__}: `{key}` is not supported by kerasnp "
                             f"(only its inert value is accepted). Received: {key}={value!r}")
