"""Boundary validation with messages that say what was expected and what was received.

`owner` is a layer (named as `Layer 'dense_1' (Dense)`), a class, or a plain string.
"""
import numbers

import numpy as np


def describe(owner):
    """How an error names its owner: `Layer 'dense_1' (Dense)`, `Adam`, or the string itself."""
    if owner is None:
        return ""
    if isinstance(owner, str):
        return owner
    name = getattr(owner, "name", None)
    cls = type(owner).__name__
    if isinstance(name, str) and hasattr(owner, "built"):
        return f"Layer '{name}' ({cls})"
    return cls


def _fail(owner, arg, expected, value, exc=ValueError):
    who = describe(owner)
    prefix = f"{who}: " if who else ""
    raise exc(f"{prefix}argument `{arg}` must be {expected}. Received: {arg}={value!r}")


def positive_int(value, arg, owner=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        _fail(owner, arg, "a positive integer", value)
    return int(value)


def non_negative_int(value, arg, owner=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        _fail(owner, arg, "a non-negative integer", value)
    return int(value)


def number(value, arg, owner=None, low=None, high=None, low_open=False, high_open=False):
    """A real number in [low, high] (open ends where asked); returns a Python float."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low}"
        hi = "" if high is None else f"{high}" + (")" if high_open else "]")
        rng = f" in {lo}, {hi}" if lo and hi else (f" >{'' if low_open else '='} {low}" if lo else "")
        _fail(owner, arg, f"a finite number{rng}", value)
    return float(value)


def rate(value, arg, owner=None):
    """A probability-like rate in [0, 1)."""
    return number(value, arg, owner, low=0.0, high=1.0, high_open=True)


def choice(value, arg, valid, owner=None):
    if value not in valid:
        valid_s = ", ".join(repr(v) for v in valid)
        _fail(owner, arg, f"one of {valid_s}", value)
    return value


def boolean(value, arg, owner=None):
    if not isinstance(value, (bool, np.bool_)):
        _fail(owner, arg, "True or False", value, TypeError)
    return bool(value)


def int_tuple(value, n, arg, owner=None, allow_zero=False):
    """An int or a sequence of `n` ints (all > 0, or >= 0 with allow_zero) -> tuple of n ints."""
    check = non_negative_int if allow_zero else positive_int
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (check(value, arg, owner),) * n
    try:
        items = tuple(value)
    except TypeError:
        items = None
    if items is None or len(items) != n:
        _fail(owner, arg, f"an integer or a tuple of {n} integers", value)
    return tuple(check(v, arg, owner) for v in items)


def shape(value, arg, owner=None):
    """A tuple of non-negative ints (an int is a 1-D shape, None the scalar shape `()`)."""
    if value is None:
        return ()
    items = (value,) if isinstance(value, numbers.Integral) and not isinstance(value, bool) \
        else value
    try:
        items = tuple(items)
    except TypeError:
        items = None
    if items is None or not all(isinstance(d, numbers.Integral) and not isinstance(d, bool)
                                and d >= 0 for d in items):
        _fail(owner, arg, "a tuple of non-negative integers", value)
    return tuple(int(d) for d in items)
