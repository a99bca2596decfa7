"""Small 2-D toy datasets for demos and tests: CS231n's spiral, a circle in a square, moons."""
import math

import numpy as np

from .. import _validate
from .. import random as _random


def _generator(seed, owner):
    """A seeded generator, or one from `kerasnp.random` (reproducible after set_random_seed)."""
    if seed is None:
        return _random.make_generator()
    return np.random.default_rng(_validate.non_negative_int(seed, "seed", owner))


def make_spiral(n_samples=300, n_classes=3, noise=0.2, seed=None):
    """Interleaved spiral arms, one per class (the classic CS231n toy problem).

    Arm `k` sweeps radius 0 -> 1 while its angle runs over `[4k, 4(k+1)]` radians, with Gaussian
    noise of standard deviation `noise` added to the angle. `n_samples` is the *total* number of
    points, spread as evenly as possible across classes (the first `n_samples % n_classes` classes
    get one extra point). Rows are shuffled, so a `validation_split` sees every class.

    Args:
        n_samples: int >= n_classes, total number of points.
        n_classes: int >= 2, number of arms.
        noise: float >= 0, standard deviation of the angular noise in radians.
        seed: None or non-negative int. None draws from `kerasnp.random`, so the data are
            reproducible after `kerasnp.random.set_random_seed(...)`.

    Returns:
        `(x, y)`: x float32 of shape `(n_samples, 2)` with values in [-1, 1], y int64 labels of
        shape `(n_samples,)` in `[0, n_classes)`.

    Example:
        >>> x, y = make_spiral(300, 3, seed=0)
        >>> x.shape, y.shape, np.bincount(y).tolist()
        ((300, 2), (300,), [100, 100, 100])
    """
    owner = "make_spiral"
    n_classes = _validate.positive_int(n_classes, "n_classes", owner)
    if n_classes < 2:
        raise ValueError(f"{owner}: argument `n_classes` must be at least 2. "
                         f"Received: n_classes={n_classes!r}")
    n_samples = _validate.positive_int(n_samples, "n_samples", owner)
    if n_samples < n_classes:
        raise ValueError(f"{owner}: argument `n_samples` must be at least n_classes={n_classes} "
                         f"(it is the total over all classes). Received: n_samples={n_samples!r}")
    noise = _validate.number(noise, "noise", owner, low=0.0)
    rng = _generator(seed, owner)

    y = np.repeat(np.arange(n_classes, dtype=np.int64),
                  [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)])
    # position along each arm in [0, 1]: rank within the class over (class size - 1)
    counts = np.bincount(y, minlength=n_classes)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = (np.arange(n_samples) - starts[y]) / np.maximum(counts[y] - 1, 1)
    r = pos
    t = 4.0 * (y + pos) + noise * rng.standard_normal(n_samples)
    x = np.stack([r * np.sin(t), r * np.cos(t)], axis=1).astype(np.float32)
    perm = rng.permutation(n_samples)
    return x[perm], y[perm]


def make_circle(n_samples=1000, radius=None, seed=None):
    """Points uniform in the unit square, labelled 1 inside a circle centred at (0.5, 0.5).

    Args:
        n_samples: positive int, number of points.
        radius: positive float or None. None uses `sqrt(0.5 / pi)` (~0.399), the radius whose
            disc has area 0.5, so both classes hold about half the points.
        seed: None or non-negative int (None draws from `kerasnp.random`).

    Returns:
        `(x, y)`: x float32 of shape `(n_samples, 2)` in [0, 1], y float32 of shape
        `(n_samples, 1)` with 1.0 inside the circle and 0.0 outside (ready for a sigmoid output
        and `binary_crossentropy`).

    Example:
        >>> x, y = make_circle(1000, seed=0)
        >>> x.shape, y.shape, 0.4 < y.mean() < 0.6
        ((1000, 2), (1000, 1), True)
    """
    owner = "make_circle"
    n_samples = _validate.positive_int(n_samples, "n_samples", owner)
    if radius is None:
        radius = math.sqrt(0.5 / math.pi)
    radius = _validate.number(radius, "radius", owner, low=0.0, low_open=True)
    rng = _generator(seed, owner)
    x = rng.random((n_samples, 2), dtype=np.float32)
    d2 = np.square(x - np.float32(0.5)).sum(axis=1, keepdims=True)
    y = (d2 < np.float32(radius * radius)).astype(np.float32)
    return x, y


def make_moons(n_samples=100, noise=None, seed=None):
    """Two interleaving half circles, like scikit-learn's `make_moons`.

    Class 0 is the upper half of the unit circle centred at (0, 0); class 1 the lower half of the
    unit circle centred at (1, 0.5), so the two arcs interlock. Points are evenly spaced along each
    arc (class 0 gets `n_samples // 2` of them, class 1 the rest), Gaussian noise of standard
    deviation `noise` is added to both coordinates, and the rows are shuffled.

    Args:
        n_samples: int >= 2, total number of points.
        noise: None (no noise) or float >= 0, standard deviation of the Gaussian noise.
        seed: None or non-negative int (None draws from `kerasnp.random`).

    Returns:
        `(x, y)`: x float32 of shape `(n_samples, 2)`, y int64 labels of shape `(n_samples,)`
        in {0, 1}.

    Example:
        >>> x, y = make_moons(100, noise=0.1, seed=0)
        >>> x.shape, y.dtype, np.bincount(y).tolist()
        ((100, 2), dtype('int64'), [50, 50])
    """
    owner = "make_moons"
    n_samples = _validate.positive_int(n_samples, "n_samples", owner)
    if n_samples < 2:
        raise ValueError(f"{owner}: argument `n_samples` must be at least 2 (one point per "
                         f"moon). Received: n_samples={n_samples!r}")
    noise = 0.0 if noise is None else _validate.number(noise, "noise", owner, low=0.0)
    rng = _generator(seed, owner)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
                        np.stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    if noise:
        x += noise * rng.standard_normal(x.shape)
    perm = rng.permutation(n_samples)
    return x[perm].astype(np.float32), y[perm]
