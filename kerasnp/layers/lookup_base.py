"""`IndexLookup`: the vocabulary machinery shared by StringLookup, IntegerLookup and
TextVectorization (Keras's private base class of the same name).

A vocabulary is laid out as Keras lays it out: in `"int"` output mode the mask token (when set)
takes index 0, then come `num_oov_indices` out-of-vocabulary (OOV) slots, then the tokens; in the
other modes the mask token has no slot (masked inputs are dropped) and the OOV slots come first.
`adapt()` counts tokens and keeps the most frequent ones, ties broken by the token itself, high to
low (Keras's `np.lexsort((tokens, counts))[::-1]`).

Lookups run on NumPy: a dict maps tokens to indices, `np.bincount` makes the multi-hot, count and
TF-IDF encodings. The layers have no weights and no gradient: their outputs are indices or counts.
The vocabulary (and the IDF weights) are saved in `get_config`, so a saved model reloads with it.
"""
import collections
import itertools
import numbers

import numpy as np

from .. import _validate, config
from ..autodiff.tape import unwrap
from .base import Layer
from .lookup_adapt import AdaptMixin
from .lookup_encode import encode_rows, refuse_sparse

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}
_MASKED = -2          # index of a masked input outside "int" mode: dropped by the encoders
_MISSING = -1         # lookup result of an OOV token before the OOV slots are assigned


class IndexLookup(AdaptMixin, Layer):
    """Maps tokens to indices through a vocabulary (base class; use StringLookup/IntegerLookup).

    Subclasses set `_kind` ("string" or "int") and implement `_keys(inputs)` (flat list of
    tokens and the input shape), `_hash_oov(tokens)` (bucket of each OOV token) and
    `_inverted(tokens, shape)` (the array an inverse lookup returns).
    """

    _kind = None

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=None,
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, has_input_vocabulary=None, **kwargs):
        kwargs.pop("vocabulary_size", None)      # Keras saves it; the vocabulary says it here
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(**kwargs)
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(
                max_tokens, numbers.Integral) or max_tokens <= 1):
            raise ValueError(f"{_validate.describe(self)}: if set, `max_tokens` must be an "
                             f"integer greater than 1. Received: max_tokens={max_tokens!r}")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = _validate.non_negative_int(num_oov_indices, "num_oov_indices",
                                                          self)
        output_mode = _ALIASES.get(output_mode, output_mode)
        self.output_mode = _validate.choice(output_mode, "output_mode", OUTPUT_MODES, self)
        self.invert = _validate.boolean(invert, "invert", self)
        self.pad_to_max_tokens = _validate.boolean(pad_to_max_tokens, "pad_to_max_tokens", self)
        refuse_sparse(self, sparse)
        self.sparse = False
        if self.pad_to_max_tokens and self.max_tokens is None:
            raise ValueError(f"{_validate.describe(self)}: `pad_to_max_tokens=True` needs "
                             "`max_tokens`. Received: max_tokens=None")
        if self.invert and self.output_mode != "int":
            raise ValueError(f"{_validate.describe(self)}: `invert=True` needs "
                             f"output_mode='int'. Received: output_mode={self.output_mode!r}")
        if idf_weights is not None and self.output_mode != "tf_idf":
            raise ValueError(f"{_validate.describe(self)}: `idf_weights` apply only to "
                             f"output_mode='tf_idf'. Received: output_mode={self.output_mode!r}")
        self.mask_token = None if mask_token is None else self._token(mask_token, "mask_token")
        self.oov_token = None if oov_token is None else self._token(oov_token, "oov_token")
        self._tokens, self._idf = None, None
        self._set_tokens(None)
        self._has_input_vocabulary = (vocabulary is not None if has_input_vocabulary is None
                                      else _validate.boolean(has_input_vocabulary,
                                                             "has_input_vocabulary", self))
        if self.output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(f"{_validate.describe(self)}: with a `vocabulary` in "
                             "output_mode='tf_idf', `idf_weights` must be given too.")
        self.reset_state()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # -- vocabulary layout ----------------------------------------------------------------
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """Size of the vocabulary, the mask and OOV slots included."""
        return self._token_start_index() + len(self._tokens or ())

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary as a list: `vocab[i]` is the token of index `i` (the mask token, then
        `oov_token` for each OOV slot, then the tokens); without the special tokens when
        `include_special_tokens=False`."""
        special = [self.mask_token] * self._oov_start_index() + \
            [self.oov_token] * self.num_oov_indices
        tokens = list(self._tokens or ())
        return special + tokens if include_special_tokens else tokens

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (and, in "tf_idf" mode, the IDF weights), replacing any.

        Args:
            vocabulary: a list, tuple or 1-D array of distinct tokens. It may start with the
                special tokens exactly as `get_vocabulary()` lists them; otherwise they are added.
            idf_weights: one weight per entry of `vocabulary`; needed in "tf_idf" mode only. When
                the vocabulary has no special tokens, their weight is the mean of the others.
        """
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{_validate.describe(self)}: output_mode='tf_idf' needs "
                             "`idf_weights` with the vocabulary. Received: idf_weights=None")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{_validate.describe(self)}: `idf_weights` apply only to "
                             f"output_mode='tf_idf'. Received: output_mode={self.output_mode!r}")
        if isinstance(vocabulary, str):
            raise ValueError(f"{_validate.describe(self)}: a vocabulary file path is not "
                             "supported (kerasnp reads no files a config names); pass the list "
                             f"of tokens. Received: vocabulary={vocabulary!r}")
        vocab = [self._token(t, "vocabulary") for t in np.asarray(
            unwrap(vocabulary), dtype=object).reshape(-1).tolist()]
        if not vocab:
            raise ValueError(f"{_validate.describe(self)}: cannot set an empty vocabulary. "
                             f"Received: vocabulary={vocabulary!r}")
        start = self._token_start_index()
        special = self.get_vocabulary()[:start]
        found = vocab[:start] == special
        tokens = vocab[start:] if found else vocab
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(f"{_validate.describe(self)}: the vocabulary repeats tokens "
                             f"{repeated[:10]}; each token may appear once.")
        for token, what in ((self.mask_token, "mask_token"),
                            (self.oov_token if self.invert else None, "oov_token")):
            if token is not None and token in tokens:
                raise ValueError(f"{_validate.describe(self)}: the reserved {what} {token!r} is "
                                 "inside the vocabulary. Leave the special tokens out, or put "
                                 f"them first in exactly this order: {special}.")
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError(f"{_validate.describe(self)}: the vocabulary has "
                             f"{start + len(tokens)} entries (special tokens included), more "
                             f"than max_tokens={self.max_tokens}.")
        if idf_weights is not None:
            idf = np.asarray(unwrap(idf_weights), dtype=np.float64)
            if idf.ndim != 1 or len(idf) != len(vocab) or not np.all(np.isfinite(idf)):
                raise ValueError(f"{_validate.describe(self)}: `idf_weights` must be a 1-D list "
                                 f"of finite numbers, one per vocabulary entry ({len(vocab)}). "
                                 f"Received: shape {idf.shape}")
            front = 0 if found else start
            self._idf = np.concatenate([np.full(front, idf.mean() if len(idf) else 0.0), idf])
        self._set_tokens(tokens)

    def _set_tokens(self, tokens):
        """Store the tokens and the lookup table: token -> index, the mask token -> 0 (dropped
        outside "int" mode); other keys get `_default`, the OOV index (or `_MISSING`)."""
        self._tokens = None if tokens is None else list(tokens)
        start = self._token_start_index()
        self._default = self._oov_start_index() if self.num_oov_indices == 1 else _MISSING
        table = {t: start + i for i, t in enumerate(self._tokens or ())}
        if self.mask_token is not None:
            table[self.mask_token] = 0 if self.output_mode == "int" else _MASKED
        self._table, self._inverse = table, None

    # -- call -----------------------------------------------------------------------------
    def _depth(self):
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self._tokens is None:
            raise RuntimeError(f"{_validate.describe(self)}: output_mode={self.output_mode!r} "
                               "needs the vocabulary before the layer is called: pass "
                               "`vocabulary=` or call adapt() first.")
        return self.vocabulary_size()

    def lookup(self, keys):
        """Indices (int64, flat) of a flat list of tokens: mask, OOV slots and errors as Keras."""
        idx = np.fromiter(map(self._table.get, keys, itertools.repeat(self._default)),
                          dtype=np.int64, count=len(keys))
        if self.num_oov_indices != 1:
            missing = np.flatnonzero(idx == _MISSING)
            if missing.size and self.num_oov_indices == 0:
                bad = sorted({keys[i] for i in missing[:20]}, key=repr)
                raise ValueError(f"{_validate.describe(self)}: with num_oov_indices=0 every "
                                 f"input must be in the vocabulary; found out-of-vocabulary "
                                 f"values {bad}. Set num_oov_indices=1 to map them to an OOV "
                                 "index.")
            if missing.size:
                buckets = self._hash_oov([keys[i] for i in missing])
                idx[missing] = self._oov_start_index() + buckets
        return idx

    def call(self, inputs):
        if self.invert:
            return self._invert(inputs)
        keys, shape = self._keys(inputs)
        idx = self.lookup(keys).reshape(shape)
        if self.output_mode == "int":
            return idx
        return self._encode(idx)

    def _encode(self, idx):
        """One-hot / multi-hot / count / TF-IDF encoding of an index array (Keras's ranks)."""
        depth = self._depth()
        if idx.ndim == 0:
            idx = idx.reshape(1)
        if self.output_mode == "one_hot" and idx.shape[-1] != 1:
            idx = idx[..., None]
        if idx.ndim > 2:
            raise ValueError(f"{_validate.describe(self)}: output_mode={self.output_mode!r} "
                             "supports outputs of rank 2 at most (inputs of shape (batch,) or "
                             f"(batch, tokens)). Received: input of shape {idx.shape}")
        rows = idx.reshape(-1, idx.shape[-1])
        out = encode_rows(rows, depth, self.output_mode, self._idf_vector(depth),
                          self.dtype or config.floatx())
        return out[0] if idx.ndim == 1 else out

    def _idf_vector(self, depth):
        if self.output_mode != "tf_idf":
            return None
        if self._idf is None:
            raise RuntimeError(f"{_validate.describe(self)}: output_mode='tf_idf' needs IDF "
                               "weights: call adapt() or set_vocabulary(vocab, idf_weights).")
        return np.pad(self._idf, (0, max(0, depth - len(self._idf))))[:depth]

    def _invert(self, inputs):
        idx = np.asarray(unwrap(inputs))
        if idx.dtype.kind == "f" and np.all(np.mod(idx, 1) == 0):
            idx = idx.astype(np.int64)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{_validate.describe(self)} (invert=True) expects integer indices. "
                            f"Received: input with dtype {idx.dtype}")
        if self._inverse is None:
            self._inverse = self.get_vocabulary()     # index 0 the mask, OOV slots oov_token
        vocab, n, oov = self._inverse, len(self._inverse), self.oov_token
        flat = [vocab[i] if 0 <= i < n else oov for i in idx.reshape(-1).tolist()]
        return self._inverted(flat, idx.shape)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    # -- serialisation --------------------------------------------------------------------
    def get_config(self):
        """Constructor arguments; the vocabulary (and IDF weights) as learned, so that a saved
        model reloads with them (`has_input_vocabulary` keeps an adapted layer adaptable)."""
        cfg = super().get_config()
        cfg.update(max_tokens=self.max_tokens, num_oov_indices=self.num_oov_indices,
                   mask_token=self.mask_token, oov_token=self.oov_token, invert=self.invert,
                   output_mode=self.output_mode, pad_to_max_tokens=self.pad_to_max_tokens,
                   sparse=False, has_input_vocabulary=self._has_input_vocabulary,
                   vocabulary=None if self._tokens is None else self.get_vocabulary(),
                   idf_weights=(None if self._idf is None or self._tokens is None else
                                [float(w) for w in self._idf]))
        return cfg
