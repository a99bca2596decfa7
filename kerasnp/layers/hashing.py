"""Hashing and HashedCrossing: the hashing trick with Keras's (TensorFlow's) exact hashes.

- `Hashing` without a salt: FarmHash Fingerprint64 of each string (integers are hashed as their
  decimal text, as `tf.strings.as_string` writes them), modulo the bins; with a `salt`:
  SipHash-2-4 keyed by the salt's two 64-bit halves.
- `HashedCrossing`: TensorFlow's feature cross: starting from the key `0xDECAFCAFFE`, each
  feature's hash (Fingerprint64 of a string, the value itself of an integer) is chained with
  FingerprintCat64, modulo the bins.

So a value lands in the same bin as in Keras (checked against the values in Keras's docs).
"""
import numbers

import numpy as np

from .. import _validate, config
from ..autodiff.tape import unwrap
from ._hash_extra import CROSS_HASH_KEY, fingerprint_cat64, siphash24
from .base import Layer, register
from .category_encoding import encode_categorical, encoded_shape, integer_values
from .lookup_encode import refuse_sparse
from .lookup_hash import fingerprint64

_M = (1 << 64) - 1


def _as_bytes(v):
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    return str(int(v)).encode("ascii")        # integers: their decimal text


def _keys(layer, inputs):
    """A flat list of hashable items (str/bytes, or ints) and the input's shape."""
    a = np.asarray(unwrap(inputs))
    if a.dtype.kind in "USO":
        flat = a.reshape(-1).tolist()
        bad = [v for v in flat[:1000] if not isinstance(v, (str, bytes, numbers.Integral))]
        if bad:
            raise TypeError(f"{_validate.describe(layer)} expects strings or integers. "
                            f"Received: element {bad[0]!r} of type {type(bad[0]).__name__}")
        return flat, a.shape
    return integer_values(layer, a, "strings or integers").reshape(-1).tolist(), a.shape


@register
class Hashing(Layer):
    """Hashes strings or integers into `num_bins` bins (the hashing trick).

    Args:
        num_bins: positive int, the number of bins, including the mask bin if any.
        mask_value: optional value mapped to bin 0; the others then hash into bins
            `1 .. num_bins - 1`.
        salt: None (FarmHash64), an int, or a pair of ints: key of a SipHash-2-4 hash instead
            (an int `s` is the key `(s, s)`).
        output_mode: "int" (bin ids, int64), "one_hot", "multi_hot" or "count".
        sparse: must be False (kerasnp returns dense arrays).

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.Hashing(num_bins=3)(np.array([["A"], ["B"], ["C"]])).ravel().tolist()
        [1, 0, 1]
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.num_bins = _validate.positive_int(num_bins, "num_bins", self)
        if mask_value is not None and self.num_bins < 2:
            raise ValueError(f"{_validate.describe(self)}: with a mask_value, num_bins must be "
                             f"at least 2 (bin 0 is the mask). Received: num_bins={num_bins}")
        self.mask_value = mask_value
        if salt is not None:
            pair = [salt, salt] if isinstance(salt, numbers.Integral) else salt
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2 or any(
                    isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0
                    for s in pair)):
                raise ValueError(f"{_validate.describe(self)}: salt must be a non-negative int "
                                 f"or a pair of them. Received: salt={salt!r}")
            salt = [int(s) & _M for s in pair]
        self.salt = salt
        self.output_mode = _validate.choice(output_mode, "output_mode",
                                            ("int", "one_hot", "multi_hot", "count"), self)
        refuse_sparse(self, sparse)

    def _hash(self, v):
        data = _as_bytes(v)
        if self.salt is not None:
            return siphash24(self.salt[0], self.salt[1], data)
        return fingerprint64(data)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.num_bins, self.output_mode)

    def call(self, inputs):
        keys, shape = _keys(self, inputs)
        mask = self.mask_value
        bins = self.num_bins - (mask is not None)
        offset = int(mask is not None)
        if mask is not None and not isinstance(mask, (str, bytes)):
            mask = int(mask)
        idx = np.fromiter((0 if mask is not None and k == mask else self._hash(k) % bins + offset
                           for k in keys), dtype=np.int64, count=len(keys)).reshape(shape)
        return encode_categorical(self, idx, self.num_bins, self.output_mode,
                                  self.dtype if self.dtype not in (None, "string")
                                  else config.floatx())

    def get_config(self):
        cfg = super().get_config()
        cfg.update(num_bins=self.num_bins, salt=self.salt, mask_value=self.mask_value,
                   output_mode=self.output_mode, sparse=False)
        return cfg


@register
class HashedCrossing(Layer):
    """Crosses categorical features with the hashing trick: `hash((f1, f2, ...)) % num_bins`.

    Call it on a list or tuple of at least two features of the same shape: `(batch,)`,
    `(batch, 1)` or `()`, holding strings or integers.

    Args:
        num_bins: positive int, the number of bins.
        output_mode: "int" (bin ids, int64) or "one_hot".
        sparse: must be False (kerasnp returns dense arrays).

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.HashedCrossing(num_bins=5)
        >>> layer((np.array(["A", "B", "A"]), np.array([101, 101, 102]))).tolist()
        [1, 4, 3]
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, **kwargs):
        super().__init__(**kwargs)
        self.num_bins = _validate.positive_int(num_bins, "num_bins", self)
        self.output_mode = _validate.choice(output_mode, "output_mode", ("int", "one_hot"),
                                            self)
        refuse_sparse(self, sparse)

    def _check(self, shapes):
        if not isinstance(shapes, (list, tuple)) or len(shapes) < 2:
            raise ValueError(f"{_validate.describe(self)} must be called on a list or tuple of "
                             "at least 2 features. Received: a single input")
        shapes = [tuple(s) for s in shapes]
        ok = all(len(s) == 0 or len(s) == 1 or (len(s) == 2 and s[1] == 1) for s in shapes)
        if not ok or len({s[:1] for s in shapes}) > 1 or len({len(s) for s in shapes}) > 1:
            raise ValueError(f"{_validate.describe(self)}: the features must share one shape, "
                             f"(batch,), (batch, 1) or (). Received shapes {shapes}")
        return shapes[0]

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return encoded_shape(self._check(input_shape), self.num_bins, self.output_mode)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            self._check(None)
        cols = [_keys(self, x) for x in inputs]
        shape = self._check([s for _, s in cols])

        def feature(v):
            return fingerprint64(_as_bytes(v)) if isinstance(v, (str, bytes)) else int(v) & _M

        out = []
        for row in zip(*(c for c, _ in cols)):
            h = CROSS_HASH_KEY
            for v in row:
                h = fingerprint_cat64(h, feature(v))
            out.append(h % self.num_bins)
        idx = np.asarray(out, dtype=np.int64).reshape(shape)
        return encode_categorical(self, idx, self.num_bins, self.output_mode,
                                  self.dtype if self.dtype not in (None, "string")
                                  else config.floatx())

    def get_config(self):
        cfg = super().get_config()
        cfg.update(num_bins=self.num_bins, output_mode=self.output_mode, sparse=False)
        return cfg
