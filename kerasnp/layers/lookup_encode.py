"""Helpers shared by the lookup layers and TextVectorization: index encodings, IDF weights,
the batches `adapt()` reads, the refusal of sparse/ragged outputs."""
import numpy as np

from .. import _validate
from ..autodiff.tape import unwrap
from .preprocessing_adapt import iter_batches


def encode_rows(rows, depth, output_mode, idf, dtype, row_ids=None, num_rows=None):
    """Encode index rows into `(num_rows, depth)` vectors.

    Args:
        rows: a 2-D int array (one row per sample), or a flat int array with `row_ids` giving
            each entry's row (ragged rows, e.g. tokenised text).
        depth: length of the encoded vectors; indices outside `[0, depth)` (masked inputs,
            tokens beyond a padded vocabulary) are dropped, as Keras's bincount drops them.
        output_mode: "one_hot" / "multi_hot" (1 where an index occurs), "count" (occurrences),
            "tf_idf" (occurrences times `idf`).
        idf: float array of length `depth` ("tf_idf" only).
        dtype: dtype of the result.
    """
    if row_ids is None:
        num_rows, width = rows.shape
        row_ids = np.repeat(np.arange(num_rows, dtype=np.int64), width)
        flat = rows.reshape(-1)
    else:
        flat = rows
    keep = (flat >= 0) & (flat < depth)
    cells = row_ids[keep] * depth + flat[keep]
    if output_mode in ("one_hot", "multi_hot"):
        out = np.zeros(num_rows * depth, dtype=dtype)
        out[cells] = 1
        return out.reshape(num_rows, depth)
    out = np.bincount(cells, minlength=num_rows * depth).astype(dtype).reshape(num_rows, depth)
    if output_mode == "tf_idf":
        out *= np.asarray(idf, dtype=dtype)         # tf-idf = count · idf (Keras)
    return out


def idf_from_counts(document_counts, num_documents):
    """Keras's inverse document frequency: `log(1 + num_documents / (1 + document_count))`."""
    df = np.asarray(document_counts, dtype=np.float64)
    return np.log1p(num_documents / (1.0 + df))


def adapt_batches(owner, data, batch_size, steps, expand=False):
    """The batches `adapt()` reads: chunks of an array or list (a 1-D one made `(n, 1)` when
    `expand`, so that each element is a document), or the batches of a dataset / iterable (the
    first element of `(x, y, ...)` tuples; a list of tokens is a batch, not a tuple)."""
    if isinstance(data, (list, tuple, np.ndarray)):
        arr = data if isinstance(data, np.ndarray) else np.asarray(unwrap(data), dtype=object)
        if expand and arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        yield from iter_batches(owner, arr, batch_size, steps)
        return
    if hasattr(data, "__len__") and hasattr(data, "__getitem__") and not hasattr(data, "__iter__"):
        yield from iter_batches(owner, data, batch_size, steps)
        return
    if batch_size is not None:
        raise ValueError(f"{_validate.describe(owner)}.adapt(): `batch_size` applies only to "
                         f"arrays; {type(data).__name__} is already batched. "
                         f"Received: batch_size={batch_size!r}")
    if not hasattr(data, "__iter__") and not hasattr(data, "__getitem__"):
        raise TypeError(f"{_validate.describe(owner)}.adapt() expects an array or list of tokens, "
                        "or a dataset / iterable of batches. Received: data of type "
                        f"{type(data).__name__}")
    items = iter(data) if hasattr(data, "__iter__") else (data[i] for i in range(len(data)))
    for step, item in enumerate(items):
        if steps is not None and step >= steps:
            break
        if isinstance(item, tuple):        # (x, y, ...): Keras adapts on x; a list is data
            item = item[0]
        yield item


def refuse_sparse(layer, sparse, what="sparse"):
    """kerasnp outputs dense NumPy arrays only: `sparse=True` / `ragged=True` are refused."""
    if sparse is not False and sparse is not None and sparse != 0:
        raise ValueError(f"{_validate.describe(layer)}: `{what}=True` is not supported; kerasnp "
                         f"returns dense NumPy arrays (pad with output_sequence_length or "
                         f"kerasnp.utils.pad_sequences instead). Received: {what}={sparse!r}")
