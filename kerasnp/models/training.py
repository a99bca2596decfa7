"""The training engine: compile, fit, evaluate, predict and the *_on_batch calls.

One engine drives every Model through the Keras loop: validate inputs once, shuffle an index array
(never the data), gather each batch into preallocated buffers, run the train step (forward, loss,
backward, optimizer step), update stateful metrics and hand a `logs` dict to the callbacks.
Inputs and targets are handled as lists (one array per model input / output); a single-input,
single-output model simply has lists of one.
"""
import math
import warnings

import numpy as np

from .. import _validate, losses, optimizers
from ..autodiff.tape import GradientTape, stop_recording, unwrap
from ..callbacks import CallbackList, History, ProgbarLogger
from ..errors import NonFiniteLossError
from .compile_utils import CompiledSpec
from ._loop_utils import _join, _SigintFlag, _values, _verbose
from .data_adapter import DataMixin
from .data_sources import ArraySource, is_stream

_INFER_CHUNK = 128   # samples per forward pass inside predict (cache-friendly size)


class TrainingMixin(DataMixin):
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
    def metrics(self):
        """The stateful metrics `fit` resets each epoch and reports: the loss tracker(s), the
        compiled metrics, then any `Metric` the model holds as an attribute (Keras tracks those
        too). Override it in a custom `train_step` model to list your own trackers."""
        out = self._spec.trackers() if self._spec is not None and self._spec.resolved else []
        seen = {id(m) for m in out}
        for v in self.__dict__.values():
            if _is_metric(v) and id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    # -- steps (override any of these, as in Keras's "customizing what happens in fit") ------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss of a batch: the compiled losses (weighted), plus `self.losses` (what
        `add_loss` added during the forward pass, and the weight regularization penalties).

        Returns a scalar; inside a `GradientTape` it is a tensor that `tape.gradient` takes."""
        total, _ = self._loss_parts(y, y_pred, sample_weight)
        return total

    def _loss_parts(self, y, y_pred, sample_weight):
        """(total loss, [weighted loss of each output]) as tape values."""
        spec = self._spec.resolve(self)
        total, parts = None, []
        if any(l is not None for l in spec.losses):
            ys = y if spec.multi else [y]
            preds = y_pred if spec.multi else [y_pred]
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for k, (loss, w) in enumerate(zip(spec.losses, spec.weights)):
                    if loss is None:
                        parts.append(None)
                        continue
                    value = losses.loss_node(loss, ys[k], preds[k], sample_weight)
                    if w != 1.0:
                        value = value * w
                    parts.append(value)
                    total = value if total is None else total + value
        for extra in self.losses:
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError(f"Model '{self.name}' has no loss to minimise: compile it with "
                             "loss=... or add losses in call() with self.add_loss(...).")
        return total, parts

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with a batch; return `get_metrics_result()`."""
        spec = self._spec.resolve(self)
        if spec.metrics and y is not None:
            ys = y if spec.multi else [y]
            preds = y_pred if spec.multi else [y_pred]
            for k, _, m in spec.metrics:
                m.update_state(ys[k], unwrap(preds[k]), sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """The current value of every metric in `self.metrics`, as a logs dict of floats."""
        spec = self._spec
        if spec is not None and spec.resolved and type(self).metrics is TrainingMixin.metrics:
            return {k: _number(v) for k, v in spec.logs().items()}
        out = {}
        for m in self.metrics:
            r = m.result()
            if isinstance(r, dict):
                out.update({k: _number(v) for k, v in r.items()})
            else:
                out[m.name] = _number(r)
        return out

    def train_step(self, data):
        """One training step on a batch `data` (`x`, `(x, y)` or `(x, y, sample_weight)`): the
        forward pass under a `GradientTape`, `compute_loss`, gradients, `optimizer.apply`,
        `compute_metrics`. Returns the logs dict."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        variables = self.trainable_variables
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            if type(self).compute_loss is TrainingMixin.compute_loss:
                loss, parts = self._loss_parts(y, y_pred, sample_weight)
            else:
                loss, parts = self.compute_loss(x=x, y=y, y_pred=y_pred,
                                                sample_weight=sample_weight), []
        value = _number(unwrap(loss))
        if not math.isfinite(value):
            return {"loss": value}             # fit stops before this batch changes weights
        grads = tape.gradient(loss, variables)
        self.optimizer.apply(grads, variables)
        self._track_loss(value, parts, _batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """One evaluation step on a batch (inference mode, no gradients). Returns the logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        if type(self).compute_loss is TrainingMixin.compute_loss:
            loss, parts = self._loss_parts(y, y_pred, sample_weight)
        else:
            loss, parts = self.compute_loss(x=x, y=y, y_pred=y_pred,
                                            sample_weight=sample_weight, training=False), []
        self._track_loss(_number(unwrap(loss)), parts, _batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch (`x`, or a tuple whose first item is `x`)."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _track_loss(self, value, parts, n):
        spec = self._spec
        if spec is None or not spec.resolved:
            return
        spec.loss_tracker.update_state(value, sample_weight=n)
        for tracker, part in zip(spec.output_trackers, parts):
            if part is not None:
                tracker.update_state(_number(unwrap(part)), sample_weight=n)

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
            class_weight: dict mapping class index -> weight of its samples in the loss.
            sample_weight: per-sample loss weights, shape `(n,)`.
            initial_epoch: epoch to start from (for resuming).
        Returns:
            `History` with `history.history` (per-epoch `loss`, metrics and `val_*` values).
        """
        self._require_compiled("fit")
        batch_size = 32 if batch_size is None else _validate.positive_int(batch_size, "batch_size",
                                                                          "fit()")
        epochs = _validate.non_negative_int(epochs, "epochs", "fit()")
        initial_epoch = _validate.non_negative_int(initial_epoch, "initial_epoch", "fit()")
        verbose = _verbose(verbose)
        validation_split = _validate.number(validation_split, "validation_split", "fit()",
                                            low=0.0, high=1.0, high_open=True)
        if validation_split > 0 and validation_data is None:
            if is_stream(x):
                raise ValueError("validation_split needs arrays; with a dataset or generator "
                                 "pass validation_data instead.")
            xs, ys, sw = self._prepare_data(x, y, sample_weight, class_weight, "fit")
            n = len(xs[0])
            cut = int(n * (1.0 - validation_split))
            if cut == 0 or cut == n:
                raise ValueError(f"validation_split={validation_split} leaves no training or no "
                                 f"validation samples out of {n}.")
            val = ArraySource(self, [a[cut:] for a in xs], [t[cut:] for t in ys],
                              None if sw is None else sw[cut:],
                              validation_batch_size or batch_size, False)
            train = ArraySource(self, [a[:cut] for a in xs], [t[:cut] for t in ys],
                                None if sw is None else sw[:cut], batch_size, shuffle)
        else:
            train = self._make_source(x, y, sample_weight, class_weight, batch_size, shuffle,
                                      steps_per_epoch, "fit", "steps_per_epoch")
            val = None
            if validation_data is not None:
                if is_stream(validation_data):
                    val = self._make_source(validation_data, None, None, None, None, False,
                                            validation_steps, "fit", "validation_steps")
                elif (isinstance(validation_data, (tuple, list))
                      and len(validation_data) in (2, 3)):
                    val = self._make_source(validation_data[0], validation_data[1],
                                            validation_data[2] if len(validation_data) == 3
                                            else None, None,
                                            validation_batch_size or batch_size, False,
                                            validation_steps, "fit", "validation_steps")
                else:
                    raise ValueError(
                        "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                        "sample_weight_val), a PyDataset or a generator. Received: "
                        f"{type(validation_data).__name__}")
        train.build_model()
        steps = train.steps
        history = History()
        cbs = _callback_list(callbacks)
        if verbose:
            cbs.append(ProgbarLogger(verbose))
        cbs.append(history)
        cbl = CallbackList(cbs, self, {"verbose": verbose, "epochs": epochs, "steps": steps,
                                       "mode": "fit"})
        self.stop_training = False
        self._prepare_training()
        interrupted = _SigintFlag()
        logs = {}
        self._resume_state = None
        cbl.on_train_begin({})
        if self._resume_state is not None:
            # A callback (BackupAndRestore) restored a checkpoint in on_train_begin: continue
            # from its epoch with its history, so the History reads as one uninterrupted run.
            epoch0, past = self._resume_state
            initial_epoch = max(initial_epoch, epoch0)
            history.history = {k: list(v) for k, v in past.items()}
            history.epoch = list(range(initial_epoch))
            self._resume_state = None
        quiet_nan = any(getattr(cb, "stops_on_nan", False) for cb in cbs)
        loss = 0.0
        try:
            with interrupted:
                for epoch in range(initial_epoch, epochs):
                    self._reset_metrics()
                    cbl.on_epoch_begin(epoch, {})
                    for step, (xb, yb, swb) in enumerate(train.batches()):
                        cbl.on_train_batch_begin(step, {})
                        logs = self.train_step(pack_x_y_sample_weight(
                            self._arg(xb), self._yarg(yb), swb))
                        loss = _number(logs.get("loss", 0.0)) if isinstance(logs, dict) else 0.0
                        if not isinstance(loss, float):
                            loss = 0.0
                        if not math.isfinite(loss) and quiet_nan:
                            print(f"Epoch {epoch + 1}, batch {step + 1}: invalid loss {loss}, "
                                  "terminating training (weights from before this batch kept).")
                            self.stop_training = True
                            break
                        if not math.isfinite(loss):
                            raise NonFiniteLossError(
                                f"Model '{self.name}': the loss became {loss} at epoch "
                                f"{epoch + 1}, batch {step + 1} (of {steps}); training stopped "
                                "before that batch changed the weights. Try a lower learning "
                                "rate, clipnorm=1.0, or check the data for extreme values.")
                        cbl.on_train_batch_end(step, _float_logs(logs))
                        if interrupted.flag or self.stop_training:
                            break
                    train.end_epoch()
                    if not math.isfinite(loss):     # TerminateOnNaN stopped mid-epoch
                        break
                    if interrupted.flag:
                        warnings.warn(f"Training interrupted (Ctrl-C) at epoch {epoch + 1}, "
                                      f"batch {step + 1}; the weights trained so far are kept.",
                                      RuntimeWarning, stacklevel=2)
                        break
                    logs = _float_logs(self.get_metrics_result() if _default_logs(self)
                                       else logs)
                    if val is not None and (epoch + 1) % validation_freq == 0:
                        cbl.on_test_begin({})
                        vlogs = self._test_loop(val, cbl)
                        cbl.on_test_end(vlogs)
                        logs.update({"val_" + k: v for k, v in vlogs.items()})
                    cbl.on_epoch_end(epoch, logs)
                    if self.stop_training:
                        break
        finally:
            train.close()
            if val is not None:
                val.close()
            cbl.on_train_end(logs)
        return history

    # -- evaluate / predict -----------------------------------------------------------------
    def _test_loop(self, source, cbl=None):
        self._reset_metrics()
        logs = {}
        for step, (xb, yb, swb) in enumerate(source.batches()):
            if cbl is not None:
                cbl.on_test_batch_begin(step, {})
            logs = self.test_step(pack_x_y_sample_weight(self._arg(xb), self._yarg(yb), swb))
            if cbl is not None:
                cbl.on_test_batch_end(step, _float_logs(logs))
        source.end_epoch()
        return _float_logs(self.get_metrics_result() if _default_logs(self) else logs)

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
        batch_size = 32 if batch_size is None else _validate.positive_int(
            batch_size, "batch_size", "evaluate()")
        verbose = _verbose(verbose)
        source = self._make_source(x, y, sample_weight, None, batch_size, False, steps,
                                   "evaluate")
        source.build_model()
        self._prepare_training()
        cbs = _callback_list(callbacks) + ([ProgbarLogger(verbose)] if verbose else [])
        cbl = CallbackList(cbs, self, {"verbose": verbose, "epochs": 1, "mode": "test",
                                       "steps": source.steps})
        cbl.on_test_begin({})
        try:
            logs = self._test_loop(source, cbl)
        finally:
            source.close()
        cbl.on_test_end(logs)
        return logs if return_dict else _values(logs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for `x`, computed in batches (inference mode: no dropout)."""
        batch_size = 32 if batch_size is None else _validate.positive_int(
            batch_size, "batch_size", "predict()")
        verbose = _verbose(verbose)
        source = self._make_source(x, None, None, None, batch_size, False, steps, "predict")
        source.build_model()
        cbs = _callback_list(callbacks) + ([ProgbarLogger(verbose)] if verbose else [])
        cbl = CallbackList(cbs, self, {"verbose": verbose, "epochs": 1, "steps": source.steps,
                                       "mode": "predict"})
        cbl.on_predict_begin({})
        parts = []
        # Inference is per sample, so a large batch runs through the network in chunks that
        # keep activations and im2col matrices in cache (same results, faster); a user's own
        # predict_step gets whole batches.
        chunk = _INFER_CHUNK if type(self).predict_step is TrainingMixin.predict_step else None
        try:
            for step, (xb, _, _) in enumerate(source.batches()):
                cbl.on_predict_batch_begin(step, {})
                n = len(xb[0])
                size = chunk or max(n, 1)
                with stop_recording():
                    chunks = [self.predict_step((self._arg([a[c:c + size] for a in xb]),))
                              for c in range(0, n, size)]
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
        else:
            outs = [np.concatenate(p) if len(p) > 1 else p[0] for p in zip(*parts)]
        return outs if self._multi_output else outs[0]

    # -- on-batch API -----------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on one batch; returns the loss (and metrics) of that batch."""
        self._require_compiled("train_on_batch")
        xs, ys, sw = self._prepare_data(x, y, sample_weight, class_weight, "train_on_batch")
        self._prepare_training()
        self._reset_metrics()
        logs = self.train_step(pack_x_y_sample_weight(self._arg(xs), self._yarg(ys), sw))
        loss = _number(logs.get("loss", 0.0))
        if isinstance(loss, float) and not math.isfinite(loss):
            raise NonFiniteLossError(f"Model '{self.name}': the loss became {loss} in "
                                     "train_on_batch; the weights were not changed.")
        logs = _float_logs(self.get_metrics_result() if _default_logs(self) else logs)
        return logs if return_dict else _values(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, without training."""
        self._require_compiled("test_on_batch")
        xs, ys, sw = self._prepare_data(x, y, sample_weight, None, "test_on_batch")
        self._prepare_training()
        logs = self._test_loop(ArraySource(self, xs, ys, sw, max(len(xs[0]), 1), False))
        return logs if return_dict else _values(logs)

    def predict_on_batch(self, x):
        """Model outputs for one batch."""
        return self.forward(self._arg(self._cast_inputs(x, "predict_on_batch")), training=False)

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


def _float_logs(logs):
    """A logs dict whose values are Python floats where they are numbers (never None)."""
    if not isinstance(logs, dict):
        return {}
    return {k: _number(v) for k, v in logs.items()}


def _default_logs(model):
    """Whether the model reports the engine's own metrics (no train/test_step override that
    returns logs of its own making)."""
    return (type(model).train_step is TrainingMixin.train_step
            and type(model).test_step is TrainingMixin.test_step)


def unpack_x_y_sample_weight(data):
    """`x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)` -> `(x, y, sample_weight)` (Keras's
    `keras.utils.unpack_x_y_sample_weight`)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError("Data of a step must be x, (x,), (x, y) or (x, y, sample_weight). "
                     f"Received: a tuple of {len(data)} items")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse of `unpack_x_y_sample_weight`: the shortest tuple that holds the parts."""
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _number(v):
    """A metric or loss value as a Python float (0-d arrays and tensors included)."""
    v = unwrap(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def _batch_size(x):
    first = x
    while isinstance(first, (list, tuple)):
        first = first[0]
    if isinstance(first, dict):
        first = next(iter(first.values()))
    return len(unwrap(first))


def _is_metric(v):
    return (hasattr(v, "update_state") and hasattr(v, "result") and hasattr(v, "reset_state")
            and not isinstance(v, type))

