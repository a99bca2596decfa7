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
        """The loss trackers and the compiled metrics (stateful objects)."""
        return self._spec.trackers() if self._spec is not None and self._spec.resolved else []

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    # -- steps ------------------------------------------------------------------------------
    def _prepare_training(self):
        spec = self._spec.resolve(self)
        self._train_vars = self.trainable_weights
        self._reg_vars = [v for v in self._train_vars if v.regularizer is not None]
        consumed = {j for node in self._nodes for j in node.inputs}
        uses = {}
        for node in self._nodes:
            uses[id(node.layer)] = uses.get(id(node.layer), 0) + 1
        self._fuse = []
        for k, i in enumerate(self._output_ids):
            leaf = self._leaf_of(i)
            act = getattr(leaf, "activation", None)
            # The fused gradient is dL/d(pre-activation): valid only for a layer that opted in,
            # whose output goes nowhere but the loss, and that is not called twice.
            ok = (getattr(leaf, "_fuses_activation", False) and hasattr(act, "name")
                  and i not in consumed and uses.get(id(self._nodes[i].layer)) == 1
                  and self._output_ids.count(i) == 1)
            self._fuse.append((leaf, act.name) if ok else None)
        self._input_layers_need_dx(False)
        return spec

    def _leaf_of(self, node_id):
        layer = self._nodes[node_id].layer
        if isinstance(layer, TrainingMixin) and layer._nodes and not layer._multi_output:
            return layer._leaf_of(layer._output_ids[0])
        return layer

    def _total_loss(self, ys, preds, sw):
        """Weighted sum of the outputs' losses plus weight and activity penalties. Each output's
        weighted loss is kept in `_output_losses` for the per-output trackers (computed once)."""
        spec = self._spec
        total = self._activity_loss
        parts = []
        with np.errstate(over="ignore", invalid="ignore"):   # reported as NonFiniteLossError
            for k, (loss, w) in enumerate(zip(spec.losses, spec.weights)):
                parts.append(loss(ys[k], preds[k], sw) * w)
                total += parts[-1]
        self._output_losses = parts
        for v in self._reg_vars:
            total += float(v.regularizer(v.value))
        return total

    def _compute_gradients(self, xb, ys, sw, training=True):
        """Forward, total loss and backward: fills every trainable variable's `.grad` with
        d(total loss)/d(weight) (regularizers included). Returns `(loss, predictions)`; when the
        loss is not finite, returns before touching any gradient."""
        spec = self._spec
        out = self.forward(xb, training=training)
        preds = out if self._multi_output else [out]
        loss = self._total_loss(ys, preds, sw)
        if not math.isfinite(loss):
            return loss, preds
        for v in self._train_vars:
            v.grad.fill(0)
        grads, fused_layers = [], []
        for k, (lossf, w) in enumerate(zip(spec.losses, spec.weights)):
            dy, fuse = None, self._fuse[k]
            if fuse is not None:
                dy = lossf.logit_gradient(ys[k], preds[k], fuse[1], sw)
                if dy is not None:
                    fused_layers.append(fuse[0])
            if dy is None:
                dy = lossf.gradient(ys[k], preds[k], sw)
            grads.append(dy * w if w != 1.0 else dy)
        for layer in fused_layers:
            layer._logit_grad = True
        try:
            self.backward(grads if self._multi_output else grads[0])
        finally:
            for layer in fused_layers:
                layer._logit_grad = False
        for v in self._reg_vars:
            v.grad += v.regularizer.gradient(v.value)
        return loss, preds

    def _train_batch(self, xb, ys, sw):
        loss, preds = self._compute_gradients(xb, ys, sw)
        if math.isfinite(loss):
            self.optimizer.apply(self._train_vars)     # also applies weight constraints
            self._update_metrics(loss, ys, preds, sw)
        return loss

    def _update_metrics(self, loss, ys, preds, sw):
        """Update the trackers after `_total_loss` on the same batch (it left the per-output
        losses in `_output_losses`)."""
        spec = self._spec
        n = len(ys[0])
        spec.loss_tracker.update_state(loss, sample_weight=n)
        for tracker, value in zip(spec.output_trackers, self._output_losses):
            tracker.update_state(value, sample_weight=n)
        for k, _, m in spec.metrics:
            m.update_state(ys[k], preds[k], sw)

    def _reset_metrics(self):
        self._spec.resolve(self).reset()

    def _logs(self):
        return self._spec.logs()

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
        logs = {}
        self._resume = None
        cbl.on_train_begin()
        if self._resume is not None:
            # A callback (BackupAndRestore) restored a checkpoint in on_train_begin: continue
            # from its epoch with its history, so the History reads as one uninterrupted run.
            initial_epoch = max(initial_epoch, int(self._resume["epoch"]))
            history.history = {k: list(v) for k, v in self._resume.get("history", {}).items()}
            history.epoch = list(range(initial_epoch))
            self._resume = None
        quiet_nan = any(getattr(cb, "stops_on_nan", False) for cb in cbs)
        try:
            with interrupted:
                for epoch in range(initial_epoch, epochs):
                    self._reset_metrics()
                    cbl.on_epoch_begin(epoch)
                    for step, (xb, yb, swb) in enumerate(train.batches()):
                        cbl.on_train_batch_begin(step)
                        loss = self._train_batch(self._arg(xb), yb, swb)
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
                        if want_batch_logs:
                            cbl.on_train_batch_end(step, self._logs())
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
                    logs = self._logs()
                    if val is not None and (epoch + 1) % validation_freq == 0:
                        cbl.on_test_begin()
                        vlogs = self._test_loop(val, cbl)
                        cbl.on_test_end(vlogs)
                        logs.update({"val_" + k: v for k, v in vlogs.items()})
                    cbl.on_epoch_end(epoch, logs)
                    if self.stop_training:
                        break
        finally:
            self._input_layers_need_dx(True)
            train.close()
            if val is not None:
                val.close()
            cbl.on_train_end(logs)
        return history

    # -- evaluate / predict -----------------------------------------------------------------
    def _test_loop(self, source, cbl=None):
        self._reset_metrics()
        if not hasattr(self, "_reg_vars"):
            self._prepare_training()
            self._input_layers_need_dx(True)
        for step, (xb, yb, swb) in enumerate(source.batches()):
            if cbl is not None:
                cbl.on_test_batch_begin(step)
            out = self.forward(self._arg(xb), training=False)
            preds = out if self._multi_output else [out]
            loss = self._total_loss(yb, preds, swb)
            self._update_metrics(loss, yb, preds, swb)
            if cbl is not None:
                cbl.on_test_batch_end(step, self._logs())
        source.end_epoch()
        return self._logs()

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
        self._input_layers_need_dx(True)
        cbs = list(callbacks or []) + ([ProgbarLogger(verbose)] if verbose else [])
        cbl = CallbackList(cbs, self, {"verbose": verbose, "epochs": 1, "mode": "test",
                                       "steps": source.steps})
        cbl.on_test_begin()
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
        cbs = list(callbacks or []) + ([ProgbarLogger(verbose)] if verbose else [])
        cbl = CallbackList(cbs, self, {"verbose": verbose, "epochs": 1, "steps": source.steps,
                                       "mode": "predict"})
        cbl.on_predict_begin()
        parts = []
        try:
            for step, (xb, _, _) in enumerate(source.batches()):
                cbl.on_predict_batch_begin(step)
                n = len(xb[0])
                # Inference is per sample, so a large batch runs through the network in chunks
                # that keep activations and im2col matrices in cache (same results, faster).
                chunks = [self.forward(self._arg([a[c:c + _INFER_CHUNK] for a in xb]),
                                       training=False) for c in range(0, n, _INFER_CHUNK)]
                chunks = [c if self._multi_output else [c] for c in chunks]
                batch = [np.concatenate(p) if len(p) > 1 else p[0] for p in zip(*chunks)]
                parts.append(batch)
                cbl.on_predict_batch_end(step, {"outputs": batch})
        finally:
            source.close()
        cbl.on_predict_end()
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
        try:
            loss = self._train_batch(self._arg(xs), ys, sw)
        finally:
            self._input_layers_need_dx(True)
        if not math.isfinite(loss):
            raise NonFiniteLossError(f"Model '{self.name}': the loss became {loss} in "
                                     "train_on_batch; the weights were not changed.")
        logs = self._logs()
        return logs if return_dict else _values(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on one batch, without training."""
        self._require_compiled("test_on_batch")
        xs, ys, sw = self._prepare_data(x, y, sample_weight, None, "test_on_batch")
        self._prepare_training()
        self._input_layers_need_dx(True)
        logs = self._test_loop(ArraySource(self, xs, ys, sw, max(len(xs[0]), 1), False))
        return logs if return_dict else _values(logs)

    def predict_on_batch(self, x):
        """Model outputs for one batch."""
        return self.forward(self._arg(self._cast_inputs(x, "predict_on_batch")), training=False)


