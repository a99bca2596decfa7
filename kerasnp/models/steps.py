"""The overridable steps of training, as in Keras's "customizing what happens in fit".

`train_step(data)` runs the forward pass under a `GradientTape`, `compute_loss`, takes the
gradients, `optimizer.apply`s them and returns `compute_metrics`; `test_step` and
`predict_step` are the inference halves. Override any of them (or only `compute_loss`) in a
subclass; `fit`, `evaluate` and `predict` call whatever the model defines.
"""
import math

import numpy as np

from .. import losses
from ..autodiff.tape import GradientTape, unwrap
from ..distribution import _state as _distributed
from ..layers.base import structure_version
from ..optimizers.base import NonFiniteUpdateError
from ..variables import undo_log


class StepsMixin:
    """train_step / test_step / predict_step / compute_loss / compute_metrics of `Model`."""

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
        if spec.has_loss:
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
        if spec is not None and spec.resolved and type(self).metrics is StepsMixin.metrics:
            return spec.logs()          # the built-in metrics' results are floats already
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
        `compute_metrics`. Returns the logs dict.

        A batch whose loss is not finite changes nothing: what its forward pass assigned
        (moving statistics) is undone, no update is applied, and the logs are `{"loss": value}`
        (fit then stops). When the update itself would make a weight non-finite, the optimizer
        undoes it and raises `NonFiniteUpdateError`; the forward pass is undone too."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        variables = self._step_variables()
        # The forward pass assigns state (BatchNormalization's moving statistics): the log
        # takes it back when the batch is refused.
        with undo_log() as log, GradientTape() as tape:
            y_pred = self(x, training=True)
            if type(self).compute_loss is StepsMixin.compute_loss:
                loss, parts = self._loss_parts(y, y_pred, sample_weight)
            else:
                loss, parts = self.compute_loss(x=x, y=y, y_pred=y_pred,
                                                sample_weight=sample_weight), []
        if _distributed.active is not None:    # several processes: the gradients are summed
            return _distributed.active.finish_train_step(self, tape, loss, variables, log,
                                                         parts, x, y, y_pred, sample_weight)
        value = _number(unwrap(loss))
        if not math.isfinite(value):
            log.undo()
            return {"loss": value}             # fit stops before this batch changes weights
        grads = tape.gradient(loss, variables)
        try:
            self.optimizer.apply(grads, variables)
        except NonFiniteUpdateError:
            log.undo()                         # the optimizer undid its part
            raise
        self._track_loss(value, parts, _batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _step_variables(self):
        """`self.trainable_variables`, kept between steps until a layer's weights or
        `trainable` flags change (walking every layer each step costs ~5% of a small MLP's)."""
        version = structure_version()
        cached = self.__dict__.get("_step_vars")
        if cached is None or cached[0] != version:
            cached = self.__dict__["_step_vars"] = (version, self.trainable_variables)
        return cached[1]

    def test_step(self, data):
        """One evaluation step on a batch (inference mode, no gradients). Returns the logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        if type(self).compute_loss is StepsMixin.compute_loss:
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
    if type(v) is float:
        return v
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
