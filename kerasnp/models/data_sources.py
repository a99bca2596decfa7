"""Where batches come from: arrays, PyDatasets (and DataLoaders), or generators.

Each source yields `(xs, ys, sample_weight)` per batch as lists of arrays of the model's dtype,
validated. Arrays are validated once up front and gathered by index into preallocated buffers;
memory-mapped arrays (`np.load(..., mmap_mode="r")`) are never loaded whole: each batch's rows
are read, cast and checked on their own. PyDataset batches and generator batches are validated
as they arrive.
"""
import concurrent.futures as cf
import warnings

import numpy as np

from ..utils import _workers
from ..utils.py_dataset import PyDataset


def is_stream(x):
    """True for inputs that are not arrays: PyDatasets, Sequence-likes and iterators."""
    if isinstance(x, PyDataset):
        return True
    if isinstance(x, (np.ndarray, list, tuple, dict)):
        return False
    return hasattr(x, "__next__") or (hasattr(x, "__getitem__") and hasattr(x, "__len__")
                                      and hasattr(x, "on_epoch_end"))


def _unpack(item, where, owner):
    if isinstance(item, tuple):
        if len(item) == 1:
            return item[0], None, None
        if len(item) in (2, 3):
            return item[0], item[1], item[2] if len(item) == 3 else None
        raise ValueError(f"Model '{owner}': {where}() batches must be (x, y) or "
                         f"(x, y, sample_weight); received a tuple of {len(item)}.")
    return item, None, None


class ArraySource:
    """Batches of in-memory (or memory-mapped) arrays, gathered by a shuffled index array."""

    def __init__(self, model, xs, ys, sw, batch_size, shuffle):
        self.model, self.xs, self.ys, self.sw = model, xs, ys, sw
        self.n = len(xs[0])
        self.batch_size, self.shuffle = batch_size, shuffle
        self.steps = -(-self.n // batch_size)
        self._lazy = [isinstance(a, np.memmap) for a in xs]
        # Gather buffers hold one batch, so never more rows than the data has, and exist only
        # where a batch is gathered (shuffled order, or rows read from a memory map); batches
        # in order are views of the validated arrays.
        rows = min(batch_size, self.n)
        dtype = model._dtype()
        self._xbufs = [np.empty((rows,) + a.shape[1:], dtype if lazy else a.dtype)
                       if lazy or shuffle else None for a, lazy in zip(xs, self._lazy)]
        self._ybufs = [np.empty((rows,) + t.shape[1:], t.dtype) if shuffle else None
                       for t in ys or []]
        self._swbuf = np.empty(rows, sw.dtype) if sw is not None and shuffle else None

    def batches(self):
        order = self.model._rng.permutation(self.n) if self.shuffle else None
        bs = self.batch_size
        for step in range(self.steps):
            lo, hi = step * bs, min(self.n, (step + 1) * bs)
            if order is None:
                xb = [self._gather_lazy(a, slice(lo, hi), b, hi - lo) if lazy else a[lo:hi]
                      for a, b, lazy in zip(self.xs, self._xbufs, self._lazy)]
                yb = [t[lo:hi] for t in self.ys] if self.ys is not None else None
                swb = None if self.sw is None else self.sw[lo:hi]
            else:
                # mode="clip": the indices are a permutation of range(n), always in range, and
                # NumPy's default mode="raise" gathers into a temporary first, then copies it
                # into `out` (an MLP batch: 39 -> 27 us)
                idx, m = order[lo:hi], hi - lo
                xb = [self._gather_lazy(a, idx, b, m) if lazy
                      else a.take(idx, axis=0, out=b[:m], mode="clip")
                      for a, b, lazy in zip(self.xs, self._xbufs, self._lazy)]
                yb = ([t.take(idx, axis=0, out=b[:m], mode="clip")
                       for t, b in zip(self.ys, self._ybufs)]
                      if self.ys is not None else None)
                swb = None if self.sw is None else np.take(self.sw, idx, out=self._swbuf[:m],
                                                          mode="clip")
            yield xb, yb, swb

    def build_model(self):
        pass                                   # arrays built the model when validated

    def _gather_lazy(self, a, idx, buf, m):
        out = buf[:m]
        out[...] = a[idx]                      # reads only these rows from disk, casts once
        if out.dtype.kind == "f" and not np.isfinite(out).all():
            raise ValueError(f"Model '{self.model.name}': a batch of the memory-mapped input "
                             "holds non-finite values (NaN or inf).")
        return out

    def end_epoch(self):
        pass

    def close(self):
        pass


class SequenceSource:
    """Batches served by index from a PyDataset (or any Sequence-like), optionally prefetched."""

    def __init__(self, model, ds, shuffle, where, steps=None):
        self.model, self.ds, self.shuffle, self.where = model, ds, shuffle, where
        self.steps = len(ds) if steps is None else min(steps, len(ds))   # steps: validated
        if self.steps == 0:
            raise ValueError(f"Model '{model.name}': {where}() received a dataset with no "
                             "batches (len() == 0).")
        self._pool = None

    def _executor(self):
        workers = getattr(self.ds, "workers", 1)
        if workers <= 1:
            return None
        if self._pool is None:
            if getattr(self.ds, "use_multiprocessing", False):
                self._pool = _workers.ProcessPool(workers, self.ds)
            else:
                self._pool = cf.ThreadPoolExecutor(workers, thread_name_prefix="kerasnp-data")
        return self._pool

    def _raw_batches(self):
        order = list(range(len(self.ds)))
        if self.shuffle:
            order = [int(i) for i in self.model._rng.permutation(len(self.ds))]
        order = order[:self.steps]
        pool = self._executor()
        if pool is None:
            for i in order:
                yield self.ds[i]
            return
        ahead = max(getattr(self.ds, "max_queue_size", 10), 1)
        fetch = (_workers.getitem if isinstance(pool, _workers.ProcessPool)
                 else self.ds.__getitem__)
        pending = [pool.submit(fetch, i) for i in order[:ahead]]
        nxt = len(pending)
        for k in range(len(order)):
            item = pending[k].result()          # re-raises a worker's exception as it was
            pending[k] = None
            if nxt < len(order):
                pending.append(pool.submit(fetch, order[nxt]))
                nxt += 1
            yield item

    def batches(self):
        for item in self._raw_batches():
            yield self.model._adapt_batch(*_unpack(item, self.where, self.model.name),
                                          self.where)

    def build_model(self):
        """Build an unbuilt model from the shapes of the first batch."""
        self.model._cast_inputs(_unpack(self.ds[0], self.where, self.model.name)[0], self.where)

    def end_epoch(self):
        hook = getattr(self.ds, "on_epoch_end", None)
        if hook is not None:
            hook()

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)     # bounded for processes
            self._pool = None


class GeneratorSource:
    """Batches pulled from a Python generator or iterator, `steps` per epoch."""

    def __init__(self, model, it, steps, where, steps_arg):
        if steps is None:
            raise ValueError(
                f"Model '{model.name}': {where}() got a generator/iterator without "
                f"{steps_arg}. kerasnp cannot tell where an epoch of a generator ends (an "
                f"infinite one never does): pass {steps_arg}=<batches per epoch>, or wrap the "
                "data in a kerasnp.utils.PyDataset.")
        self.model, self.it, self.where = model, iter(it), where
        self.steps, self.steps_arg = steps, steps_arg      # steps: validated, positive
        self.exhausted = False
        self._peeked = []

    def build_model(self):
        """Build an unbuilt model from the first batch (kept for the first step)."""
        try:
            item = next(self.it)
        except StopIteration:
            raise ValueError(f"Model '{self.model.name}': {self.where}() got a generator that "
                             "yielded no batches. Pass data with at least one batch.") from None
        self._peeked.append(item)
        self.model._cast_inputs(_unpack(item, self.where, self.model.name)[0], self.where)

    def batches(self):
        for k in range(self.steps):
            try:
                item = self._peeked.pop() if self._peeked else next(self.it)
            except StopIteration:
                self.exhausted = True
                stops = ("; training stops here, as in Keras. Make the generator yield at "
                         "least steps_per_epoch x epochs batches (or loop forever)"
                         if self.steps_arg == "steps_per_epoch" else
                         "; make the generator yield that many batches each time")
                warnings.warn(f"Model '{self.model.name}': the generator ran out of data after "
                              f"{k} of {self.steps_arg}={self.steps} batches during "
                              f"{self.where}(){stops}.", RuntimeWarning, stacklevel=3)
                return
            yield self.model._adapt_batch(*_unpack(item, self.where, self.model.name),
                                          self.where)

    def end_epoch(self):
        pass

    def close(self):
        pass
