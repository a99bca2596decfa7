"""Seeding. `set_random_seed(seed)` makes model creation and `fit` bitwise reproducible.

Each layer (and each model, for shuffling) draws its own `numpy.random.Generator` from
`make_generator()`: after a seed is set, the n-th generator made is always the same, so building
the same model and fitting it the same way gives the same weights. Random ops called with
`seed=None` draw from one global generator, which `set_random_seed` also resets (from a stream
of its own, so it never shifts the generators `make_generator` hands out).
"""
import numbers
import random as _py_random

import numpy as np

from .. import _validate

_state = {"seed": None, "count": 0, "global": None}


def set_random_seed(seed):
    """Seed Python's `random`, NumPy's global state, every generator kerasnp makes from now on,
    and the global generator of `kerasnp.random` ops called with `seed=None`."""
    seed = _validate.non_negative_int(seed, "seed", "set_random_seed")
    _py_random.seed(seed)
    np.random.seed(seed % 2**32)
    _state["seed"] = seed
    _state["count"] = 0
    _state["global"] = None


def make_generator():
    """Return a new, independent `numpy.random.Generator` (deterministic once a seed is set)."""
    if _state["seed"] is None:
        return np.random.default_rng()
    _state["count"] += 1
    return np.random.default_rng([_state["seed"], _state["count"]])


def global_generator():
    """The generator behind `seed=None` draws (stream `[seed, 0]`; `make_generator` counts
    from 1, so the two never overlap)."""
    made = _state["global"]
    seed = _state["seed"]
    if made is None or made[0] != seed:      # also when the seed was changed behind our back
        made = _state["global"] = (seed, np.random.default_rng(None if seed is None
                                                                else [seed, 0]))
    return made[1]


class SeedGenerator:
    """A random state of its own, for random ops inside a layer's `call()` (as in Keras).

    Make it once (in `__init__`) and pass it as `seed=` on every call: each call advances it, so
    dropout masks differ from step to step but the whole run is reproducible.

    Args:
        seed: None (drawn from kerasnp's seeding: reproducible after `set_random_seed`) or a
            non-negative int (this generator's own, fixed start).
        name: optional name.

    Example:
        >>> gen = SeedGenerator(1337)
        >>> a = normal((2,), seed=gen); b = normal((2,), seed=gen)   # different draws
    """

    def __init__(self, seed=None, name=None):
        if seed is not None:
            seed = _validate.non_negative_int(seed, "seed", "SeedGenerator")
        self.seed = seed
        self.name = name or "seed_generator"
        self.generator = make_generator() if seed is None else np.random.default_rng(seed)

    def next(self, ordered=True):
        """A fresh integer seed drawn from this generator (advancing it)."""
        return int(self.generator.integers(0, 2**63 - 1))

    @property
    def state(self):
        """The bit generator's state (a dict); assign one back to resume exactly."""
        return self.generator.bit_generator.state

    @state.setter
    def state(self, value):
        self.generator.bit_generator.state = value

    def get_config(self):
        return {"seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name!r} seed={self.seed!r}>"


def generator_for(seed, fn):
    """The `numpy.random.Generator` a random op draws from, for its `seed` argument."""
    if seed is None:
        return global_generator()
    if isinstance(seed, SeedGenerator):
        return seed.generator
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    if isinstance(seed, np.random.Generator):
        return seed
    raise TypeError(f"{fn}: argument `seed` must be None, a non-negative int or a "
                    f"kerasnp.random.SeedGenerator. Received: seed={seed!r}")
