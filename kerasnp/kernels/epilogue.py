"""The backward of a layer's bias + ReLU epilogue, as one Numba pass over rows of `(rows, c)`.

`relu_bias_backward` (activation.py) runs it over a whole activation; the threaded convolution
(conv_threads.py) runs it over each block of output rows, inside the block's backward, so that
the block's `dZ` is still in cache when its two products read it.
"""
from ._jit import jit


@jit
def _mask_and_sum(dy, y, relu, dz, acc):
    """dz = dy where y > 0 (every dy when not `relu`); acc[j] += Σᵢ dz[i, j] (acc is float64)."""
    n, c = dy.shape
    for i in range(n):
        for j in range(c):
            g = dy[i, j] if (not relu or y[i, j] > 0) else 0.0
            dz[i, j] = g
            acc[j] += g
