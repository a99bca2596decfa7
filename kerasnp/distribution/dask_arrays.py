"""`predict` and `evaluate` on `dask.array` inputs: computed blockwise where the data lives.

The model travels as bytes of kerasnp's own `.kerasnp` format (JSON and `.npy` members, read
back without pickle or code), as one key of the task graph: a Dask scheduler sends that key to
each worker once, and each worker process loads the model once (a cache keyed by the bytes'
SHA-256), then predicts every block it is given. Model objects are never pickled.
"""
import hashlib
import os
import tempfile
import threading

import numpy as np

_LOADED = {}                     # sha256 of the model bytes -> the model, in this process
_LOCK = threading.Lock()


def is_dask_array(x):
    """Whether `x` is a `dask.array.Array` (without importing dask for anything else)."""
    return type(x).__module__.startswith("dask.array") and hasattr(x, "chunks")


def model_bytes(model):
    """The model in kerasnp's format (`.kerasnp`), as bytes (weights only; no optimizer)."""
    from .. import saving
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.kerasnp")
        saving.save_model(model, path, include_optimizer=False)
        with open(path, "rb") as f:
            return f.read()


def _model_from(blob, digest):
    with _LOCK:
        model = _LOADED.get(digest)
        if model is None:
            from .. import saving
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "model.kerasnp")
                with open(path, "wb") as f:
                    f.write(blob)
                model = _LOADED[digest] = saving.load_model(path, compile=False)
        return model


def _predict_block(block, blob, digest, batch_size):
    model = _model_from(blob, digest)
    with _LOCK:                  # one model per process: its calls take turns
        return model.predict(np.asarray(block), batch_size=batch_size, verbose=0)


def predict(model, x, batch_size=None):
    """A lazy `dask.array` of the model's outputs, one block per row chunk of `x`.

    Args:
        model: a built single-input, single-output kerasnp model.
        x: a `dask.array.Array`, chunked along the batch axis (other axes are merged).
        batch_size: rows per forward pass inside each block (default 32).

    Example:
        >>> import numpy as np, dask.array as da, kerasnp as keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> out = model.predict(da.ones((10, 3), chunks=5))
        >>> out.chunks, out.compute().shape
        (((5, 5), (2,)), (10, 2))
    """
    import dask
    import dask.array as da
    if isinstance(model.output_shapes, list) and len(model.output_shapes) != 1 or \
            getattr(model, "_multi_input", False):
        raise NotImplementedError(f"Model '{model.name}': predict on a dask array needs a "
                                  "single-input, single-output model. Received: "
                                  f"{len(model.output_shapes)} outputs")
    if not model.built:
        model._cast_inputs(np.zeros((1,) + x.shape[1:], model._dtype()), "predict")
    if x.ndim > 1 and any(len(c) > 1 for c in x.chunks[1:]):
        x = x.rechunk({a: -1 for a in range(1, x.ndim)})    # whole samples in each block
    blob = model_bytes(model)
    digest = hashlib.sha256(blob).hexdigest()
    shipped = dask.delayed(blob, pure=True)                 # one graph key: once per worker
    out_tail = tuple(model.output_shapes[0][1:])
    dtype = model._dtype()
    bs = 32 if batch_size is None else int(batch_size)
    parts = [da.from_delayed(dask.delayed(_predict_block, pure=True)(b, shipped, digest, bs),
                             shape=(rows,) + out_tail, dtype=dtype)
             for b, rows in zip(x.to_delayed().ravel(), x.chunks[0])]
    return da.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]


def evaluate(model, x, y, sample_weight=None, batch_size=None):
    """The loss and metrics of `model` on dask arrays, as a logs dict of floats: the
    predictions are computed blockwise on the workers, the loss and the metrics here."""
    import dask
    from ..autodiff.tape import unwrap
    y_pred, y_true, sw = dask.compute(predict(model, x, batch_size), y, sample_weight)
    y_true = model._cast_targets(y_true, len(y_pred), "evaluate")
    sw = model._cast_weights(sw, len(y_pred), "evaluate")
    model._prepare_training()
    model._reset_metrics()
    bs = 32 if batch_size is None else int(batch_size)
    for lo in range(0, len(y_pred), bs):
        yb, pb = y_true[0][lo:lo + bs], y_pred[lo:lo + bs]
        swb = None if sw is None else sw[lo:lo + bs]
        loss, parts = model._loss_parts(yb, pb, swb)
        model._track_loss(float(unwrap(loss)), parts, len(pb))
        model.compute_metrics(None, yb, pb, swb)
    return {k: float(v) for k, v in model.get_metrics_result().items()}
