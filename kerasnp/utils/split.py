"""Splitting arrays into two parts: Keras's `split_dataset` and a scikit-learn-like
`train_test_split`.

Both take arrays, or tuples / lists / dicts of arrays (nested), whose first axes have one length;
every array is cut with the same rows, so features and labels stay aligned. A list of arrays is a
collection (Keras's multi-input lists); a list of numbers or of lists is one array of data.
Unshuffled splits are slices (views: a memory-mapped array is not read); shuffled splits gather
rows by index.
"""
import math
import numbers

import numpy as np

from .. import _validate
from .. import random as _random


def _is_collection(s):
    """Tuples and dicts hold arrays; a list does when its items are arrays, tuples or dicts (a
    list of numbers or of lists is data, as np.asarray reads it)."""
    if isinstance(s, (tuple, dict)):
        return True
    return isinstance(s, list) and bool(s) and all(isinstance(v, (np.ndarray, tuple, dict))
                                                   for v in s)


def _leaves(structure, out):
    """Append the arrays of a (nested) tuple / list / dict to `out`; return a rebuild template."""
    if isinstance(structure, dict):
        return {k: _leaves(v, out) for k, v in structure.items()}
    if _is_collection(structure):
        return type(structure)(_leaves(v, out) for v in structure)
    out.append(structure if isinstance(structure, np.ndarray) else np.asarray(structure))
    return len(out) - 1


def _rebuild(template, arrays):
    if isinstance(template, dict):
        return {k: _rebuild(v, arrays) for k, v in template.items()}
    if isinstance(template, (tuple, list)):
        return type(template)(_rebuild(v, arrays) for v in template)
    return arrays[template]


def _length(arrays, owner):
    """The common first-axis length of `arrays` (ValueError when it differs or is missing)."""
    if not arrays:
        raise ValueError(f"{owner}: expected at least one array. Received: no arrays")
    for a in arrays:
        if a.ndim == 0:
            raise ValueError(f"{owner}: expected arrays with a first (samples) axis, received a "
                             f"scalar. Received: array={a!r}")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"{owner}: all arrays must have the same length (first axis), received "
                         f"lengths {lengths}. Received: shapes={[a.shape for a in arrays]}")
    return lengths[0]


def _count(size, n, arg, owner):
    """A split size as a number of samples: a float in (0, 1) is a fraction of n, an int a count."""
    if size is None:
        return None
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        if not 0 < size < n:
            raise ValueError(f"{owner}: argument `{arg}` as an int is a number of samples and must "
                             f"be in [1, {n - 1}] for {n} samples. Received: {arg}={size!r}")
        return int(size)
    # a fraction, returned as a float: the caller rounds it by its own convention
    return _validate.number(size, arg, owner, low=0.0, high=1.0, low_open=True, high_open=True)


def _take(arrays, index):
    return [a[index] for a in arrays]


def _order(n, shuffle, seed, owner):
    """None (keep the order, so parts are slices) or a permutation of range(n)."""
    if not _validate.boolean(shuffle, "shuffle", owner):
        return None
    if seed is None:
        rng = _random.make_generator()  # reproducible after kerasnp.utils.set_random_seed
    else:
        rng = np.random.default_rng(_validate.non_negative_int(seed, "seed", owner))
    return rng.permutation(n)


def _parts(arrays, perm, n_left, n_right, n):
    """The first `n_left` and the last `n_right` rows (after the permutation, if any)."""
    if perm is None:
        return _take(arrays, slice(0, n_left)), _take(arrays, slice(n - n_right, n))
    return _take(arrays, perm[:n_left]), _take(arrays, perm[n - n_right:])


def split_dataset(x, y=None, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split a dataset into a left part and a right part (e.g. train / validation), as Keras does.

    Args:
        x: an array, or a tuple / list / dict (nested) of arrays with the same first-axis length,
            e.g. `(features, labels)` as Keras takes it.
        y: optional array (or structure of arrays) of the same length, split with the same rows.
        left_size: float in (0, 1), the fraction of samples in the left part (rounded to the
            nearest count), or int, the number of samples. None: the complement of `right_size`.
        right_size: the same for the right part. None: the complement of `left_size`.
            At least one size must be given. When both are given they may add up to fewer
            samples than there are (the samples in between are left out), never more.
        shuffle: bool, shuffle the rows before splitting (default False: the left part is the
            first rows, the right part the last rows, both returned as views).
        seed: None or non-negative int for the shuffle. None draws from `kerasnp.random`, so the
            split is reproducible after `kerasnp.utils.set_random_seed(...)`.

    Returns:
        `(left, right)`, each with the structure of `x` (or of `(x, y)` when `y` is given).

    Raises:
        ValueError: for missing or invalid sizes, sizes that add up to more than the number of
            samples or leave a part empty, or arrays of different lengths.

    Example:
        >>> data = np.arange(20).reshape(10, 2)
        >>> left, right = split_dataset(data, left_size=0.8)
        >>> left.shape, right.shape
        ((8, 2), (2, 2))
    """
    owner = "split_dataset"
    structure = x if y is None else (x, y)
    arrays = []
    template = _leaves(structure, arrays)
    n = _length(arrays, owner)
    if left_size is None and right_size is None:
        raise ValueError(f"{owner}: give `left_size`, `right_size` or both (a fraction in (0, 1) "
                         f"or a number of samples). Received: left_size=None, right_size=None")
    if n < 2:
        raise ValueError(f"{owner}: need at least 2 samples to make two non-empty parts. "
                         f"Received: {n} sample(s)")
    left, right = _count(left_size, n, "left_size", owner), _count(right_size, n, "right_size",
                                                                   owner)
    left = round(left * n) if isinstance(left, float) else left
    right = round(right * n) if isinstance(right, float) else right
    left = n - right if left is None else left
    right = n - left if right is None else right
    if left < 1 or right < 1 or left + right > n:
        raise ValueError(f"{owner}: the sizes must leave both parts non-empty and add up to at "
                         f"most the {n} samples; they give {left} left + {right} right samples. "
                         f"Received: left_size={left_size!r}, right_size={right_size!r}")
    perm = _order(n, shuffle, seed, owner)
    lefts, rights = _parts(arrays, perm, left, right, n)
    return _rebuild(template, lefts), _rebuild(template, rights)


def train_test_split(*arrays, test_size=0.25, shuffle=True, seed=None):
    """Split arrays into random train and test parts, returned in scikit-learn's order.

    Args:
        *arrays: one or more arrays (or structures of arrays, see `split_dataset`) with the same
            first-axis length; all are cut with the same rows.
        test_size: float in (0, 1), the fraction of samples in the test part (rounded up, as
            scikit-learn does), or int in [1, n - 1], the number of test samples.
        shuffle: bool, shuffle before splitting (default True). With False the test part is the
            last rows and both parts are views.
        seed: None or non-negative int (None draws from `kerasnp.random`).

    Returns:
        A list `[a_train, a_test, b_train, b_test, ...]`, two entries per input array.

    Raises:
        ValueError: for no arrays, arrays of different lengths, or a `test_size` that leaves a
            part empty.

    Example:
        >>> x, y = np.arange(20).reshape(10, 2), np.arange(10)
        >>> x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, seed=0)
        >>> x_train.shape, x_test.shape, bool((x_test[:, 0] // 2 == y_test).all())
        ((7, 2), (3, 2), True)
    """
    owner = "train_test_split"
    leaves = []
    templates = [_leaves(a, leaves) for a in arrays]
    n = _length(leaves, owner)
    if n < 2:
        raise ValueError(f"{owner}: need at least 2 samples to make a train and a test part. "
                         f"Received: {n} sample(s)")
    n_test = _count(test_size, n, "test_size", owner)
    if isinstance(n_test, float):
        n_test = math.ceil(n_test * n)
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"{owner}: test_size={test_size!r} gives {n_test} test samples of {n}, "
                         f"leaving a part empty. Received: test_size={test_size!r}")
    perm = _order(n, shuffle, seed, owner)
    train, test = _parts(leaves, perm, n - n_test, n_test, n)
    out = []
    for template in templates:
        out += [_rebuild(template, train), _rebuild(template, test)]
    return out
