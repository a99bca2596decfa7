"""`adapt()` for the lookup layers: count tokens batch by batch, then keep the most frequent
(Keras's order: count high to low, ties by the token high to low) and, in "tf_idf" mode, their
inverse document frequencies."""
import collections

import numpy as np

from .. import _validate
from .lookup_encode import adapt_batches, idf_from_counts


class AdaptMixin:
    """The adapt state and methods of `IndexLookup` (`_keys`, `_set_tokens` and the vocabulary
    layout come from the layer)."""

    def reset_state(self):
        """Forget the token counts gathered by `update_state` (not the vocabulary)."""
        self._counts = collections.Counter()
        self._doc_counts = collections.Counter()
        self._num_documents = 0

    def adapt(self, data, steps=None, batch_size=None):
        """Learn the vocabulary from `data`: the most frequent tokens (at most `max_tokens`
        entries with the special ones), in "tf_idf" mode their IDF weights too.

        Args:
            data: an array or list of tokens (a 1-D one is one document per element), or a
                dataset / iterable of such batches (a 1-D batch is one document, as in Keras).
            steps: number of batches to read from a dataset (default: all).
            batch_size: rows per chunk when `data` is an array.
        """
        self._check_adaptable()
        self.reset_state()
        for batch in self._adapt_batches(data, steps, batch_size):
            self.update_state(batch)
        self.finalize_state()

    def _check_adaptable(self):
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt {_validate.describe(self)}: it was given a fixed "
                             "vocabulary (the `vocabulary` argument).")

    def _adapt_batches(self, data, steps, batch_size):
        return adapt_batches(self, data, batch_size, steps, expand=True)

    def update_state(self, data):
        """Count the tokens of one batch (rows are documents; a 1-D batch is one document)."""
        self._check_adaptable()
        keys, shape = self._keys(data)
        if len(shape) == 0:
            shape = (1,)
        self._counts.update(keys)
        if self.output_mode == "tf_idf":
            rows = 1 if len(shape) == 1 else int(np.prod(shape[:-1], dtype=np.int64))
            width = len(keys) // rows if rows else 0
            for r in range(rows):
                self._doc_counts.update(set(keys[r * width:(r + 1) * width]))
            self._num_documents += rows

    def update_state_rows(self, rows):
        """Count tokens given as a list of documents (lists of tokens; TextVectorization)."""
        self._check_adaptable()
        for row in rows:
            self._counts.update(row)
            if self.output_mode == "tf_idf":
                self._doc_counts.update(set(row))
        if self.output_mode == "tf_idf":
            self._num_documents += len(rows)

    def finalize_state(self):
        """Turn the counts into the vocabulary (and IDF weights), then drop the counts."""
        counts = self._counts
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        if not counts:
            self.reset_state()
            return
        # count high to low, ties: the token high to low (Keras: lexsort((tokens, counts))[::-1])
        ranked = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[:self.max_tokens - self._token_start_index()]
        tokens = [t for t, _ in ranked]
        if self.output_mode == "tf_idf":
            idf = idf_from_counts([self._doc_counts[t] for t in tokens], self._num_documents)
            self._idf = np.concatenate([np.full(self._token_start_index(), idf.mean()), idf])
        self._set_tokens(tokens)
        self.reset_state()

