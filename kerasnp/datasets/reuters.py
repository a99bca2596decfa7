"""Reuters newswire topics: 11,228 newswires over 46 topics, as word-index sequences.

Keras's `reuters.npz` is downloaded into the dataset cache unless `KERASNP_OFFLINE=1` and
checked against Keras's sha256 at every load; its object arrays are read by the restricted
reader of `_safe_npz` (no pickle code runs).
"""
import numbers

import numpy as np

from . import _safe_npz
from . import _word_sequences as ws

_SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"
_LABELS = ("cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
           "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass",
           "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum",
           "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi",
           "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
           "dlr", "gas", "silver", "wpi", "hog", "lead")


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """Load the Reuters newswire dataset, as `keras.datasets.reuters.load_data`.

    All newswires are shuffled with `np.random.RandomState(seed)`, preprocessed as for IMDB
    (see `kerasnp.datasets.imdb.load_data`), then the last `test_split` fraction is the test set.

    Args:
        path, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from: as for
            `imdb.load_data`.
        test_split: fraction of the data used as the test set (between 0 and 1).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: object arrays of lists of ints, and int topic
        labels 0-45 (names: `get_label_names()`).

    Raises:
        FileNotFoundError: the file is not cached and cannot be downloaded (offline).
        ValueError: a corrupt file or a bad argument.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data(num_words=10000)  # doctest: +SKIP
        >>> len(x_train), len(x_test)                                         # doctest: +SKIP
        (8982, 2246)
    """
    ws.check_args(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from,
                  "reuters.load_data")
    if isinstance(test_split, bool) or not isinstance(test_split, numbers.Real) or \
            not 0 <= test_split <= 1:
        raise ValueError("reuters.load_data: `test_split` must be a number between 0 and 1. "
                         f"Received: test_split={test_split!r}")
    file = ws.fetch(path, "reuters.npz", _SHA256, "The Reuters dataset")
    f = _safe_npz.load_npz(file, ["x", "y"])
    xs, labels = f["x"], f["y"]
    if len(xs) != len(labels):
        raise ValueError(f"'{file}': {len(xs)} sequences but {len(labels)} labels.")
    order = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(order)
    xs, labels = ws.offset(xs[order], start_char, index_from), labels[order]
    if maxlen:
        xs, labels = ws.remove_long(maxlen, xs, labels)
    xs = ws.cap(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return ((ws.as_object_array(xs[:idx]), np.array(labels[:idx])),
            (ws.as_object_array(xs[idx:]), np.array(labels[idx:])))


def get_word_index(path="reuters_word_index.json"):
    """The `{word: index}` dictionary of the Reuters dataset (indices before `index_from`)."""
    return ws.read_word_index(ws.fetch(path, "reuters_word_index.json", _INDEX_MD5,
                                       "The Reuters word index"))


def get_label_names():
    """The 46 topic names; `get_label_names()[y]` names label `y`."""
    return _LABELS
