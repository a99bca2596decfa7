"""IMDB movie-review sentiment: 25,000 training and 25,000 test reviews as word-index sequences.

Keras's `imdb.npz` is downloaded into the dataset cache (`$KERASNP_HOME/datasets`, default
`~/.kerasnp/datasets`) unless `KERASNP_OFFLINE=1`, and checked against Keras's sha256 at every
load. Its reviews are object arrays (a pickle in each member); kerasnp reads them with a
restricted reader that builds lists of ints and runs nothing (`_safe_npz`).
"""
import numpy as np

from . import _safe_npz
from . import _word_sequences as ws

_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
              oov_char=2, index_from=3, **kwargs):
    """Load the IMDB dataset, as `keras.datasets.imdb.load_data`.

    Each review is a list of word indices, words ranked by frequency (index 1 = most frequent,
    before the `index_from` offset). Training and test sets are shuffled with
    `np.random.RandomState(seed)`.

    Args:
        path: file name in the cache directory (or an absolute path).
        num_words: keep the `num_words` most frequent words (others become `oov_char`).
        skip_top: the most frequent words to skip (they become `oov_char`).
        maxlen: keep only the sequences shorter than this.
        seed: seed of the shuffling.
        start_char: index that starts every sequence (None: no start marker).
        oov_char: index of the words cut by `num_words` / `skip_top` (None: drop them).
        index_from: offset added to every word index (0 pads, 1 starts, 2 is OOV by default).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: object arrays of lists of ints, and int labels
        (1 positive, 0 negative). Pad them with `kerasnp.utils.pad_sequences`.

    Raises:
        FileNotFoundError: the file is not cached and cannot be downloaded (offline); the
            message gives the path to place it at and its origin.
        ValueError: a corrupt file, or `maxlen` removing every sequence.

    Example:
        >>> (x_train, y_train), _ = load_data(num_words=10000)     # doctest: +SKIP
        >>> kerasnp.utils.pad_sequences(x_train, maxlen=200).shape  # doctest: +SKIP
        (25000, 200)
    """
    if kwargs:
        raise TypeError(f"imdb.load_data() got unexpected keyword argument(s) "
                        f"{sorted(kwargs)}. Received: {kwargs!r}")
    ws.check_args(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from,
                  "imdb.load_data")
    file = ws.fetch(path, "imdb.npz", _SHA256, "The IMDB dataset")
    f = _safe_npz.load_npz(file, ["x_train", "y_train", "x_test", "y_test"])
    rng = np.random.RandomState(seed)
    parts = []
    for x, y in ((f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])):
        if len(x) != len(y):
            raise ValueError(f"'{file}': {len(x)} sequences but {len(y)} labels.")
        order = np.arange(len(x))
        rng.shuffle(order)
        parts.append([ws.offset(x[order], start_char, index_from), y[order]])
    if maxlen:
        for part in parts:
            part[0], part[1] = ws.remove_long(maxlen, part[0], part[1])
        if not parts[0][0] or not parts[1][0]:
            raise ValueError(f"imdb.load_data: no sequence is shorter than maxlen={maxlen}; "
                             "increase maxlen.")
    n_train = len(parts[0][0])
    xs = ws.cap(parts[0][0] + parts[1][0], num_words, skip_top, oov_char)
    return ((ws.as_object_array(xs[:n_train]), parts[0][1]),
            (ws.as_object_array(xs[n_train:]), parts[1][1]))


def get_word_index(path="imdb_word_index.json"):
    """The `{word: index}` dictionary of the IMDB dataset (indices before `index_from`).

    Example:
        >>> index = get_word_index()                               # doctest: +SKIP
        >>> words = {i + 3: w for w, i in index.items()}           # doctest: +SKIP
    """
    return ws.read_word_index(ws.fetch(path, "imdb_word_index.json", _INDEX_MD5,
                                       "The IMDB word index"))
