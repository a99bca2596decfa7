"""Random draws and random ops with Keras 3's names and signatures (`keras.random.*`).

Draws are constants for the gradient tape; `dropout` and `shuffle` act on a tensor and are
differentiable (one node each, the mask or permutation kept in the VJP's closure).
"""
import numbers

import numpy as np

from .. import _validate, config
from ..autodiff.tape import record, unwrap
from .seeding import generator_for


def _shape(shape, fn):
    given = shape
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(int(d) if isinstance(d, numbers.Integral) and not isinstance(d, bool)
                      and d >= 0 else None for d in shape)
    except TypeError:
        shape = (None,)
    if None in shape:
        raise ValueError(f"{fn}: argument `shape` must be a tuple of non-negative integers. "
                         f"Received: shape={given!r}")
    return shape


def _dtype(dtype, fn, kind="float", default=None):
    dt = np.dtype(default or config.floatx()) if dtype is None else np.dtype(dtype)
    ok = np.issubdtype(dt, np.floating) if kind == "float" else np.issubdtype(dt, np.integer)
    if not ok:
        valid = "float16, float32, float64" if kind == "float" else "int8 ... int64, uint8 ..."
        raise ValueError(f"{fn}: `dtype` must be a {kind} type ({valid}). "
                         f"Received: dtype={dtype!r}")
    return dt


def _draw_dtype(dt):
    """NumPy draws float32 and float64 natively; float16 is drawn as float32, then cast."""
    return dt if dt in (np.float32, np.float64) else np.dtype(np.float32)


def _arg(x):
    return np.asarray(unwrap(x))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of a normal distribution `N(mean, stddev²)`.

    Args:
        shape: the output shape. mean, stddev: floats (or arrays broadcasting to `shape`).
        dtype: float type; defaults to `kerasnp.config.floatx()`.
        seed: None, an int, or a `SeedGenerator` (see the package doc).
    """
    dt = _dtype(dtype, "normal")
    x = generator_for(seed, "normal").standard_normal(_shape(shape, "normal"),
                                                      dtype=_draw_dtype(dt))
    return (x * _arg(stddev) + _arg(mean)).astype(dt, copy=False)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of the uniform distribution on `[minval, maxval)` (float dtypes only)."""
    dt = _dtype(dtype, "uniform")
    x = generator_for(seed, "uniform").random(_shape(shape, "uniform"), dtype=_draw_dtype(dt))
    lo, hi = _arg(minval), _arg(maxval)
    return (x * (hi - lo) + lo).astype(dt, copy=False)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples with those beyond two standard deviations redrawn (as Keras does)."""
    dt = _dtype(dtype, "truncated_normal")
    gen = generator_for(seed, "truncated_normal")
    z = gen.standard_normal(_shape(shape, "truncated_normal"), dtype=_draw_dtype(dt))
    flat = z.reshape(-1)
    idx = np.flatnonzero(np.abs(flat) > 2.0)
    while idx.size:
        new = gen.standard_normal(idx.size, dtype=flat.dtype)
        flat[idx] = new
        idx = idx[np.abs(new) > 2.0]
    return (z * _arg(stddev) + _arg(mean)).astype(dt, copy=False)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Random integers, uniform on `[minval, maxval)`."""
    dt = _dtype(dtype, "randint", kind="int")
    if not np.all(_arg(minval) < _arg(maxval)):
        raise ValueError(f"randint: `minval` must be smaller than `maxval`. "
                         f"Received: minval={minval!r}, maxval={maxval!r}")
    return generator_for(seed, "randint").integers(_arg(minval), _arg(maxval),
                                                   size=_shape(shape, "randint"), dtype=dt)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Class indices drawn from the categorical distributions `softmax(logits)` of each row.

    Args:
        logits: `(batch, classes)` unnormalised log-probabilities (`-inf` means never).
        num_samples: positive int, draws per row.
    Returns:
        Integers of shape `(batch, num_samples)`.
    """
    z = _arg(logits)
    if z.ndim != 2:
        raise ValueError(f"categorical: `logits` must be 2-D (batch, classes). "
                         f"Received: logits.shape={z.shape}")
    n = _validate.positive_int(num_samples, "num_samples", "categorical")
    dt = _dtype(dtype, "categorical", kind="int")
    u = generator_for(seed, "categorical").random((z.shape[0], n, z.shape[1]))
    gumbel = -np.log(-np.log(np.maximum(u, np.finfo(np.float64).tiny)))
    # Gumbel-max: argmax(z + g) is distributed as softmax(z), -inf logits included.
    return np.argmax(z[:, None, :].astype(np.float64) + gumbel, axis=-1).astype(dt)


def gamma(shape, alpha, dtype=None, seed=None):
    """Samples of the gamma distribution with concentration `alpha` (scale 1)."""
    dt = _dtype(dtype, "gamma")
    return generator_for(seed, "gamma").standard_gamma(
        _arg(alpha), size=_shape(shape, "gamma")).astype(dt, copy=False)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Samples of the binomial distribution (as floats of `dtype`, as in Keras)."""
    dt = _dtype(dtype, "binomial")
    return generator_for(seed, "binomial").binomial(
        _arg(counts), _arg(probabilities), size=_shape(shape, "binomial")).astype(dt)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Samples of the beta distribution."""
    dt = _dtype(dtype, "beta")
    return generator_for(seed, "beta").beta(
        _arg(alpha), _arg(beta), size=_shape(shape, "beta")).astype(dt, copy=False)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zero each entry with probability `rate` and scale the others by `1 / (1 - rate)`.

    Differentiable: the VJP is `dy · mask / (1 - rate)` with the same mask.

    Args:
        inputs: array or tensor.
        rate: float in [0, 1).
        noise_shape: shape of the mask, broadcast over `inputs` (`None` entries take the
            inputs' size), e.g. `(batch, 1, features)` for the same mask at every step.
        seed: None, an int, or a `SeedGenerator`.
    """
    rate = _validate.rate(rate, "rate", "dropout")
    a = np.asarray(unwrap(inputs))
    if rate == 0.0:
        return inputs
    if noise_shape is None:
        ns = a.shape
    else:
        ns = tuple(a.shape[i] if d is None else d for i, d in enumerate(noise_shape))
        try:
            np.broadcast_shapes(ns, a.shape)
        except ValueError:
            raise ValueError(f"dropout: `noise_shape` {tuple(noise_shape)} does not broadcast to "
                             f"the inputs' shape {a.shape}. "
                             f"Received: noise_shape={noise_shape!r}") from None
    dt = a.dtype if a.dtype.kind == "f" else np.dtype(config.floatx())
    keep = 1.0 - rate
    u = generator_for(seed, "dropout").random(ns, dtype=_draw_dtype(dt))
    scale = (u < keep).astype(dt)
    scale *= dt.type(1.0 / keep)
    y = a * scale
    return record(y, lambda dy: dy * scale, inputs)      # dX = dY ⊙ mask / keep


def shuffle(x, axis=0, seed=None):
    """`x` with its entries along `axis` randomly permuted (differentiable: the gradient is
    permuted back)."""
    a = np.asarray(unwrap(x))
    if a.ndim == 0:
        raise ValueError(f"shuffle: `x` must have at least one axis. Received: x.shape={a.shape}")
    ax = int(axis) % a.ndim
    perm = generator_for(seed, "shuffle").permutation(a.shape[ax])
    inverse = np.argsort(perm)
    y = np.take(a, perm, axis=ax)
    return record(y, lambda dy: np.take(dy, inverse, axis=ax), x)    # dX = P⁻¹·dY
