"""Fashion-MNIST: 28x28 grayscale images of 10 kinds of clothing, in Keras's cached files.

The four gzipped IDX files Keras downloads are cached in `$KERASNP_HOME/datasets/fashion-mnist/`
and parsed with NumPy. No sha256 digests are published for these copies, so each file's structure
is checked on first use (magic number, dimensions, payload size, labels 0-9) and its sha256 is then
pinned in a `<file>.sha256` sidecar; later loads must match it.
"""
import os

from . import _cache
from ._idx import read_idx

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_SUBDIR = "fashion-mnist"
_TRAIN = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
_TEST = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
_NAME = "Fashion-MNIST"
_WHAT = "a Fashion-MNIST IDX file"
_N_CLASSES = 10


def _parse(path, dest=None):
    """Read one file: images as (n, 28, 28) uint8, labels as (n,) uint8 in [0, 10).

    The kind is taken from the cache name `dest` (default `path`), as a download is verified while
    it is still a temp file.
    """
    if "-images-" in os.path.basename(dest or path):
        return read_idx(path, 3, (28, 28))
    labels = read_idx(path, 1)
    if labels.size and labels.max() >= _N_CLASSES:
        raise ValueError(f"'{path}' holds the label {int(labels.max())}; Fashion-MNIST labels are "
                         f"0-{_N_CLASSES - 1}. Delete the file and download it again.")
    return labels


def _load_pair(directory, images_name, labels_name):
    x = _cache.load_pinned(os.path.join(directory, images_name), _WHAT, _parse)
    y = _cache.load_pinned(os.path.join(directory, labels_name), _WHAT, _parse)
    if len(x) != len(y):
        raise ValueError(f"{_NAME}: '{images_name}' holds {len(x)} images but '{labels_name}' "
                         f"holds {len(y)} labels in '{directory}'; the files do not belong "
                         f"together. Delete them and download them again.")
    return x, y


def load_data():
    """Load the Fashion-MNIST dataset: 60,000 training and 10,000 test 28x28 grayscale images.

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker,
    8 Bag, 9 Ankle boot.

    The four files Keras uses (`train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
    `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`) are cached in
    `$KERASNP_HOME/datasets/fashion-mnist/` (default `~/.kerasnp/datasets/fashion-mnist/`) and
    downloaded from Keras's storage when missing, unless the environment sets `KERASNP_OFFLINE=1`.
    A file's structure is checked on first use and its sha256 pinned in a `.sha256` sidecar file.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 images of shape `(n, 28, 28)` with values
        0-255 and uint8 labels 0-9 of shape `(n,)`.

    Raises:
        FileNotFoundError: when files are missing and cannot be downloaded; the message names the
            full path to place each missing file at and the URL it comes from.
        ValueError: when a cached file is malformed or differs from its pinned sha256.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> x_train.shape, y_train.dtype  # doctest: +SKIP
        ((60000, 28, 28), dtype('uint8'))
    """
    directory = _cache.cache_dir(_SUBDIR)
    files = [(os.path.join(directory, name), _ORIGIN + name) for name in _TRAIN + _TEST]
    _cache.fetch_missing(files, _NAME, verify=_parse)
    return _load_pair(directory, *_TRAIN), _load_pair(directory, *_TEST)
