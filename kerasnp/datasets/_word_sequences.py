"""Shared by the IMDB and Reuters loaders: fetching Keras's files into the dataset cache, checking
their published digests, reading the word index JSON, and Keras's sequence preprocessing
(word-index offsets, start and OOV markers, `num_words` / `skip_top` caps, `maxlen` filter)."""
import hashlib
import json
import numbers
import os

import numpy as np

from . import _cache

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MAX_JSON_BYTES = 1 << 26


def digest(path, expected):
    """Raise ValueError unless the file's md5 (32 hex digits) or sha256 (64) is `expected`."""
    h = hashlib.md5(usedforsecurity=False) if len(expected) == 32 else hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != expected:
        raise ValueError(f"Checksum mismatch for '{path}': expected {h.name} {expected}, "
                         f"received {h.hexdigest()}. The file is corrupt or not Keras's; delete "
                         "it to download it again.")


def fetch(path, origin_name, expected, what):
    """The cached file for `path` (relative to the cache dir, or absolute), downloaded from
    Keras's origin when missing (unless offline); its digest is checked on every load."""
    target = os.path.join(_cache.cache_dir(), path)
    _cache.fetch_missing([(target, ORIGIN + origin_name)], what,
                         verify=lambda tmp, dest: digest(tmp, expected))
    digest(target, expected)
    return target


def read_word_index(path):
    """The word index JSON as `{word: int}`, parsed by `json` and checked."""
    if os.path.getsize(path) > MAX_JSON_BYTES:
        raise ValueError(f"'{path}' is larger than {MAX_JSON_BYTES} bytes; not a word index.")
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    if not isinstance(index, dict) or not all(
            isinstance(k, str) and type(v) is int for k, v in index.items()):
        raise ValueError(f"'{path}' is not a word index: expected a JSON object of "
                         "{word: integer index}.")
    return index


def check_args(num_words, skip_top, maxlen, seed, start_char, oov_char, index_from, who):
    """Keras's loader arguments, validated with messages that name them."""
    def integer(value, arg, low, none_ok):
        if value is None and none_ok:
            return
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"{who}: `{arg}` must be {'None or ' if none_ok else ''}an integer "
                             f">= {low}. Received: {arg}={value!r}")
    integer(num_words, "num_words", 1, True)
    integer(skip_top, "skip_top", 0, False)
    integer(maxlen, "maxlen", 1, True)
    integer(seed, "seed", 0, False)
    integer(start_char, "start_char", 0, True)
    integer(oov_char, "oov_char", 0, True)
    integer(index_from, "index_from", 0, False)


def offset(xs, start_char, index_from):
    """Add `index_from` to every word index and prepend `start_char` (Keras's order)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    return [[w + index_from for w in x] for x in xs]


def remove_long(maxlen, xs, labels):
    """Keep the sequences shorter than `maxlen` (Keras keeps `len(x) < maxlen`)."""
    keep = [i for i, x in enumerate(xs) if len(x) < maxlen]
    return [xs[i] for i in keep], np.asarray(labels)[keep]


def cap(xs, num_words, skip_top, oov_char):
    """Words outside `[skip_top, num_words)` become `oov_char` (or are dropped when None);
    `num_words` defaults to the largest index, as in Keras."""
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def as_object_array(rows):
    """A 1-D object array of lists (np.array would make a 2-D int array of equal rows)."""
    out = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        out[i] = row
    return out
