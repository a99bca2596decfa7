"""PyDataset (alias Sequence): a dataset that serves whole batches by index, as in Keras.

Subclass it, implement `__len__` (batches per epoch) and `__getitem__(i)` returning `(x, y)` or
`(x, y, sample_weight)` for batch `i` (x may be a list or dict for several inputs; predict also
accepts `x` alone), and optionally `on_epoch_end()`. `fit`, `evaluate` and `predict` take it
directly. `workers > 1` prefetches batches in threads, or in processes with
`use_multiprocessing=True`; both stop cleanly on Ctrl-C or an exception. Process workers
(`kerasnp.utils._workers`) exit by themselves if the training process dies, and a stuck one is
terminated rather than waited for.
"""
from .. import _validate


class PyDataset:
    """Base class for datasets that serve batches by index.

    Args:
        workers: batches prepared ahead in parallel (1 = in the training loop's thread).
        use_multiprocessing: prefetch in worker processes instead of threads (the dataset is
            inherited by forked workers; needs a platform with `fork`).
        max_queue_size: at most this many batches prepared ahead of training.

    Example:
        >>> import numpy as np
        >>> class Squares(PyDataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         x = np.arange(8, dtype="float32").reshape(8, 1) + 8 * i
        ...         return x, x ** 2
        >>> len(Squares())
        4
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = _validate.positive_int(workers, "workers", type(self).__name__)
        self.use_multiprocessing = _validate.boolean(use_multiprocessing, "use_multiprocessing",
                                                     type(self).__name__)
        self.max_queue_size = _validate.positive_int(max_queue_size, "max_queue_size",
                                                     type(self).__name__)

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__ (the number "
                                  "of batches per epoch).")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index) "
                                  "returning the batch (x, y) or (x, y, sample_weight).")

    def on_epoch_end(self):
        """Called after each epoch (e.g. to reshuffle)."""

    @property
    def num_batches(self):
        return len(self)


Sequence = PyDataset
