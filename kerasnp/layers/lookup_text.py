"""Text preprocessing steps of TextVectorization, as Keras (TensorFlow's string ops) does them.

- "lower" lowercases ASCII letters only (`tf.strings.lower` without an encoding), so "É" stays.
- "strip_punctuation" removes the ASCII punctuation of Keras's pattern
  ``[!"#$%&()\\*\\+,-\\./:;<=>?@\\[\\\\\\]^_`{|}~\\']`` (Python's `string.punctuation`).
- "whitespace" splits on runs of ASCII whitespace (space, \\t, \\n, \\v, \\f, \\r), dropping empty
  pieces; "character" splits into Unicode characters.
- ngrams join consecutive tokens with a space, all n-grams of the first width, then the next
  (`tf.strings.ngrams`); a document shorter than a width has no n-gram of that width.

Callables given for `standardize` / `split` are saved by name only (never as code): register
them with `kerasnp.saving.register_serializable()` or pass them in `custom_objects` to load.
"""
import re
import string

import numpy as np

from .. import _validate
from .._serializable import get_registered_name, lookup

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")
_LOWER = {ord(c): ord(c.lower()) for c in string.ascii_uppercase}
_STRIP = {ord(c): None for c in string.punctuation}
_TABLES = {"lower": str.maketrans(_LOWER), "strip_punctuation": str.maketrans(_STRIP),
           "lower_and_strip_punctuation": str.maketrans({**_LOWER, **_STRIP})}
_WORDS = re.compile(r"[^ \t\n\v\f\r]+")
_PY_ONLY_SPACE = re.compile(r"[\x1c-\x1f]")   # str.split() splits ASCII text on these too


def check_option(layer, value, arg, names):
    """A standardize/split option: None, one of `names`, or a callable."""
    if value is None or callable(value) or (isinstance(value, str) and value in names):
        return value
    valid = ", ".join(repr(v) for v in (None,) + names)
    raise ValueError(f"{_validate.describe(layer)}: argument `{arg}` must be one of {valid}, or "
                     f"a callable. Received: {arg}={value!r}")


def check_ngrams(layer, ngrams):
    """None, a positive int n (widths 1..n) or a tuple of positive ints -> tuple of widths."""
    if ngrams is None:
        return None
    if isinstance(ngrams, list):
        ngrams = tuple(ngrams)
    ok = (isinstance(ngrams, int) and not isinstance(ngrams, bool) and ngrams > 0) or (
        isinstance(ngrams, tuple) and ngrams and all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in ngrams))
    if not ok:
        raise ValueError(f"{_validate.describe(layer)}: `ngrams` must be None, a positive "
                         f"integer, or a tuple of positive integers. Received: ngrams={ngrams!r}")
    return tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams


def standardize(texts, option):
    """Apply a built-in standardization to a list of str (callables are applied by the layer)."""
    table = _TABLES.get(option)
    return texts if table is None else [t.translate(table) for t in texts]


def split(texts, option):
    """Split each text into tokens: a list of lists of str."""
    if option == "whitespace":
        # str.split() is TensorFlow's split for ASCII text without \x1c-\x1f, and faster
        return [t.split() if t.isascii() and not _PY_ONLY_SPACE.search(t) else _WORDS.findall(t)
                for t in texts]
    return [list(t) for t in texts]                       # "character"


def ngrams(rows, widths):
    """The n-grams of each row of tokens, width by width, joined by a space."""
    out = []
    for row in rows:
        grams = []
        for n in widths:
            if n == 1:
                grams.extend(row)
            else:
                grams.extend(" ".join(row[i:i + n]) for i in range(len(row) - n + 1))
        out.append(grams)
    return out


def serialize_option(value):
    """A string option as is; a callable as Keras writes a function (name only, no code)."""
    if value is None or isinstance(value, str):
        return value
    return {"class_name": "function", "config": getattr(value, "__name__", type(value).__name__),
            "registered_name": get_registered_name(value)}


def deserialize_option(value, arg, custom_objects=None):
    """Inverse of `serialize_option`: a callable found by name in `custom_objects` or among the
    registered objects; nothing is imported or evaluated."""
    if not isinstance(value, dict):
        return value
    names = (value.get("registered_name"), value.get("config"))
    fn = lookup(names, custom_objects, short=True)
    if fn is None:
        name = value.get("config")
        raise ValueError(f"Cannot rebuild TextVectorization: its `{arg}` is the Python function "
                         f"{name!r}, and kerasnp never saves code. Register it with "
                         "@kerasnp.saving.register_serializable() or pass "
                         f"custom_objects={{{name!r}: {name}}}. Received: {arg}={value!r}")
    return fn


def rows_from_split(layer, out, n):
    """A callable split's result as a list of `n` lists of str."""
    rows = out.tolist() if isinstance(out, np.ndarray) else list(out)
    if len(rows) != n or not all(isinstance(r, (list, tuple, np.ndarray)) for r in rows):
        raise ValueError(f"{_validate.describe(layer)}: the `split` callable must return one "
                         f"sequence of tokens per input string ({n}). Received: {type(out)}")
    return [[str(t) for t in (r.tolist() if isinstance(r, np.ndarray) else r)] for r in rows]
