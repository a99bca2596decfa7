"""Learning-rate schedules: callables from the optimizer's step count to a learning rate.

An optimizer built with a schedule evaluates it at `optimizer.iterations` (0 for the first
step) before every update, as Keras does.

Example:
    >>> from kerasnp.optimizers import Adam, schedules
    >>> lr = schedules.ExponentialDecay(1e-2, decay_steps=100, decay_rate=0.5)
    >>> lr(100)
    0.005
    >>> opt = Adam(learning_rate=lr)
"""
import bisect
import math
import numbers

from kerasnp import _validate as validate
from kerasnp._registry import Registry, resolve, serialize_object

registry = Registry("learning rate schedule")


class LearningRateSchedule:
    """Base class: subclasses implement `__call__(step) -> float` and `get_config()`."""

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step).")

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} must implement get_config().")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _decay_steps(value, owner):
    return validate.number(value, "decay_steps", owner, low=0.0, low_open=True)


def _initial_lr(value, owner):
    return validate.number(value, "initial_learning_rate", owner, low=0.0)


@registry.register("ExponentialDecay", "exponential_decay")
class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

    Args:
        initial_learning_rate: float >= 0, the rate at step 0.
        decay_steps: number > 0, steps per factor of `decay_rate`.
        decay_rate: float >= 0, the multiplicative decay per `decay_steps`.
        staircase: if True, `step / decay_steps` is floored, so the rate drops in steps.
        name: optional name kept in the config.

    Example:
        >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)(15)
        0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        self.initial_learning_rate = _initial_lr(initial_learning_rate, self)
        self.decay_steps = _decay_steps(decay_steps, self)
        self.decay_rate = validate.number(decay_rate, "decay_rate", self, low=0.0)
        self.staircase = validate.boolean(staircase, "staircase", self)
        self.name = name

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


@registry.register("InverseTimeDecay", "inverse_time_decay")
class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    Args:
        initial_learning_rate: float >= 0, the rate at step 0.
        decay_steps: number > 0.
        decay_rate: float >= 0.
        staircase: if True, `step / decay_steps` is floored.
        name: optional name kept in the config.

    Example:
        >>> InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)(2)
        0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        self.initial_learning_rate = _initial_lr(initial_learning_rate, self)
        self.decay_steps = _decay_steps(decay_steps, self)
        self.decay_rate = validate.number(decay_rate, "decay_rate", self, low=0.0)
        self.staircase = validate.boolean(staircase, "staircase", self)
        self.name = name

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


@registry.register("PiecewiseConstantDecay", "piecewise_constant_decay")
class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant rate per interval: `values[0]` while `step <= boundaries[0]`, `values[1]` while
    `boundaries[0] < step <= boundaries[1]`, ..., `values[-1]` after the last boundary.

    Args:
        boundaries: increasing sequence of step counts.
        values: sequence of `len(boundaries) + 1` learning rates.
        name: optional name kept in the config.

    Example:
        >>> s = PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
        >>> s(100), s(101), s(201)
        (1.0, 0.5, 0.1)
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        try:
            boundaries, values = list(boundaries), list(values)
        except TypeError:
            raise TypeError(f"PiecewiseConstantDecay: `boundaries` and `values` must be "
                            f"sequences. Received: boundaries={boundaries!r}, values={values!r}")
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"PiecewiseConstantDecay: `values` must have one more entry than "
                             f"`boundaries` ({len(boundaries)} + 1), received {len(values)}. "
                             f"Received: boundaries={boundaries!r}, values={values!r}")
        for b in boundaries:
            if isinstance(b, bool) or not isinstance(b, numbers.Real):
                raise TypeError(f"PiecewiseConstantDecay: every boundary must be a number. "
                                f"Received: boundaries={boundaries!r}")
        if any(b1 <= b0 for b0, b1 in zip(boundaries, boundaries[1:])):
            raise ValueError(f"PiecewiseConstantDecay: `boundaries` must be strictly increasing. "
                             f"Received: boundaries={boundaries!r}")
        self.boundaries = boundaries
        self.values = [validate.number(v, "values", self, low=0.0) for v in values]
        self.name = name

    def __call__(self, step):
        return self.values[bisect.bisect_left(self.boundaries, step)]

    def get_config(self):
        return {"boundaries": list(self.boundaries), "values": list(self.values),
                "name": self.name}


@registry.register("CosineDecay", "cosine_decay")
class CosineDecay(LearningRateSchedule):
    """Optional linear warmup, then cosine decay to `alpha * peak` over `decay_steps`.

    Without warmup: `lr(step) = initial_learning_rate * ((1 - alpha) * c + alpha)` with
    `c = 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps))`. With `warmup_target`, the
    rate goes linearly from `initial_learning_rate` to `warmup_target` over `warmup_steps`, then
    decays from `warmup_target` the same way.

    Args:
        initial_learning_rate: float >= 0.
        decay_steps: number > 0, length of the cosine part.
        alpha: float in [0, 1], the final rate as a fraction of the decayed-from rate.
        name: optional name kept in the config.
        warmup_target: None (no warmup) or float >= 0, the rate reached after warmup.
        warmup_steps: int >= 0, length of the warmup.

    Example:
        >>> CosineDecay(1.0, decay_steps=10)(5)
        0.5
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = _initial_lr(initial_learning_rate, self)
        self.decay_steps = _decay_steps(decay_steps, self)
        self.alpha = validate.number(alpha, "alpha", self, low=0.0, high=1.0)
        self.name = name
        self.warmup_target = (None if warmup_target is None else
                              validate.number(warmup_target, "warmup_target", self, low=0.0))
        self.warmup_steps = validate.non_negative_int(warmup_steps, "warmup_steps", self)

    def _decay(self, step, peak):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return peak * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return self.initial_learning_rate + delta * step / self.warmup_steps
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


def serialize(schedule):
    """Return `{"class_name": ..., "config": ...}` for a schedule."""
    return serialize_object(schedule, LearningRateSchedule, "schedule")


def deserialize(config):
    """Build a schedule from `{"class_name": ..., "config": ...}`."""
    if not isinstance(config, dict):
        raise TypeError(f"deserialize() expects a config dict with 'class_name' and 'config'. "
                        f"Received: config={config!r}")
    return resolve(config, registry)


def get(identifier):
    """Return a schedule from a schedule instance or a config dict (None gives None)."""
    if identifier is None or isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(f"Could not interpret learning rate schedule identifier: expected a "
                    f"LearningRateSchedule or a config dict. Received: identifier={identifier!r}")
