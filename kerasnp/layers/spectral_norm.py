"""SpectralNormalization: keeps the spectral norm of a wrapped layer's kernel at 1."""
import numpy as np

from .. import _validate, initializers
from .base import register
from .wrappers import Wrapper


def _unit(v):
    return v / max(float(np.sqrt(np.sum(v * v))), 1e-12)


@register
class SpectralNormalization(Wrapper):
    """Divides the wrapped layer's kernel by its largest singular value in training.

    As in Keras, each training call runs `power_iterations` steps of the power method from the
    stored vector `u` (non-trainable, shape `(1, kernel.shape[-1])`), estimates `σ = v·W·uᵀ` of
    the kernel viewed as a matrix `W` of `kernel.shape[-1]` columns, and then ASSIGNS `kernel/σ`
    to the kernel before calling the layer: the gradient step then applies to the normalized
    kernel. In inference the layer runs with its kernel as it is. A kernel of zeros is left as
    it is.

    Args:
        layer: a built or unbuilt layer with a `kernel` (Dense, Conv*) or `embeddings`
            (Embedding) weight.
        power_iterations: positive int, power-method steps per training call.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.SpectralNormalization(keras.layers.Dense(3))
        >>> _ = layer(np.ones((2, 4)), training=True)
        >>> bool(np.linalg.norm(layer.layer.kernel.numpy(), 2) < 1.1)
        True
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        self.power_iterations = _validate.positive_int(power_iterations, "power_iterations",
                                                       self)

    def build(self, input_shape=None):
        super().build(input_shape)
        kernel = getattr(self.layer, "kernel", None)
        if kernel is None:
            kernel = getattr(self.layer, "embeddings", None)
        if kernel is None:
            raise ValueError(f"{_validate.describe(self)}: the wrapped layer "
                             f"{type(self.layer).__name__} has no `kernel` nor `embeddings` "
                             "weight to normalize.")
        self.kernel = kernel
        self.vector_u = self.add_weight(shape=(1, kernel.shape[-1]),
                                        initializer=initializers.TruncatedNormal(stddev=0.02),
                                        trainable=False, name="vector_u",
                                        dtype=kernel.value.dtype)
        self.built = True

    def normalized_weights(self):
        """`(u, kernel / σ)`: the power method's new `u` and the normalized kernel (arrays)."""
        k = self.kernel.numpy()
        w = k.reshape(-1, k.shape[-1])
        u = self.vector_u.numpy()
        for _ in range(self.power_iterations):
            v = _unit(u @ w.T)                     # v ∝ u·Wᵀ
            u = _unit(v @ w)                       # u ∝ v·W
        sigma = (v @ w @ u.T).item()               # σ ≈ largest singular value
        return u.astype(self.vector_u.value.dtype), (k / sigma).astype(k.dtype)

    def call(self, inputs, training=None):
        if training and np.any(self.kernel.value != 0):
            u, kernel = self.normalized_weights()
            self.vector_u.assign(u)
            self.kernel.assign(kernel)
        return self.layer(inputs, training=training)

    def get_config(self):
        cfg = super().get_config()
        cfg["power_iterations"] = self.power_iterations
        return cfg
