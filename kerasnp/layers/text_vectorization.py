"""TextVectorization: raw strings -> token indices or bag-of-words vectors (Keras 3's layer)."""
import numpy as np

from .. import _validate, config
from .base import Layer, register
from . import lookup_text as text
from .lookup import StringLookup, as_string_array
from .lookup_encode import adapt_batches, encode_rows, refuse_sparse


@register
class TextVectorization(Layer):
    """Maps strings to sequences of token indices, or to multi-hot / count / TF-IDF vectors.

    Each string is standardized (lowercased, punctuation stripped), split into tokens (words),
    optionally combined into n-grams, and looked up in a vocabulary that is given or learned with
    `adapt()`: index 0 is padding (""), 1 is the out-of-vocabulary token "[UNK]", then the
    tokens from most to least frequent (ties: the token, high to low), as in Keras. The layer has
    no weights; its vocabulary and IDF weights are part of its config, so a saved model keeps them.

    Args:
        max_tokens: maximum vocabulary size, padding and OOV tokens included (None: no limit).
        standardize: "lower_and_strip_punctuation" (default), "lower", "strip_punctuation",
            None, or a callable taking and returning an array of strings.
        split: "whitespace" (default), "character", None, or a callable taking a 1-D array of
            strings and returning one list of tokens per string.
        ngrams: None, an int n (all n-grams up to n), or a tuple of widths.
        output_mode: "int" (default), "multi_hot", "count" or "tf_idf".
        output_sequence_length: "int" mode only: pad with 0 / truncate every sequence to this
            length (else sequences are padded to the longest of the batch).
        pad_to_max_tokens: bag-of-words modes: `max_tokens` output columns whatever the
            vocabulary size.
        vocabulary: a list of strings (then `adapt` is not needed).
        idf_weights: "tf_idf" mode with a `vocabulary`: one weight per entry.
        sparse, ragged: must be False (kerasnp returns dense arrays).
        encoding: how bytes inputs are decoded. Defaults to "utf-8".

    Input shape: strings `(batch,)` or `(batch, 1)` (a list or an array of str/object).
    Output shape: int64 `(batch, sequence_length)` in "int" mode, float `(batch, depth)` else.

    Example:
        >>> import kerasnp as keras
        >>> layer = keras.layers.TextVectorization(output_sequence_length=4)
        >>> layer.adapt(["foo bar", "bar baz", "baz bada boom"])
        >>> layer([["foo qux bar"], ["qux baz"]]).tolist()
        [[4, 1, 3, 0], [1, 2, 0, 0]]
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int", output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False,
                 ragged=False, encoding="utf-8", name=None, **kwargs):
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", None)
        kwargs.pop("vocabulary_size", None)        # Keras saves it; the vocabulary says it here
        super().__init__(name=name, **kwargs)
        refuse_sparse(self, sparse)
        refuse_sparse(self, ragged, "ragged")
        self.standardize = text.check_option(self, standardize, "standardize", text.STANDARDIZE)
        self.split = text.check_option(self, split, "split", text.SPLIT)
        self._ngrams_arg = list(ngrams) if isinstance(ngrams, (list, tuple)) else ngrams
        self.ngrams = text.check_ngrams(self, ngrams)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        self.output_mode = _validate.choice(output_mode, "output_mode",
                                            ("int", "multi_hot", "count", "tf_idf"), self)
        if output_sequence_length is not None:
            if self.output_mode != "int":
                raise ValueError(f"{_validate.describe(self)}: `output_sequence_length` applies "
                                 f"only to output_mode='int'. Received: output_mode="
                                 f"{self.output_mode!r}, output_sequence_length="
                                 f"{output_sequence_length!r}")
            output_sequence_length = _validate.positive_int(
                output_sequence_length, "output_sequence_length", self)
        self.output_sequence_length = output_sequence_length
        self.encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=self.output_mode,
            encoding=encoding, has_input_vocabulary=has_input_vocabulary,
            name=f"{self.name}_lookup")

    # -- vocabulary (delegated to the StringLookup, as in Keras) ------------------------------
    @property
    def max_tokens(self):
        return self._lookup_layer.max_tokens

    @property
    def pad_to_max_tokens(self):
        return self._lookup_layer.pad_to_max_tokens

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary: `vocab[i]` is the token of index `i` ("" and "[UNK]" first in "int"
        mode; "[UNK]" first otherwise), or only the learned tokens."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (and the IDF weights in "tf_idf" mode) directly."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def vocabulary_size(self):
        """Size of the vocabulary, padding and OOV tokens included."""
        return self._lookup_layer.vocabulary_size()

    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary (and IDF weights) from strings: an array or list (each string a
        document), or a dataset / iterable of batches of strings (the first element of tuple
        batches, e.g. `(texts, labels)`). `steps` limits the batches read from a dataset;
        `batch_size` sets the chunk size for arrays."""
        lookup = self._lookup_layer
        lookup._check_adaptable()
        lookup.reset_state()
        for batch in adapt_batches(self, data, batch_size, steps):
            lookup.update_state_rows(self._tokenize(batch)[0])
        lookup.finalize_state()

    def update_state(self, data):
        """Count the tokens of one batch of strings (then `finalize_state()`)."""
        self._lookup_layer.update_state_rows(self._tokenize(data)[0])

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    # -- preprocessing ------------------------------------------------------------------------
    def _tokenize(self, inputs):
        """`(rows, shape)`: the token lists of each document when splitting (shape None), or
        the standardized strings as one-token rows with the input shape (split=None)."""
        flat, shape = as_string_array(self, inputs, self.encoding)
        if callable(self.standardize):
            out = np.asarray(self.standardize(np.asarray(flat, dtype=object).reshape(shape)),
                             dtype=object)
            flat, _ = as_string_array(self, out.reshape(-1), self.encoding)
        else:
            flat = text.standardize(flat, self.standardize)
        if self.split is None:
            rows = [[t] for t in flat]
            if self.ngrams is not None and len(shape) >= 2:
                width = shape[-1]
                rows = [flat[i:i + width] for i in range(0, len(flat), width)]
                return text.ngrams(rows, self.ngrams), None
            return rows, shape
        if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
            raise ValueError(f"{_validate.describe(self)}: to split strings into tokens the "
                             "input must have shape (batch,) or (batch, 1). Received: input of "
                             f"shape {shape}")
        if callable(self.split):
            rows = text.rows_from_split(self, self.split(np.asarray(flat, dtype=object)),
                                        len(flat))
        else:
            rows = text.split(flat, self.split)
        if self.ngrams is not None:
            rows = text.ngrams(rows, self.ngrams)
        return rows, None

    def call(self, inputs):
        rows, shape = self._tokenize(inputs)
        lookup = self._lookup_layer
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        idx = lookup.lookup([t for r in rows for t in r])
        if shape is not None:                     # split=None: one token per input string
            idx = idx.reshape(shape)
            if self.output_mode != "int":
                return lookup._encode(idx)
            if self.output_sequence_length is None or idx.ndim < 2:
                return idx
            rows_2d = idx.reshape(-1, shape[-1])
            lengths = np.full(len(rows_2d), shape[-1], np.int64)
            return _pad(rows_2d.reshape(-1), lengths, self.output_sequence_length).reshape(
                shape[:-1] + (self.output_sequence_length,))
        if self.output_mode == "int":
            width = (self.output_sequence_length if self.output_sequence_length is not None
                     else int(lengths.max(initial=0)))
            return _pad(idx, lengths, width)
        depth = lookup._depth()
        row_ids = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
        return encode_rows(idx, depth, self.output_mode, lookup._idf_vector(depth),
                           self.dtype or config.floatx(), row_ids=row_ids, num_rows=len(rows))

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            if self.split is None and self.ngrams is None:     # one index per input string
                shape = tuple(input_shape)
                if self.output_sequence_length is not None and len(shape) >= 2:
                    shape = shape[:-1] + (self.output_sequence_length,)
                return shape
            return (input_shape[0], self.output_sequence_length)
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        return (input_shape[0], depth)

    # -- serialisation ------------------------------------------------------------------------
    def get_config(self):
        """Every constructor argument, with the vocabulary (and IDF weights) as learned."""
        cfg = super().get_config()
        look = self._lookup_layer.get_config()
        cfg.update(max_tokens=self.max_tokens,
                   standardize=text.serialize_option(self.standardize),
                   split=text.serialize_option(self.split), ngrams=self._ngrams_arg,
                   output_mode=self.output_mode,
                   output_sequence_length=self.output_sequence_length,
                   pad_to_max_tokens=self.pad_to_max_tokens, sparse=False, ragged=False,
                   vocabulary=look["vocabulary"], idf_weights=look["idf_weights"],
                   has_input_vocabulary=look["has_input_vocabulary"], encoding=self.encoding)
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for arg in ("standardize", "split"):
            config[arg] = text.deserialize_option(config.get(arg), arg, custom_objects)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)


def _pad(idx, lengths, width):
    """Ragged rows (flat `idx`, row `lengths`) -> `(rows, width)` int64, 0-padded at the end and
    truncated past `width` (Keras keeps the first tokens)."""
    n = len(lengths)
    out = np.zeros((n, width), dtype=np.int64)
    if idx.size and width:
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        pos = np.arange(idx.size, dtype=np.int64) - starts
        keep = pos < width
        out[np.repeat(np.arange(n), lengths)[keep], pos[keep]] = idx[keep]
    return out
