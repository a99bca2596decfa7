"""The training engine: compile, fit, evaluate, predict and the *_on_batch calls.

One engine drives every Model through the Keras loop: validate inputs once, shuffle an index array
(never the data), gather each batch into a preallocated buffer, run the train step (forward, loss,
backward, optimizer step), update stateful metrics and hand a `logs` dict to the callbacks.
"""
import math
import signal
import threading
import warnings

import numpy as np

from .. import _validate, config, losses, metrics as metrics_mod, optimizers
from ..callbacks import CallbackList, History, ProgbarLogger
from ..errors import NonFiniteLossError


class TrainingMixin:
    """compile/fit/evaluate/predict for `Model` (state lives on the model)."""

    def __init__(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.history = None
        self.stop_training = False
        self._compile_metrics = []
        self._metrics = None
        self._loss_tracker = None

    # -- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1, jit_compile="auto"):
        """Configure training: optimizer, loss and metrics (names or objects, as in Keras).

        Args:
            optimizer: name (`"adam"`) or `kerasnp.optimizers.Optimizer` instance.
            loss: name (`"categorical_crossentropy"`), `kerasnp.losses.Loss` or callable.
            metrics: list of names or `kerasnp.metrics.Metric` objects. `"accuracy"` is resolved
                from the loss (binary, categorical or sparse categorical accuracy).
            loss_weights: a float (or one-element list/dict) scaling the loss.
        """
        self.optimizer = optimizers.get(optimizer)
        if self.optimizer is None:
            raise ValueError(f"Model '{self.name}': compile() needs an optimizer. "
                             "Received: optimizer=None")
        self.loss = losses.get(loss)
        if self.loss is None:
            raise ValueError(f"Model '{self.name}': compile() needs a loss, e.g. "
                             "loss='mse' or loss='sparse_categorical_crossentropy'. "
                             "Received: loss=None")
        if isinstance(metrics, (str, metrics_mod.Metric)) or callable(metrics):
            metrics = [metrics]
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise TypeError(f"Model '{self.name}': metrics must be a list of names or Metric "
                            f"objects. Received: metrics={metrics!r}")
        self._compile_metrics = list(metrics or []) + list(weighted_metrics or [])
        if isinstance(loss_weights, dict):
            loss_weights = list(loss_weights.values())
        if isinstance(loss_weights, (list, tuple)):
            if len(loss_weights) != 1:
                raise ValueError(f"Model '{self.name}' has one output, so loss_weights takes one "
                                 f"value. Received: loss_weights={loss_weights!r}")
            loss_weights = loss_weights[0]
        self.loss_weights = (1.0 if loss_weights is None
                             else _validate.number(loss_weights, "loss_weights", self, low=0.0))
        self._metrics = None
        self._loss_tracker = metrics_mod.Mean(name="loss")
        self.compiled = True

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"Model '{self.name}' must be compiled before {what}(): call "
                               "model.compile(optimizer=..., loss=...) first.")

    def _resolve_metrics(self):
        if self._metrics is None:
            self._metrics = [metrics_mod.get(m, loss=self.loss, output_shape=self.output_shape)
                             for m in self._compile_metrics]
        return self._metrics

    @property
    def metrics(self):
        """The loss tracker and the compiled metrics (stateful objects)."""
        return ([self._loss_tracker] if self._loss_tracker else []) + list(self._metrics or [])

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    # -- data -------------------------------------------------------------------------------
    def _dtype(self):
        ws = self._all_weights() if self.built else []
        return ws[0].value.dtype if ws else np.dtype(config.floatx())

    def _cast_inputs(self, x, where="predict"):
        if isinstance(x, (list, tuple)) and not self._multi_input:
            x = np.asarray(x)
        if not isinstance(x, np.ndarray):
            try:
                x = np.asarray(x)
            except Exception:
                raise TypeError(f"Model '{self.name}': {where}() expects x as a NumPy array. "
                                f"Received: x of type {type(x).__name__}") from None
        if x.dtype.kind not in "fiub":
            raise TypeError(f"Model '{self.name}': {where}() expects numeric x. "
                            f"Received: x with dtype {x.dtype}")
        if x.ndim == 0:
            raise ValueError(f"Model '{self.name}': {where}() expects a batch of samples, "
                             f"received a scalar x={x!r}.")
        if not self.built:
            self.build((None,) + x.shape[1:])
        expected = self.input_spec_shape
        if len(expected) != x.ndim or any(e is not None and e != d
                                          for e, d in zip(expected[1:], x.shape[1:])):
            first = next((l for l in self.layers if type(l).__name__ != "InputLayer"), None)
            who = (f"Layer '{first.name}' ({type(first).__name__})" if first is not None
                   else f"Model '{self.name}'")
            raise ValueError(f"{who} expected input of shape {expected} (batch first), received "
                             f"shape {x.shape}.")
        dtype = self._dtype()
        if x.dtype != dtype:
            x = x.astype(dtype)
        x = np.ascontiguousarray(x)
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            bad = np.argwhere(~np.isfinite(x))[0]
            raise ValueError(f"Model '{self.name}': {where}() received non-finite input "
                             f"(NaN or inf), first at x[{', '.join(map(str, bad))}]. Clean or "
                             "impute the data first.")
        return x

    def _cast_targets(self, y, n, where):
        if y is None:
            raise ValueError(f"Model '{self.name}': {where}() needs targets y. Received: y=None")
        y = np.asarray(y)
        if y.ndim == 0 or len(y) != n:
            raise ValueError(f"Model '{self.name}': x and y must have the same number of "
                             f"samples. Received: {n} samples in x, y.shape={y.shape}")
        y = self.loss.check_targets(y, self.output_shape)
        if y.dtype.kind in "fiub" and y.ndim == len(self.output_shape) and y.dtype != self._dtype():
            y = y.astype(self._dtype())
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError(f"Model '{self.name}': {where}() received non-finite targets "
                             "(NaN or inf) in y.")
        return np.ascontiguousarray(y)

    def _cast_weights(self, sample_weight, n, where):
        if sample_weight is None:
            return None
        sw = np.asarray(sample_weight, dtype=self._dtype()).reshape(-1)
        if len(sw) != n:
            raise ValueError(f"Model '{self.name}': {where}() sample_weight must have one weight "
                             f"per sample ({n}). Received: sample_weight.shape="
                             f"{np.shape(sample_weight)}")
        return sw

    def _class_weights(self, class_weight, y, sw):
        if not isinstance(class_weight, dict):
            raise TypeError("class_weight must be a dict {class_index: weight}. "
                            f"Received: class_weight={class_weight!r}")
        out_dim = self.output_shape[-1]
        if y.ndim == 1 or (y.ndim >= 2 and y.shape[-1] == 1 and out_dim != 1):
            cls = y.reshape(len(y), -1)[:, 0].astype(np.int64)
        elif y.shape[-1] == 1:
            cls = (y.reshape(-1) > 0.5).astype(np.int64)
        else:
            cls = y.reshape(len(y), -1).argmax(axis=1)
        table = np.ones(max(int(cls.max()) + 1, max(class_weight) + 1), dtype=self._dtype())
        for k, w in class_weight.items():
            table[int(k)] = w
        cw = table[cls]
        return cw if sw is None else sw * cw

    # -- steps ------------------------------------------------------------------------------
    def _loss_and_grad_start(self, y, y_pred, sw):
        """Total loss (with weight and activity penalties) and dL/d(output) for backward."""
        lw = self.loss_weights
        with np.errstate(over="ignore", invalid="ignore"):   # reported as NonFiniteLossError
            loss = self.loss(y, y_pred, sw) * lw + self._activity_loss
        for v in self._reg_vars:
            loss += float(v.regularizer(v.value))
        return loss

    def _prepare_training(self):
        self._resolve_metrics()
        self._train_vars = self.trainable_weights
        self._reg_vars = [v for v in self._train_vars if v.regularizer is not None]
        leaf = self._output_leaf()
        act = getattr(leaf, "activation", None)
        fusable = getattr(leaf, "_fuses_activation", False) and hasattr(act, "name")
        self._fuse_layer = leaf if fusable else None
        self._fuse_name = act.name if self._fuse_layer is not None else None
        self._input_layers_need_dx(False)

    def _train_batch(self, x, y, sw):
        y_pred = self.forward(x, training=True)
        loss = self._loss_and_grad_start(y, y_pred, sw)
        if not math.isfinite(loss):
            return loss
        for v in self._train_vars:
            v.grad.fill(0)
        lw = self.loss_weights
        dy, fused = None, self._fuse_layer
        if fused is not None:
            dy = self.loss.logit_gradient(y, y_pred, self._fuse_name, sw)
        if dy is None:
            fused = None
            dy = self.loss.gradient(y, y_pred, sw)
        if lw != 1.0:
            dy = dy * lw
        if fused is not None:
            fused._logit_grad = True
            try:
                self.backward(dy)
            finally:
                fused._logit_grad = False
        else:
            self.backward(dy)
        for v in self._reg_vars:
            v.grad += v.regularizer.gradient(v.value)
        self.optimizer.apply(self._train_vars)         # also applies weight constraints
        self._update_metrics(loss, y, y_pred, sw)
        return loss

    def _update_metrics(self, loss, y, y_pred, sw):
        self._loss_tracker.update_state(loss, sample_weight=len(y))
        for m in self._metrics:
            m.update_state(y, y_pred, sw)

    def _reset_metrics(self):
        self._loss_tracker.reset_state()
        for m in self._resolve_metrics():
            m.reset_state()

    def _logs(self):
        return {m.name: m.result() for m in self.metrics}

    # -- fit --------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train the model for `epochs` passes over `(x, y)`; returns a `History`.

        Args:
            x, y: NumPy arrays of inputs and targets (same number of samples).
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
        _no_steps_for_arrays(steps_per_epoch=steps_per_epoch, validation_steps=validation_steps)
        batch_size = 32 if batch_size is None else _validate.positive_int(batch_size, "batch_size",
                                                                          "fit()")
        epochs = _validate.non_negative_int(epochs, "epochs", "fit()")
        initial_epoch = _validate.non_negative_int(initial_epoch, "initial_epoch", "fit()")
        verbose = _verbose(verbose)
        validation_split = _validate.number(validation_split, "validation_split", "fit()",
                                            low=0.0, high=1.0, high_open=True)
        x = self._cast_inputs(x, "fit")
        n = len(x)
        y = self._cast_targets(y, n, "fit")
        sw = self._cast_weights(sample_weight, n, "fit")
        if class_weight is not None:
            sw = self._class_weights(class_weight, y, sw)
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val,"
                                 f" sample_weight_val). Received: {type(validation_data).__name__}"
                                 f" of length {len(validation_data) if hasattr(validation_data, '__len__') else '?'}")
            vx = self._cast_inputs(validation_data[0], "fit")
            vy = self._cast_targets(validation_data[1], len(vx), "fit")
            vsw = (self._cast_weights(validation_data[2], len(vx), "fit")
                   if len(validation_data) == 3 else None)
            val = (vx, vy, vsw)
        elif validation_split > 0:
            cut = int(n * (1.0 - validation_split))
            if cut == 0 or cut == n:
                raise ValueError(f"validation_split={validation_split} leaves no training or no "
                                 f"validation samples out of {n}.")
            val = (x[cut:], y[cut:], None if sw is None else sw[cut:])
            x, y, sw = x[:cut], y[:cut], (None if sw is None else sw[:cut])
            n = cut
        self._resolve_metrics()
        steps = math.ceil(n / batch_size)
        history = History()
        cbs = list(callbacks or [])
        if verbose:
            cbs.append(ProgbarLogger(verbose))
        cbs.append(history)
        cbl = CallbackList(cbs, self, {"verbose": verbose, "epochs": epochs, "steps": steps,
                                       "mode": "fit"})
        want_batch_logs = len(cbs) > 1
        self.stop_training = False
        self._prepare_training()
        interrupted = _SigintFlag()
        shuffle_rng = self._rng
        # Preallocated batch buffers: no per-batch allocation for the gathered inputs/targets.
        xbuf = np.empty((batch_size,) + x.shape[1:], x.dtype)
        ybuf = np.empty((batch_size,) + y.shape[1:], y.dtype)
        swbuf = np.empty(batch_size, sw.dtype) if sw is not None else None
        logs = {}
        cbl.on_train_begin()
        try:
            with interrupted:
                for epoch in range(initial_epoch, epochs):
                    self._reset_metrics()
                    cbl.on_epoch_begin(epoch)
                    order = shuffle_rng.permutation(n) if shuffle else None
                    for step in range(steps):
                        cbl.on_train_batch_begin(step)
                        lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
                        if order is None:
                            xb, yb = x[lo:hi], y[lo:hi]
                            swb = None if sw is None else sw[lo:hi]
                        else:
                            idx, m = order[lo:hi], hi - lo
                            xb = np.take(x, idx, axis=0, out=xbuf[:m])
                            yb = np.take(y, idx, axis=0, out=ybuf[:m])
                            swb = None if sw is None else np.take(sw, idx, out=swbuf[:m])
                        loss = self._train_batch(xb, yb, swb)
                        if not math.isfinite(loss):
                            raise NonFiniteLossError(
                                f"Model '{self.name}': the loss became {loss} at epoch "
                                f"{epoch + 1}, batch {step + 1} (of {steps}); training stopped "
                                "before that batch changed the weights. Try a lower learning "
                                "rate, clipnorm=1.0, or check the data for extreme values.")
                        if want_batch_logs:
                            cbl.on_train_batch_end(step, self._logs())
                        if interrupted.flag or self.stop_training:
                            break
                    if interrupted.flag:
                        warnings.warn(f"Training interrupted (Ctrl-C) at epoch {epoch + 1}, "
                                      f"batch {step + 1}; the weights trained so far are kept.",
                                      RuntimeWarning, stacklevel=2)
                        break
                    logs = self._logs()
                    if val is not None and (epoch + 1) % validation_freq == 0:
                        cbl.on_test_begin()
                        vlogs = self._test_loop(*val, validation_batch_size or batch_size, cbl)
                        cbl.on_test_end(vlogs)
                        logs.update({"val_" + k: v for k, v in vlogs.items()})
                    cbl.on_epoch_end(epoch, logs)
                    if self.stop_training:
                        break
        finally:
            self._input_layers_need_dx(True)
            cbl.on_train_end(logs)
        return history

    # -- evaluate / predict -----------------------------------------------------------------
    def _test_loop(self, x, y, sw, batch_size, cbl=None):
        self._reset_metrics()
        if not hasattr(self, "_reg_vars"):
            self._prepare_training()
            self._input_layers_need_dx(True)
        n = len(x)
        for step, lo in enumerate(range(0, n, batch_size)):
            hi = min(n, lo + batch_size)
            if cbl is not None:
                cbl.on_test_batch_begin(step)
            y_pred = self.forward(x[lo:hi], training=False)
            swb = None if sw is None else sw[lo:hi]
            loss = self._loss_and_grad_start(y[lo:hi], y_pred, swb)
            self._update_metrics(loss, y[lo:hi], y_pred, swb)
            if cbl is not None:
                cbl.on_test_batch_end(step, self._logs())
        return self._logs()

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics on `(x, y)`.

        Returns:
            the loss (a float) when there are no metrics, else `[loss, metric1, ...]`, or a dict
            `{"loss": ..., "accuracy": ...}` with `return_dict=True`.
        """
        self._require_compiled("evaluate")
        _no_steps_for_arrays(steps=steps)
        batch_size = 32 if batch_size is None else _validate.positive_int(
            batch_size, "batch_size", "evaluate()")
        verbose = _verbose(verbose)
        x = self._cast_inputs(x, "evaluate")
        y = self._cast_targets(y, len(x), "evaluate")
        sw = self._cast_weights(sample_weight, len(x), "evaluate")
        self._resolve_metrics()
        self._prepare_training()
        self._input_layers_need_dx(True)
        cbs = list(callbacks or []) + ([ProgbarLogger(verbose)] if verbose else [])
        cbl = CallbackList(cbs, self, {"verbose": verbose, "epochs": 1, "mode": "test",
                                       "steps": math.ceil(len(x) / batch_size)})
        cbl.on_test_begin()
        logs = self._test_loop(x, y, sw, batch_size, cbl)
        cbl.on_test_end(logs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for `x`, computed in batches (inference mode: no dropout)."""
        _no_steps_for_arrays(steps=steps)
        batch_size = 32 if batch_size is None else _validate.positive_int(
            batch_size, "batch_size", "predict()")
        verbose = _verbose(verbose)
        x = self._cast_inputs(x, "predict")
        n = len(x)
        steps = math.ceil(n / batch_size)
        cbs = list(callbacks or []) + ([ProgbarLogger(verbose)] if verbose else [])
        cbl = CallbackList(cbs, self, {"verbose": verbose, "epochs": 1, "steps": steps,
                                       "mode": "predict"})
        cbl.on_predict_begin()
        out = None
        for step, lo in enumerate(range(0, n, batch_size)):
            hi = min(n, lo + batch_size)
            cbl.on_predict_batch_begin(step)
            # Inference is per sample, so a large batch runs through the network in chunks that
            # keep activations and im2col matrices in cache (same results, ~1.7x faster at 1,000).
            for c in range(lo, hi, _INFER_CHUNK):
                yc = self.forward(x[c:min(hi, c + _INFER_CHUNK)], training=False)
                if out is None:
                    out = np.empty((n,) + yc.shape[1:], yc.dtype)
                out[c:c + len(yc)] = yc
            cbl.on_predict_batch_end(step, {"outputs": out[lo:hi]})
        cbl.on_predict_end()
        if out is None:
            out = np.empty((0,) + tuple(self.output_shape[1:]), self._dtype())
        return out

    # -- on-batch API -----------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on one batch; returns the loss (and metrics) of that batch."""
        self._require_compiled("train_on_batch")
        x = self._cast_inputs(x, "train_on_batch")
        y = self._cast_targets(y, len(x), "train_on_batch")
        sw = self._cast_weights(sample_weight, len(x), "train_on_batch")
        if class_weight is not None:
            sw = self._class_weights(class_weight, y, sw)
        self._reset_metrics()
        self._prepare_training()
        try:
            loss = self._train_batch(x, y, sw)
        finally:
            self._input_layers_need_dx(True)
        if not math.isfinite(loss):
            raise NonFiniteLossError(f"Model '{self.name}': the loss became {loss} in "
                                     "train_on_batch; the weights were not changed.")
        return self._batch_result(return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, without training."""
        self._require_compiled("test_on_batch")
        x = self._cast_inputs(x, "test_on_batch")
        y = self._cast_targets(y, len(x), "test_on_batch")
        sw = self._cast_weights(sample_weight, len(x), "test_on_batch")
        self._resolve_metrics()
        self._prepare_training()
        self._input_layers_need_dx(True)
        self._test_loop(x, y, sw, max(len(x), 1))
        return self._batch_result(return_dict)

    def predict_on_batch(self, x):
        """Model outputs for one batch."""
        return self.forward(self._cast_inputs(x, "predict_on_batch"), training=False)

    def _batch_result(self, return_dict):
        logs = self._logs()
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values


_INFER_CHUNK = 128   # samples per forward pass inside predict (cache-friendly size)


def _no_steps_for_arrays(**kwargs):
    for name, value in kwargs.items():
        if value is not None:
            raise ValueError(f"{name} applies to generators and datasets; with NumPy arrays every "
                             "epoch covers all samples (set batch_size instead). "
                             f"Received: {name}={value!r}")


def _verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ValueError(f"verbose must be 0 (silent), 1 (progress bar), 2 (one line per epoch) "
                         f"or 'auto'. Received: verbose={verbose!r}")
    return verbose


class _SigintFlag:
    """Within `with`, the first Ctrl-C sets `.flag` (fit stops after the batch); a second one
    raises KeyboardInterrupt as usual."""

    def __init__(self):
        self.flag = False
        self._old = None

    def _handler(self, signum, frame):
        if self.flag:
            raise KeyboardInterrupt
        self.flag = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False
