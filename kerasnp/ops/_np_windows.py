"""Signal windows (Keras 3 names): `x` is the window length; the values are NumPy's, computed
in float64 and returned in floatx. No gradient (they are constants)."""
import numpy as np

from ._dispatch import op, value
from ._helpers import floatx


def _length(name, x):
    n = value(x)
    if np.ndim(n) != 0 or np.result_type(n).kind not in "iu":
        raise TypeError(f"{name}: the window length x must be an integer. Received: x={n!r}")
    return int(n)


def _window(fn, name, doc):
    def f(x):
        return fn(_length(name, x)).astype(floatx())
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return op(f, name=name)


bartlett = _window(np.bartlett, "bartlett", "The triangular (Bartlett) window of length `x`.")
blackman = _window(np.blackman, "blackman", "The Blackman window of length `x`.")
hamming = _window(np.hamming, "hamming", "The Hamming window of length `x`.")
hanning = _window(np.hanning, "hanning", "The Hann window of length `x`.")


@op
def kaiser(x, beta):
    """The Kaiser window of length `x` with shape parameter `beta`.

    Example:
        >>> ops.kaiser(3, 2.0).round(4)
        array([0.4387, 1.    , 0.4387], dtype=float32)
    """
    return np.kaiser(_length("kaiser", x), float(value(beta))).astype(floatx())


__all__ = ["bartlett", "blackman", "hamming", "hanning", "kaiser"]
