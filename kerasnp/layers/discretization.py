"""Discretization: bucket continuous values by boundaries, given or learned by `adapt()`."""
import numpy as np

from .. import _validate, config
from ..autodiff.tape import unwrap
from .base import Layer, register
from .category_encoding import encode_categorical, encoded_shape
from .lookup_encode import adapt_batches, refuse_sparse


@register
class Discretization(Layer):
    """Maps each value to the index of its bucket: `i` such that `b[i-1] <= x < b[i]`.

    Args:
        bin_boundaries: sorted list of floats (`len + 1` buckets), or None to learn them with
            `adapt()`.
        num_bins: int, the number of buckets `adapt()` learns (exclusive with bin_boundaries).
        epsilon: float, the accuracy of the learned quantiles: the data summary `adapt()`
            keeps is compressed to about `1 / epsilon` points once larger than that
            (boundaries then agree with the exact quantiles to within about `epsilon` in rank).
        output_mode: "int" (bucket ids, int64), "one_hot", "multi_hot" or "count".
        sparse: must be False (kerasnp returns dense arrays).

    `adapt(data)` places boundaries at the `i / num_bins` quantiles of the data, interpolating
    the empirical distribution function (value `k` of `n` sorted values sits at `(k + 1) / n`),
    as Keras does: `num_bins=5` on `0, 1, ..., 9` gives `[1, 3, 5, 7]`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Discretization([0.0, 1.0])(np.array([-1.0, 0.5, 2.0])).tolist()
        [0, 1, 2]
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, name=None, **kwargs):
        super().__init__(dtype=dtype, name=name, **kwargs)
        if bin_boundaries is None and num_bins is None:
            raise ValueError(f"{_validate.describe(self)}: set either `num_bins` (and call "
                             "adapt()) or `bin_boundaries`. Received neither.")
        if bin_boundaries is not None and num_bins is not None:
            raise ValueError(f"{_validate.describe(self)}: set only one of `num_bins` and "
                             f"`bin_boundaries`. Received: num_bins={num_bins}, "
                             f"bin_boundaries={bin_boundaries}")
        if bin_boundaries is not None:
            b = [float(v) for v in np.asarray(unwrap(bin_boundaries)).reshape(-1)]
            if any(x > y for x, y in zip(b, b[1:])):
                raise ValueError(f"{_validate.describe(self)}: bin_boundaries must be sorted. "
                                 f"Received: bin_boundaries={bin_boundaries}")
            bin_boundaries = b
        self.bin_boundaries = bin_boundaries
        self.num_bins = (None if num_bins is None else
                         _validate.positive_int(num_bins, "num_bins", self))
        self.epsilon = _validate.number(epsilon, "epsilon", self, low=0.0, low_open=True)
        self.output_mode = _validate.choice(output_mode, "output_mode",
                                            ("int", "one_hot", "multi_hot", "count"), self)
        refuse_sparse(self, sparse)
        self.reset_state()

    # -- adapt ----------------------------------------------------------------------------
    def reset_state(self):
        """Forget the data seen by `update_state` (not the boundaries)."""
        self._sum_v = np.zeros(0)
        self._sum_w = np.zeros(0)

    def update_state(self, data):
        """Add one batch of values to the summary."""
        a = np.asarray(unwrap(data), dtype=np.float64).reshape(-1)
        values = np.concatenate([self._sum_v, np.sort(a)])
        weights = np.concatenate([self._sum_w, np.ones(a.size)])
        order = np.argsort(values, kind="stable")
        self._sum_v, self._sum_w = values[order], weights[order]
        points = int(np.ceil(1.0 / self.epsilon))
        if self._sum_v.size > 2 * points:
            self._compress(points)

    def _compress(self, points):
        """Keep `points` values evenly spaced in cumulative weight, sharing the total weight."""
        cum = np.cumsum(self._sum_w)
        total = cum[-1]
        targets = np.linspace(total / points, total, points)
        self._sum_v = np.interp(targets, cum, self._sum_v)
        self._sum_w = np.full(points, total / points)

    def finalize_state(self):
        """Turn the summary into `num_bins - 1` boundaries (nothing when they were given)."""
        if self.num_bins is None or self._sum_v.size == 0:
            return
        cum = np.cumsum(self._sum_w)
        q = np.arange(1, self.num_bins) / self.num_bins
        self.bin_boundaries = np.interp(q * cum[-1], cum, self._sum_v).tolist()

    def adapt(self, data, steps=None, batch_size=None):
        """Learn `num_bins - 1` boundaries at the quantiles of `data` (an array, or a dataset /
        iterable of batches; `steps` batches at most)."""
        if self.num_bins is None:
            raise ValueError(f"Cannot adapt {_validate.describe(self)}: it was given "
                             "bin_boundaries; create it with num_bins to learn them.")
        self.reset_state()
        for batch in adapt_batches(self, data, batch_size, steps):
            self.update_state(batch)
        self.finalize_state()

    # -- call -----------------------------------------------------------------------------
    def _depth(self):
        if self.bin_boundaries is None:
            raise RuntimeError(f"{_validate.describe(self)} has no bin boundaries yet: call "
                               "adapt() first (or pass bin_boundaries).")
        return len(self.bin_boundaries) + 1

    def compute_output_shape(self, input_shape):
        depth = self.num_bins if self.bin_boundaries is None else self._depth()
        return encoded_shape(input_shape, depth, self.output_mode)

    def call(self, inputs):
        depth = self._depth()
        a = np.asarray(unwrap(inputs))
        if a.dtype.kind not in "iufb":
            raise TypeError(f"{_validate.describe(self)} expects numbers. Received: input "
                            f"with dtype {a.dtype}")
        idx = np.searchsorted(np.asarray(self.bin_boundaries, dtype=np.float64),
                              a.astype(np.float64), side="right").astype(np.int64)
        return encode_categorical(self, idx, depth, self.output_mode,
                                  self.dtype or config.floatx())

    def get_config(self):
        cfg = super().get_config()
        cfg.update(bin_boundaries=self.bin_boundaries, num_bins=self.num_bins,
                   epsilon=self.epsilon, output_mode=self.output_mode, sparse=False)
        return cfg

    @classmethod
    def from_config(cls, config):
        # An adapted layer's config holds both (as Keras's does): rebuild it adaptable, with
        # the learned boundaries.
        config = dict(config)
        learned = config.pop("bin_boundaries") if config.get("num_bins") is not None else None
        layer = cls(**config)
        if learned is not None:
            layer.bin_boundaries = [float(b) for b in learned]
        return layer
