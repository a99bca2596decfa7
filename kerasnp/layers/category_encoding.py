"""CategoryEncoding, and the one-hot / multi-hot / count encoding shared by the hashing layers and
Discretization (Keras's rank rules: "one_hot" encodes each value, dropping a trailing axis of
size 1; "multi_hot" and "count" encode each row, the last axis being the row's values)."""
import numpy as np

from .. import _validate, config
from ..autodiff.tape import unwrap
from .base import Layer, register
from .lookup_encode import refuse_sparse

ENCODINGS = ("one_hot", "multi_hot", "count")


def integer_values(layer, inputs, what="integer values"):
    """The input as an int64 array; floats holding whole numbers are accepted (model inputs are
    float by default), anything else is a clear error."""
    a = np.asarray(unwrap(inputs))
    if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(np.mod(a, 1) == 0):
        a = a.astype(np.int64)
    if a.dtype.kind not in "iub":
        raise TypeError(f"{_validate.describe(layer)} expects {what}. Received: input with "
                        f"dtype {a.dtype}")
    return a.astype(np.int64, copy=False)


def encode_categorical(layer, idx, depth, output_mode, dtype, count_weights=None):
    """Encode the int array `idx` (values in `[0, depth)`) as Keras's `output_mode` does."""
    if output_mode == "int":
        return idx
    if idx.ndim == 0:
        idx = idx.reshape(1)
    if output_mode == "one_hot":
        if idx.ndim > 1 and idx.shape[-1] == 1:
            idx = idx[..., 0]
        out = np.zeros(idx.shape + (depth,), dtype=dtype)
        np.put_along_axis(out, idx[..., None], 1, axis=-1)
        return out
    if idx.ndim > 2:
        raise ValueError(f"{_validate.describe(layer)}: output_mode={output_mode!r} takes "
                         "inputs of rank 1 or 2 (one sample, or a batch of rows). Received: "
                         f"input of shape {idx.shape}")
    rows = idx.reshape(-1, idx.shape[-1])
    n = rows.shape[0]
    cells = (np.arange(n)[:, None] * depth + rows).reshape(-1)
    if output_mode == "multi_hot":
        out = np.zeros(n * depth, dtype=dtype)
        out[cells] = 1
    else:
        weights = None if count_weights is None else np.asarray(
            unwrap(count_weights), dtype=np.float64).reshape(-1)
        out = np.bincount(cells, weights=weights, minlength=n * depth).astype(dtype)
    out = out.reshape(n, depth)
    return out[0] if idx.ndim == 1 else out


def encoded_shape(input_shape, depth, output_mode):
    """Output shape of `encode_categorical` for `input_shape`."""
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return input_shape[:-1] + (depth,)
        return input_shape + (depth,)
    return input_shape[:-1] + (depth,)


@register
class CategoryEncoding(Layer):
    """Encodes integer category ids in `[0, num_tokens)` as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: positive int, the number of categories (the encoding's length).
        output_mode: "multi_hot" (default; 1 for each id present in a row), "one_hot" (one
            vector per id) or "count" (occurrences per row; `count_weights` weighs them).
        sparse: must be False (kerasnp returns dense arrays).

    Call arguments:
        inputs: int ids, shape `(batch,)` or `(batch, ids)` (whole-number floats accepted).
        count_weights: optional weights of the same shape as `inputs` ("count" mode only).

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> keras.layers.CategoryEncoding(4)(np.array([[0, 1], [3, 3]])).tolist()
        [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if num_tokens is None:
            raise ValueError(f"{_validate.describe(self)}: `num_tokens` must be set (a "
                             "positive int). Received: num_tokens=None")
        self.num_tokens = _validate.positive_int(num_tokens, "num_tokens", self)
        self.output_mode = _validate.choice(output_mode, "output_mode", ENCODINGS, self)
        refuse_sparse(self, sparse)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.num_tokens, self.output_mode)

    def call(self, inputs, count_weights=None):
        idx = integer_values(self, inputs, "integer category ids")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_tokens):
            raise ValueError(f"{_validate.describe(self)}: input values must be in "
                             f"[0, num_tokens={self.num_tokens}). Received values from "
                             f"{idx.min()} to {idx.max()}")
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(f"{_validate.describe(self)}: `count_weights` applies only to "
                                 f"output_mode='count'. Received: output_mode="
                                 f"{self.output_mode!r}")
            if np.shape(unwrap(count_weights)) != idx.shape:
                raise ValueError(f"{_validate.describe(self)}: count_weights must have the "
                                 f"input's shape {idx.shape}. Received: shape "
                                 f"{np.shape(unwrap(count_weights))}")
        return encode_categorical(self, idx, self.num_tokens, self.output_mode,
                                  self.dtype or config.floatx(), count_weights)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(num_tokens=self.num_tokens, output_mode=self.output_mode)
        return cfg
