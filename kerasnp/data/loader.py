"""`Dataset` (per-sample access) and `DataLoader` (collates samples into batches)."""
import numpy as np

from .. import _validate
from ..utils.py_dataset import PyDataset


class Dataset:
    """A dataset of samples: implement `__len__` and `__getitem__(i)` returning `(x, y)` (or
    `(x, y, sample_weight)`; `x` alone for prediction). Any object with those two methods works;
    subclassing is optional."""

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__.")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__.")


class DataLoader(PyDataset):
    """Batches a per-sample dataset: `fit(DataLoader(ds, batch_size=32))`.

    Args:
        dataset: any object with `__len__` and `__getitem__(i)` returning one sample
            `(x, y)` / `(x, y, sample_weight)` / `x` (NumPy arrays or numbers; tuples and dicts
            of arrays are collated element-wise).
        batch_size: samples per batch.
        shuffle: reshuffle the sample order at every epoch.
        drop_last: drop the last batch when it is smaller than `batch_size`.
        seed: seed of the shuffling (reproducible order).
        workers, use_multiprocessing, max_queue_size: prefetching, as for `PyDataset`.

    Example:
        >>> import numpy as np
        >>> class Pairs:
        ...     def __len__(self):
        ...         return 10
        ...     def __getitem__(self, i):
        ...         return np.full(3, i, "float32"), i % 2
        >>> x, y = DataLoader(Pairs(), batch_size=4, shuffle=False)[0]
        >>> x.shape, y.tolist()
        ((4, 3), [0, 1, 0, 1])
    """

    def __init__(self, dataset, batch_size=32, shuffle=True, drop_last=False, seed=None,
                 workers=1, use_multiprocessing=False, max_queue_size=10):
        super().__init__(workers, use_multiprocessing, max_queue_size)
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError("DataLoader needs a dataset with __len__ and __getitem__ (one sample "
                            f"per index). Received: {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = _validate.positive_int(batch_size, "batch_size", "DataLoader")
        self.shuffle = _validate.boolean(shuffle, "shuffle", "DataLoader")
        self.drop_last = _validate.boolean(drop_last, "drop_last", "DataLoader")
        from ..random import make_generator
        self._rng = (np.random.default_rng(_validate.non_negative_int(seed, "seed", "DataLoader"))
                     if seed is not None else make_generator())
        self._order = self._new_order()

    def _new_order(self):
        n = len(self.dataset)
        return self._rng.permutation(n) if self.shuffle else np.arange(n)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"DataLoader has {len(self)} batches; index {index} is out of range.")
        idx = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        return collate([self.dataset[int(i)] for i in idx])

    def on_epoch_end(self):
        if self.shuffle:
            self._order = self._new_order()


def collate(samples):
    """Stack a list of samples (arrays, numbers, or tuples/lists/dicts of them) into a batch."""
    first = samples[0]
    if isinstance(first, tuple) or isinstance(first, list):
        return type(first)(collate([s[k] for s in samples]) for k in range(len(first)))
    if isinstance(first, dict):
        return {k: collate([s[k] for s in samples]) for k in first}
    return np.stack([np.asarray(s) for s in samples])
