"""The data `Normalization.adapt` accepts, served as a stream of input batches.

Arrays (memory-mapped ones included) are read in chunks, so `adapt` never holds more than one
chunk in float64; batched data (a `PyDataset`, anything with `__len__`/`__getitem__`, or an
iterator) is read batch by batch, keeping the first element of `(x, y, ...)` tuples.
"""
import numpy as np

from .. import _validate

_ADAPT_CHUNK = 1 << 20   # values per chunk when adapt() streams an array


def iter_batches(owner, data, batch_size, steps):
    """Yield input batches (the first element of tuple batches) from any supported `data`."""
    if isinstance(data, (np.ndarray, list)) or np.isscalar(data):
        arr = data if isinstance(data, np.ndarray) else np.asarray(data)
        if arr.ndim == 0:
            raise ValueError(f"{_validate.describe(owner)}.adapt() needs a batch of samples, "
                             f"not a scalar. Received: data={data!r}")
        if batch_size is None:
            row = max(1, int(np.prod(arr.shape[1:], dtype=np.int64)))
            batch_size = max(1, _ADAPT_CHUNK // row)
        batch_size = _validate.positive_int(batch_size, "batch_size", owner)
        starts = range(0, len(arr), batch_size)
        for start in starts if steps is None else starts[:steps]:
            yield arr[start:start + batch_size]
        return
    if batch_size is not None:
        raise ValueError(f"{_validate.describe(owner)}.adapt(): `batch_size` applies only to "
                         f"array data; {type(data).__name__} is already batched. "
                         f"Received: batch_size={batch_size!r}")
    if hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        count = len(data) if steps is None else steps
        if count > len(data):
            raise ValueError(f"{_validate.describe(owner)}.adapt(): `steps` is more than the "
                             f"{len(data)} batches of the data. Received: steps={steps}")
        items = (data[i] for i in range(count))
    elif hasattr(data, "__iter__"):
        items = iter(data)
    else:
        raise TypeError(f"{_validate.describe(owner)}.adapt() expects a NumPy array, a PyDataset "
                        f"(or any object with __len__ and __getitem__), or an iterator of "
                        f"batches. Received: data={type(data).__name__}")
    for step, item in enumerate(items):
        if steps is not None and step >= steps:
            break
        yield item[0] if isinstance(item, (tuple, list)) else item
