"""Seeding. `set_random_seed(seed)` makes model creation and `fit` bitwise reproducible.

Each layer (and each model, for shuffling) draws its own `numpy.random.Generator` from
`make_generator()`: after a seed is set, the n-th generator made is always the same, so building the
same model and fitting it the same way gives the same weights.
"""
import random as _py_random

import numpy as np

from . import _validate

_state = {"seed": None, "count": 0}


def set_random_seed(seed):
    """Seed Python's `random`, NumPy's global state and every generator kerasnp makes from now on."""
    seed = _validate.non_negative_int(seed, "seed", "set_random_seed")
    _py_random.seed(seed)
    np.random.seed(seed % 2**32)
    _state["seed"] = seed
    _state["count"] = 0


def make_generator():
    """Return a new, independent `numpy.random.Generator` (deterministic once a seed is set)."""
    if _state["seed"] is None:
        return np.random.default_rng()
    _state["count"] += 1
    return np.random.default_rng([_state["seed"], _state["count"]])
