"""The 8x8 handwritten digits that scikit-learn ships, split into train and test sets."""
import numpy as np

from .. import _validate
from ..utils.split import train_test_split


def load_digits(test_size=0.2, seed=0):
    """Load scikit-learn's 1,797 8x8 handwritten digits (the UCI optical digits test set).

    Needs scikit-learn (imported only when called). The data come with scikit-learn, so nothing is
    downloaded. The split is `kerasnp.utils.train_test_split(x, y, test_size=test_size, seed=seed)`:
    the rows are permuted with `np.random.default_rng(seed)` and the last `ceil(test_size * 1797)`
    rows of the permutation form the test set; the defaults give 1,437 training and 360 test
    images, the same ones on every call.

    Args:
        test_size: float in (0, 1), the fraction of images in the test set (rounded up), or int,
            the number of test images.
        seed: non-negative int, the seed of the split.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 images of shape `(n, 8, 8)` with values
        0-16 (ink counts in 4x4 blocks of the original 32x32 bitmaps; divide by 16 to scale to
        [0, 1]) and uint8 labels 0-9 of shape `(n,)`.

    Raises:
        ImportError: when scikit-learn is not installed (`pip install scikit-learn`).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_digits()
        >>> x_train.shape, x_test.shape, int(x_train.max())
        ((1437, 8, 8), (360, 8, 8), 16)
    """
    seed = _validate.non_negative_int(seed, "seed", "load_digits")
    try:
        from sklearn.datasets import load_digits as _sklearn_digits  # lazy: optional, slow import
    except ImportError as e:
        raise ImportError("load_digits() needs scikit-learn, which ships the 8x8 digits. Install "
                          "it with `pip install scikit-learn`.") from e
    bunch = _sklearn_digits()
    x = bunch.images.astype(np.uint8)  # whole numbers 0-16 stored as float64
    y = bunch.target.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, seed=seed)
    return (x_train, y_train), (x_test, y_test)
