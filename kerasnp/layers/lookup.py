"""StringLookup and IntegerLookup: map tokens to vocabulary indices (or back, with `invert`)."""
import numbers

import numpy as np

from .. import _validate
from ..autodiff.tape import unwrap
from .base import register
from .lookup_base import IndexLookup
from .lookup_hash import hash_buckets


def as_string_array(layer, inputs, encoding="utf-8"):
    """Inputs of strings (a list, a str/bytes/object array) as `(flat list of str, shape)`."""
    arr = inputs if isinstance(inputs, np.ndarray) else np.asarray(unwrap(inputs), dtype=object)
    if arr.dtype.kind not in "OUS":
        raise TypeError(f"{_validate.describe(layer)} expects strings (a list or an array of "
                        f"dtype str or object). Received: input with dtype {arr.dtype}")
    flat = arr.reshape(-1).tolist()
    if arr.dtype.kind != "U":
        for i, t in enumerate(flat):
            if type(t) is not str:
                if isinstance(t, (bytes, np.bytes_)):
                    flat[i] = bytes(t).decode(encoding)
                elif isinstance(t, str):
                    flat[i] = str(t)
                else:
                    raise TypeError(f"{_validate.describe(layer)} expects strings; element {i} "
                                    f"is {type(t).__name__}. Received: {t!r}")
    return flat, arr.shape


@register
class StringLookup(IndexLookup):
    """Maps strings to integer indices through a vocabulary (Keras 3's StringLookup).

    The vocabulary is given (`vocabulary=`) or learned with `adapt()`: the most frequent strings,
    ties broken by the string itself (high to low). In "int" mode the mask token (if set) is
    index 0, the `num_oov_indices` out-of-vocabulary (OOV) indices come next, then the
    vocabulary. Several OOV indices are chosen by FarmHash Fingerprint64, as Keras does.

    Args:
        max_tokens: maximum vocabulary size, special tokens included (None: unlimited).
        num_oov_indices: OOV indices (default 1; 0 makes an OOV input an error).
        mask_token: the token of index 0 in "int" mode (dropped in the other modes); None.
        oov_token: what `invert=True` returns for OOV indices. Defaults to "[UNK]".
        vocabulary: list or 1-D array of strings (optional).
        idf_weights: one per vocabulary entry, for output_mode="tf_idf" with a vocabulary.
        invert: map indices back to strings ("int" mode only).
        output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
        pad_to_max_tokens: encode to `max_tokens` columns even if the vocabulary is smaller.
        sparse: must be False (kerasnp returns dense arrays).
        encoding: how bytes inputs are decoded. Defaults to "utf-8".

    Input shape: strings of any shape ("int"); `(batch,)` or `(batch, tokens)` otherwise.
    Output shape: int64 indices of the input's shape; float `(batch, depth)` encodings.

    Example:
        >>> import kerasnp as keras
        >>> layer = keras.layers.StringLookup(vocabulary=["a", "b", "c", "d"])
        >>> layer([["a", "c", "d"], ["d", "z", "b"]]).tolist()
        [[1, 3, 4], [4, 0, 2]]
    """

    _kind = "string"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", **kwargs):
        if not isinstance(encoding, str) or not _codec_ok(encoding):
            raise ValueError(f"StringLookup: `encoding` must be a text codec name such as "
                             f"'utf-8'. Received: encoding={encoding!r}")
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, **kwargs)

    def _token(self, value, arg):
        if isinstance(value, (bytes, np.bytes_)):
            return bytes(value).decode(self.encoding)
        if not isinstance(value, str):
            raise TypeError(f"{_validate.describe(self)}: `{arg}` must hold strings. "
                            f"Received: {arg} element {value!r}")
        return str(value)

    def _keys(self, inputs):
        return as_string_array(self, inputs, self.encoding)

    def _hash_oov(self, tokens):
        return np.asarray(hash_buckets(tokens, self.num_oov_indices, self.encoding), np.int64)

    def _inverted(self, tokens, shape):
        out = np.empty(len(tokens), dtype=object)
        out[:] = tokens
        return out.reshape(shape)

    def get_config(self):
        cfg = super().get_config()
        cfg["encoding"] = self.encoding
        return cfg


@register
class IntegerLookup(IndexLookup):
    """Maps integers to contiguous vocabulary indices (Keras 3's IntegerLookup).

    Same layout and options as `StringLookup`, with integer tokens: `oov_token` defaults to -1,
    and several OOV indices are chosen by `token % num_oov_indices` (Keras's "floormod").
    Float inputs holding whole numbers (what a model's input casting makes) are accepted.

    Args:
        max_tokens, num_oov_indices, vocabulary: as in `StringLookup` (as are idf_weights,
            invert, output_mode, pad_to_max_tokens and sparse).
        mask_token: the integer of index 0 in "int" mode (e.g. 0); None.
        oov_token: what `invert=True` returns for OOV indices. Defaults to -1.
        vocabulary_dtype: "int64" (the only one Keras supports).

    Input shape: integers of any shape ("int"); `(batch,)` or `(batch, tokens)` otherwise.
    Output shape: int64 indices of the input's shape; float `(batch, depth)` encodings.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
        >>> layer(np.array([[12, 1138, 42], [42, 1000, 36]])).tolist()
        [[1, 3, 4], [4, 0, 2]]
    """

    _kind = "int"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError("IntegerLookup: only vocabulary_dtype='int64' is supported. "
                             f"Received: vocabulary_dtype={vocabulary_dtype!r}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, **kwargs)

    def _token(self, value, arg):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{_validate.describe(self)}: `{arg}` must hold integers. "
                            f"Received: {arg} element {value!r}")
        return int(value)

    def _keys(self, inputs):
        arr = np.asarray(unwrap(inputs))
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{_validate.describe(self)} expects integers. Received: input "
                            f"with dtype {arr.dtype}")
        return arr.reshape(-1).tolist(), arr.shape

    def _hash_oov(self, tokens):
        return np.mod(np.asarray(tokens, dtype=np.int64), self.num_oov_indices)

    def _inverted(self, tokens, shape):
        return np.asarray(tokens, dtype=np.int64).reshape(shape)

    def get_config(self):
        cfg = super().get_config()
        cfg["vocabulary_dtype"] = "int64"
        return cfg


def _codec_ok(name):
    import codecs
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True
