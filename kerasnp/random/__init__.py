"""`kerasnp.random` (Keras 3's `keras.random`): seeded draws and random ops, and the seeding that
makes model creation and `fit` bitwise reproducible.

Every function takes `seed`: None draws from the global generator (reset by
`set_random_seed`), an int gives the same values on every call, a `SeedGenerator` (made once,
in a layer's `__init__`) advances its own state on every call. `dropout` and `shuffle` are
differentiable on the gradient tape (the mask or permutation lives in the VJP's closure).

Example:
    >>> import kerasnp as keras
    >>> keras.random.set_random_seed(0)
    >>> keras.random.normal((2, 3)).shape
    (2, 3)
"""
from .sampling import (beta, binomial, categorical, dropout, gamma, normal, randint, shuffle,
                       truncated_normal, uniform)
from .seeding import SeedGenerator, make_generator, set_random_seed
from .seeding import _state  # noqa: F401  (tests reset it between cases)

__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma",
           "make_generator", "normal", "randint", "set_random_seed", "shuffle",
           "truncated_normal", "uniform"]
