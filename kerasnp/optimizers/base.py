"""Optimizer base: learning rate and schedules, clipping, decoupled weight decay, the step.

A step is one fused kernel call per variable (see `_kernels.py`): clipping, weight decay and the
update happen in a single pass over the weight, its gradient and its slots, with no temporary
arrays. The pass also backs the weight up, writes the new slots aside (`_slots.py` swaps them in
after the step) and reports whether every value it wrote is finite; a step that would leave NaN
or inf is undone exactly and raises `NonFiniteUpdateError`. Per-step scalars (bias corrections,
`1 - lr * weight_decay`, clip scales) are computed once in Python floats and cast to the weight's
dtype, so float32 weights stay float32.

With `use_ema`, each variable also gets an `average` slot (Keras's name), updated after the
kernels with `ema_momentum` (written aside and swapped in with the other slots) and copied into
the weights every `ema_overwrite_frequency` steps; `callbacks.SwapEMAWeights` swaps it in for
evaluation.

Subclasses declare their slots and kernel through three small hooks:
`_update_slot_names()` (ordered, Keras names; the kernel's slots), `_variant()` (kernel name in
`_kernels`/`_reference`) and `_hyper(lr, step)` (the kernel's trailing scalars for 1-based
`step`); `_slot_init(name)` gives a slot's initial fill (0 by default). Optimizers whose slots are
not weight-shaped constants or whose step is not a flat kernel use the hooks of `_slots.py`.
"""
import math
import re

import numpy as np

from ..errors import NonFiniteUpdateError  # noqa: F401  (also kerasnp.errors)
from ..variables import Variable

from kerasnp._registry import Registry
from kerasnp.optimizers import schedules
from kerasnp.optimizers._helpers import (check_inert_kwargs, check_lr, clip_scale, optional,
                                         sq_norm)
from kerasnp.optimizers._ema import EmaMixin
from kerasnp.optimizers._slots import SlotsMixin

registry = Registry("optimizer")


class Optimizer(EmaMixin, SlotsMixin):
    """Base class of all optimizers (Keras 3 semantics).

    Args:
        learning_rate: float >= 0, a `LearningRateSchedule` (evaluated at `iterations`), or a
            callable with no arguments returning the rate.
        weight_decay: None or float >= 0; decoupled decay `var -= lr * weight_decay * var`
            applied before each update.
        clipnorm: None or float > 0; each gradient is rescaled to norm <= clipnorm.
        clipvalue: None or float > 0; each gradient element is clipped to [-clipvalue, clipvalue].
        global_clipnorm: None or float > 0; all gradients are rescaled together so that their
            joint norm is <= global_clipnorm. At most one of the three clip options may be set.
        use_ema: keep an exponential moving average of each variable (`average` slot):
            `average = ema_momentum * average + (1 - ema_momentum) * var` after each step
            (the first step copies the variable).
        ema_momentum: float in [0, 1], the EMA's momentum.
        ema_overwrite_frequency: None or int >= 1; every that many steps the variables are
            overwritten with their averages.
        name: the optimizer's name (default: the Keras name of the class).

    Attributes:
        iterations: int, number of steps applied so far.
    """

    _default_name = "optimizer"

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name=None, **kwargs):
        check_inert_kwargs(self, kwargs)
        self._init_ema(use_ema, ema_momentum, ema_overwrite_frequency)
        self.name = self._default_name if name is None else str(name)
        self.iterations = 0
        self._learning_rate = check_lr(learning_rate, self)
        self.weight_decay = optional(weight_decay, "weight_decay", self, low_open=False)
        self.clipnorm = optional(clipnorm, "clipnorm", self)
        self.clipvalue = optional(clipvalue, "clipvalue", self)
        self.global_clipnorm = optional(global_clipnorm, "global_clipnorm", self)
        set_clips = [k for k in ("clipnorm", "clipvalue", "global_clipnorm")
                     if getattr(self, k) is not None]
        if len(set_clips) > 1:
            raise ValueError(f"{type(self).__name__}: only one of `clipnorm`, `clipvalue` and "
                             f"`global_clipnorm` can be set. Received: clipnorm={clipnorm!r}, "
                             f"clipvalue={clipvalue!r}, global_clipnorm={global_clipnorm!r}")
        self._states = {}
        self._wd_exclude_ids = set()
        self._wd_exclude_names = []

    # ----------------------------------------------------------------- learning rate
    @property
    def learning_rate(self):
        """The current learning rate as a float (a schedule is evaluated at `iterations`)."""
        lr = self._learning_rate
        if lr.__class__ is float:
            return lr
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(lr(self.iterations))
        return float(lr())

    @learning_rate.setter
    def learning_rate(self, value):
        if (isinstance(self._learning_rate, schedules.LearningRateSchedule)
                and not isinstance(value, schedules.LearningRateSchedule)):
            raise TypeError(f"{type(self).__name__} was created with a LearningRateSchedule as "
                            f"its learning rate, so the rate cannot be set to a number; create "
                            f"it with a float learning_rate to make it settable. "
                            f"Received: learning_rate={value!r}")
        self._learning_rate = check_lr(value, self)

    # ----------------------------------------------------------------- subclass hooks
    def _update_slot_names(self):
        return ()

    def _slot_names(self):
        """Every slot of a variable: the kernel's, then the EMA's `average`."""
        return self._update_slot_names() + (("average",) if self.use_ema else ())

    def _slot_init(self, name):
        return 0.0

    def _variant(self):
        raise NotImplementedError

    def _hyper(self, lr, step):
        raise NotImplementedError

    # ----------------------------------------------------------------- weight decay
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables from weight decay: those in `var_list`, and those whose path
        contains a match of any regular expression in `var_names`."""
        self._wd_exclude_ids.update(id(v) for v in (var_list or ()))
        self._wd_exclude_names.extend(var_names or ())
        for st in self._states.values():
            st.decay = self._decays(st.var)

    def _decays(self, var):
        if id(var) in self._wd_exclude_ids:
            return False
        return not any(re.search(p, var.path) for p in self._wd_exclude_names)

    # ----------------------------------------------------------------- the step
    def apply(self, grads, trainable_variables=None):
        """Apply one step: `optimizer.apply(grads, variables)` (Keras 3), e.g. with the
        gradients from `tape.gradient(loss, variables)`.

        Gradients that are None are skipped; an empty list is a no-op (`iterations` does not
        advance), as in Keras. Each variable's `.grad` keeps the gradient it was given. The
        first kerasnp form `apply(variables)` (using each variable's `.grad`) still works.
        """
        if trainable_variables is None:
            items = list(grads)
            if all(isinstance(v, Variable) for v in items):
                pairs = [(v.grad, v) for v in items if v.grad is not None]
                if pairs:
                    self._step(pairs)
                return
            raise ValueError(f"{type(self).__name__}.apply(grads, trainable_variables) needs "
                             "the variables the gradients belong to. Received: "
                             "trainable_variables=None")
        grads, variables = list(grads), list(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: {len(grads)} gradients for "
                             f"{len(variables)} variables; give one gradient per variable.")
        pairs = []
        for g, var in zip(grads, variables):
            if g is None:
                continue
            if type(g) is not np.ndarray or not g.flags.c_contiguous or \
                    g.shape != var.value.shape:            # (the tape's gradients pass as they are)
                g = _as_grad(g, var, type(self).__name__)
            var.grad = g
            pairs.append((g, var))
        if pairs:
            self._step(pairs)

    def apply_gradients(self, grads_and_vars):
        """Apply one step from a list of `(gradient, variable)` pairs (Keras API).

        Pairs whose gradient is None are skipped; at least one gradient must be given.
        """
        pairs = []
        for item in grads_and_vars:
            if not (isinstance(item, (tuple, list)) and len(item) == 2):
                raise TypeError(f"{type(self).__name__}.apply_gradients expects (gradient, "
                                f"variable) pairs. Received: item={item!r}")
            g, var = item
            if g is None:
                continue
            pairs.append((_as_grad(g, var, type(self).__name__ + ".apply_gradients"), var))
        if not pairs:
            raise ValueError(f"{type(self).__name__}.apply_gradients: no gradients provided for "
                             f"any variable.")
        self._step(pairs)

    def _step(self, pairs):
        if len({id(var) for _, var in pairs}) != len(pairs):
            # (the step writes new slots aside and swaps them in: a variable updated twice
            # would swap back)
            seen = set()
            twice = next(v.path for _, v in pairs if id(v) in seen or seen.add(id(v)))
            raise ValueError(f"{type(self).__name__}: variable '{twice}' was given twice in "
                             "one step; pass each variable once (sum its gradients).")
        lr = self.learning_rate
        hyper = self._hyper(lr, self.iterations + 1)
        keep_wd = 1.0 - lr * self.weight_decay if self.weight_decay else 1.0
        clip = math.inf if self.clipvalue is None else self.clipvalue
        scale = 1.0
        if self.global_clipnorm is not None:
            scale = clip_scale(sum(sq_norm(g) for g, _ in pairs), self.global_clipnorm)
        cast = {}
        done = []
        states = self._states
        for g, var in pairs:
            st = states.get(id(var))
            if st is None or st.var is not var or st.value is not var.value:
                st = self._state(var)                 # first step, or the value was rebound
            dt = st.value.dtype
            gf = g.reshape(-1) if g.dtype == dt else g.astype(dt).reshape(-1)
            if self.clipnorm is not None:
                scale = clip_scale(sq_norm(gf), self.clipnorm)
            t = dt.type
            consts = cast.get(dt)
            if consts is None:                        # scalars cast once per step and dtype
                consts = cast[dt] = (t(keep_wd), t(1.0), t(clip), tuple(map(t, hyper)))
            done.append(st)
            # The kernel backs the weight up and writes the new slots aside as it goes, and
            # says whether every value it wrote is finite: checking costs nothing, undoing
            # happens only on failure.
            k = st.n_update
            if not st.kernel(st.flat, st.backup, gf, *st.flats[:k], *st.spare_flats[:k],
                             consts[0] if st.decay else consts[1], t(scale), consts[2],
                             *consts[3]):
                self._undo(done, gf, lr)
            if var.constraint is not None:
                var.value[...] = var.constraint(var.value)
        if self.use_ema:
            self._update_ema(done)
        for st in done:          # the slots the kernel just wrote become the current ones
            st.arrays, st.spare = st.spare, st.arrays
            st.flats, st.spare_flats = st.spare_flats, st.flats
        self.iterations += 1

    def _undo(self, done, g, lr):
        """Take back the step so far (weights from their backups; slots and `iterations` were
        not changed yet) and raise `NonFiniteUpdateError` naming the variable and the cause."""
        for st in done:
            st.undo()
        st = done[-1]
        if not np.isfinite(st.backup).all():
            cause = "the weight already held NaN or inf before this step"
        elif not np.isfinite(g).all():
            cause = "its gradient holds NaN or inf values"
        else:
            cause = f"the update overflowed the {st.value.dtype} range"
        slots = ", ".join(self._slot_names())
        raise NonFiniteUpdateError(
            f"{type(self).__name__} step {self.iterations + 1}: updating variable "
            f"'{st.var.path}' gave NaN or inf values ({cause}). The step was undone: the "
            f"weights{f', the slots ({slots})' if slots else ''} and iterations "
            f"({self.iterations}) are as before it. Try a lower learning rate (now {lr:g}), "
            "clipnorm=1.0 or global_clipnorm=1.0, or check the gradients.")

    # ----------------------------------------------------------------- config
    def get_config(self):
        """Return the constructor arguments (Keras names); a schedule is stored as
        `{"class_name": ..., "config": ...}`."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif not isinstance(lr, float):
            lr = self.learning_rate
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency}

    @classmethod
    def from_config(cls, config):
        """Build an optimizer from `get_config()` output (also accepts Keras 3 configs)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        lr = self._learning_rate
        lr = lr if isinstance(lr, float) else type(lr).__name__
        return (f"<{type(self).__name__} name='{self.name}' learning_rate={lr} "
                f"iterations={self.iterations}>")


def _as_grad(g, var, who):
    """A gradient as a contiguous array of its variable's shape (tape tensors unwrapped)."""
    g = np.ascontiguousarray(getattr(g, "value", g) if not isinstance(g, np.ndarray) else g)
    if g.shape != var.value.shape:
        raise ValueError(f"{who}: gradient for variable '{var.path}' must have shape "
                         f"{var.value.shape}, received shape {g.shape}.")
    return g
