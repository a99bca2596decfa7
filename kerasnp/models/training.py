"""The training engine: compile, fit, evaluate, predict and the *_on_batch calls.

One engine drives every Model through the Keras loop: validate inputs once, shuffle an index array
(never the data), gather each batch into preallocated buffers, run the train step (forward, loss,
backward, optimizer step), update stateful metrics and hand a `logs` dict to the callbacks.
Inputs and targets are handled as lists (one array per model input / output); a single-input,
single-output model simply has lists of one.
"""
import math

import numpy as np

from .. import _validate, losses, optimizers
from ..autodiff.tape import stop_recording, unwrap
from ..callbacks import CallbackList, History, ProgbarLogger
from ..distribution import _state as _distributed
from ..errors import NonFiniteLossError
from .compile_utils import CompiledSpec
from ._loop_utils import _join, _values, _verbose, thread_region
from .epoch_iterator import EpochIterator, float_logs
from .data_adapter import DataMixin
from .steps import StepsMixin, _number, pack_x_y_sample_weight
from .data_sources import ArraySource

_INFER_CHUNK = 128   # samples per forward pass inside predict (cache-friendly size)


class TrainingMixin(StepsMixin, DataMixin):
    """compile/fit/evaluate/predict for `Model` (state lives on the model)."""

    def __init__(self):
        self.optimizer = None
        self.compiled = False
        self.history = None
        self.stop_training = False
        self._spec = None

    # -- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1, jit_compile="auto"):
        """Configure training: optimizer, loss and metrics (names or objects, as in Keras).

        Args:
            optimizer: name (`"adam"`) or `kerasnp.optimizers.Optimizer` instance.
            loss: name (`"categorical_crossentropy"`), `kerasnp.losses.Loss` or callable; for a
                model with several outputs, one loss for all, a list, or a dict keyed by output
                layer name.
            metrics: list of names or `kerasnp.metrics.Metric` objects (`"accuracy"` is resolved
                from the loss); for several outputs, a list per output or a dict.
            loss_weights: a float, or per output a list or dict, scaling each output's loss.
        """
        self.optimizer = optimizers.get(optimizer)
        if self.optimizer is None:
            raise ValueError(f"Model '{self.name}': compile() needs an optimizer. "
                             "Received: optimizer=None")
        try:
            self._spec = CompiledSpec(loss, loss_weights, _join(metrics, weighted_metrics))
        except ValueError as err:
            raise ValueError(f"Model '{self.name}': {err}") from None
        self.compiled = True

    @property
    def loss(self):
        """The loss of a single-output model (a list of losses for several outputs)."""
        if self._spec is None:
            return None
        if not self._spec.resolved:
            raw = self._spec.raw[0]
            return losses.get(raw) if not isinstance(raw, (list, dict, tuple)) else raw
        return self._spec.losses if self._spec.multi else self._spec.losses[0]

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"Model '{self.name}' must be compiled before {what}(): call "
                               "model.compile(optimizer=..., loss=...) first.")

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def _reset_metrics(self):
        if self._spec is not None:
            self._spec.resolve(self)
        for m in self.metrics:
            m.reset_state()

    def _prepare_training(self):
        return self._spec.resolve(self)

    # -- fit --------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train the model for `epochs` passes over `(x, y)`; returns a `History`.

        Args:
            x, y: NumPy arrays of inputs and targets (same number of samples); for several
                inputs or outputs, lists in model order or dicts keyed by layer name.
            batch_size: samples per gradient step (default 32).
            epochs: index of the last epoch (training runs from `initial_epoch` to `epochs`).
            verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch, "auto" = 1.
            callbacks: list of `kerasnp.callbacks.Callback`.
            validation_split: fraction of the data (taken from the end, before shuffling) held out
                for validation.
            validation_data: `(x_val, y_val)` or `(x_val, y_val, sample_weight_val)`.
            shuffle: shuffle the sample order each epoch.
            class_weight: dict mapping class index (0 to classes - 1) -> weight (a finite
                number >= 0) of its samples in the loss; classes left out weigh 1.
            sample_weight: per-sample loss weights, shape `(n,)`.
            initial_epoch: epoch to start from (for resuming).
            steps_per_epoch, validation_steps: batches per epoch of a generator (positive int).
            validation_freq: validate every `validation_freq`-th epoch (positive int).
        Returns:
            `History` with `history.history` (per-epoch `loss`, metrics and `val_*` values).
        """
        self._require_compiled("fit")
        batch_size = 32 if batch_size is None else _validate.positive_int(batch_size, "batch_size",
                                                                          "fit()")
        epochs = _validate.non_negative_int(epochs, "epochs", "fit()")
        initial_epoch = _validate.non_negative_int(initial_epoch, "initial_epoch", "fit()")
        validation_freq = _validate.positive_int(validation_freq, "validation_freq", "fit()")
        verbose = _verbose(verbose)
        train, val = self._fit_sources(x, y, sample_weight, class_weight, batch_size, shuffle,
                                       steps_per_epoch, validation_split, validation_data,
                                       validation_steps, validation_batch_size)
        dist = _distributed.active
        if dist is not None:         # each process trains and validates on its shards
            train = dist.shard(self, train, True)
            val = None if val is None else dist.shard(self, val, False)
            verbose = verbose if dist.is_chief else 0
        train.build_model()
        history = History()
        cbs = _with_progbar(_callback_list(callbacks), verbose)
        cbs.append(history)
        cbl = CallbackList(cbs, self, {"verbose": verbose, "epochs": epochs,
                                       "steps": train.steps, "mode": "fit"})
        self._prepare_training()
        quiet_nan = any(getattr(cb, "stops_on_nan", False) for cb in cbs)
        try:
            with EpochIterator(self, train, cbl, history, initial_epoch, epochs,
                               quiet_nan) as loop, thread_region(self):
                for epoch in loop.epochs():
                    for step, data in loop.batches():
                        loop.batch_end(step, loop.train_step(data))
                    if not loop.epoch_ends:
                        break
                    logs = loop.epoch_logs(self.get_metrics_result() if _default_logs(self)
                                           else loop.logs)
                    if val is not None and (epoch + 1) % validation_freq == 0:
                        cbl.on_test_begin({})
                        vlogs = self._test_loop(val, cbl, "validation_data")
                        cbl.on_test_end(vlogs)
                        logs.update({"val_" + k: v for k, v in vlogs.items()})
                    loop.logs = logs
                    cbl.on_epoch_end(epoch, logs)
                    if dist is not None:     # EarlyStopping & co. decide alike everywhere
                        dist.agree_stop(self)
                # As Keras, before on_train_end: with use_ema the model ends training holding
                # the moving averages (no-op otherwise). Not after Ctrl-C, whose message promises
                # the weights trained so far.
                finalize = getattr(self.optimizer, "finalize_variable_values", None)
                if epochs > 0 and finalize is not None and not loop._interrupted.flag:
                    finalize(self.trainable_weights)
        finally:
            if val is not None:
                val.close()
        return history

    # -- evaluate / predict -----------------------------------------------------------------
    def _test_loop(self, source, cbl=None, label="x"):
        self._reset_metrics()
        logs = None
        for step, (xb, yb, swb) in enumerate(source.batches()):
            if cbl is not None:
                cbl.on_test_batch_begin(step, {})
            logs = self.test_step(pack_x_y_sample_weight(self._arg(xb), self._yarg(yb), swb))
            if cbl is not None:
                cbl.on_test_batch_end(step, float_logs(logs))
        source.end_epoch()                      # a sharded source sums metrics over processes
        # a generator that ran out: no made-up zeros (a process may own no rows of a batch)
        if logs is None and not getattr(source, "sharded", False):
            raise ValueError(f"Model '{self.name}': {label} gave no batches to evaluate (a "
                             "generator that ran out of data).")
        return float_logs(self.get_metrics_result() if _default_logs(self) else logs)

    def _yarg(self, ys):
        if ys is None:
            return None
        return ys if self._multi_output else ys[0]

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics on `(x, y)`.

        Returns:
            the loss (a float) when there are no metrics, else `[loss, metric1, ...]`, or a dict
            `{"loss": ..., "accuracy": ...}` with `return_dict=True`.
        """
        self._require_compiled("evaluate")
        if type(x).__module__.startswith("dask.array"):     # predictions on the workers
            from ..distribution import dask_arrays
            logs = dask_arrays.evaluate(self, x, y, sample_weight, batch_size)
            return logs if return_dict else _values(logs)
        batch_size = 32 if batch_size is None else _validate.positive_int(
            batch_size, "batch_size", "evaluate()")
        verbose = _verbose(verbose)
        source = self._make_source(x, y, sample_weight, None, batch_size, False, steps,
                                   "evaluate")
        if _distributed.active is not None:
            source = _distributed.active.shard(self, source, False)
            verbose = verbose if _distributed.active.is_chief else 0
        source.build_model()
        self._prepare_training()
        cbs = _with_progbar(_callback_list(callbacks), verbose)
        cbl = CallbackList(cbs, self, {"verbose": verbose, "epochs": 1, "mode": "test",
                                       "steps": source.steps})
        cbl.on_test_begin({})
        try:
            with thread_region(self):
                logs = self._test_loop(source, cbl)
        finally:
            source.close()
        cbl.on_test_end(logs)
        return logs if return_dict else _values(logs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for `x`, computed in batches (inference mode: no dropout). For a
        `dask.array` `x` (chunked along the batch axis): a lazy dask array computed blockwise
        on the workers (`kerasnp.distribution.dask_arrays.predict`)."""
        if type(x).__module__.startswith("dask.array"):
            from ..distribution import dask_arrays
            return dask_arrays.predict(self, x, batch_size)
        if _distributed.active is not None:     # each process predicts a part; all get all
            return _distributed.active.predict(self, x, batch_size=batch_size,
                                               verbose=verbose, steps=steps,
                                               callbacks=callbacks)
        batch_size = 32 if batch_size is None else _validate.positive_int(
            batch_size, "batch_size", "predict()")
        verbose = _verbose(verbose)
        source = self._make_source(x, None, None, None, batch_size, False, steps, "predict")
        source.build_model()
        cbs = _with_progbar(_callback_list(callbacks), verbose)
        cbl = CallbackList(cbs, self, {"verbose": verbose, "epochs": 1, "steps": source.steps,
                                       "mode": "predict"})
        cbl.on_predict_begin({})
        parts = []
        # Inference is per sample, so a large batch runs through the network in chunks that
        # keep activations and im2col matrices in cache (same results, faster); a user's own
        # predict_step gets whole batches.
        chunk = _INFER_CHUNK if type(self).predict_step is TrainingMixin.predict_step else None
        try:
            with thread_region(self):
                for step, (xb, _, _) in enumerate(source.batches()):
                    cbl.on_predict_batch_begin(step, {})
                    n = len(xb[0])
                    size = chunk or max(n, 1)
                    with stop_recording():
                        chunks = [self.predict_step((self._arg([a[c:c + size] for a in xb]),))
                                  for c in range(0, n, size)]
                    listed = (isinstance(chunks[0], (list, tuple)) if chunks
                              else self._multi_output)
                    chunks = [[unwrap(o) for o in c] if isinstance(c, (list, tuple))
                              else [unwrap(c)] for c in chunks]
                    batch = [np.concatenate(p) if len(p) > 1 else p[0] for p in zip(*chunks)]
                    parts.append(batch)
                    cbl.on_predict_batch_end(step, {"outputs": batch})
        finally:
            source.close()
        cbl.on_predict_end({})
        if not parts:
            outs = [np.empty((0,) + tuple(s[1:]), self._dtype()) for s in self.output_shapes]
            listed = self._multi_output
        else:
            outs = [np.concatenate(p) if len(p) > 1 else p[0] for p in zip(*parts)]
        # As Keras: the structure predict_step returns (a list stays a list).
        return outs if listed else outs[0]

    # -- on-batch API -----------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on one batch; returns the loss (and metrics) of that batch."""
        self._require_compiled("train_on_batch")
        xs, ys, sw = self._prepare_data(x, y, sample_weight, class_weight, "train_on_batch")
        self._prepare_training()
        self._reset_metrics()
        with thread_region(self):
            logs = self.train_step(pack_x_y_sample_weight(self._arg(xs), self._yarg(ys), sw))
        loss = _number(logs.get("loss", 0.0))
        if isinstance(loss, float) and not math.isfinite(loss):
            raise NonFiniteLossError(f"Model '{self.name}': the loss became {loss} in "
                                     "train_on_batch; the weights were not changed.")
        logs = float_logs(self.get_metrics_result() if _default_logs(self) else logs)
        return logs if return_dict else _values(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, without training."""
        self._require_compiled("test_on_batch")
        xs, ys, sw = self._prepare_data(x, y, sample_weight, None, "test_on_batch")
        self._prepare_training()
        with thread_region(self):
            logs = self._test_loop(ArraySource(self, xs, ys, sw, max(len(xs[0]), 1), False))
        return logs if return_dict else _values(logs)

    def predict_on_batch(self, x):
        """Model outputs for one batch."""
        with thread_region(self):
            return self.forward(self._arg(self._cast_inputs(x, "predict_on_batch")),
                                training=False)

    # -- resume (public hooks for callbacks such as BackupAndRestore) ------------------------
    def resume_training_from(self, epoch, history=None):
        """Continue the `fit` in progress from `epoch` (number of epochs already done), with the
        History of those epochs. Call it from a callback's `on_train_begin`, after restoring the
        weights and optimizer state (BackupAndRestore does)."""
        self._resume_state = (int(epoch), dict(history or {}))


def _callback_list(callbacks):
    """`callbacks=` as Keras takes it: None, one callback, or a list of them."""
    if callbacks is None:
        return []
    if isinstance(callbacks, (list, tuple)):
        return list(callbacks)
    return [callbacks]


def _with_progbar(cbs, verbose):
    """The callbacks plus the progress output, as Keras adds it: none at verbose=0, and none
    when the user passed a ProgbarLogger of their own."""
    if verbose and not any(isinstance(cb, ProgbarLogger) for cb in cbs):
        cbs.append(ProgbarLogger(verbose))
    return cbs


def _default_logs(model):
    """Whether the model reports the engine's own metrics (no train/test_step override that
    returns logs of its own making)."""
    return (type(model).train_step is TrainingMixin.train_step
            and type(model).test_step is TrainingMixin.test_step)
