"""What `compile()` configures, resolved per model output, and the adapters that turn the data a
user passes (an array, a list, or a dict keyed by input/output layer names) into lists.

Single-output models keep Keras's plain names in the logs (`loss`, `accuracy`); a model with
several outputs adds `<output>_loss` and `<output>_<metric>` as Keras does (`reg_loss`,
`cls_accuracy`).
"""
import math
import numbers

import numpy as np

from .. import _validate, losses, metrics as metrics_mod


def as_list(data, names, kind, where, owner):
    """`data` (array, list/tuple or dict keyed by `names`) -> a list aligned with `names`."""
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        unknown = sorted(set(data) - set(names))
        if missing or unknown:
            raise ValueError(f"Model '{owner}': {where}() got {kind} keys {sorted(data)}, "
                             f"expected one entry per {kind} layer: {names}"
                             + (f"; missing {missing}" if missing else "")
                             + (f"; unknown {unknown}" if unknown else "") + ".")
        return [data[n] for n in names]
    if isinstance(data, (list, tuple)) and len(names) > 1:
        if len(data) != len(names):
            raise ValueError(f"Model '{owner}' has {len(names)} {kind}s ({', '.join(names)}); "
                             f"{where}() received a list of {len(data)}.")
        return list(data)
    if len(names) > 1:
        raise ValueError(f"Model '{owner}' has {len(names)} {kind}s ({', '.join(names)}); "
                         f"{where}() needs a list or a dict of arrays, one per {kind}. "
                         f"Received: a single {type(data).__name__}")
    return [data]


def _per_output(spec, names, what, owner, default=None):
    """A compile argument given once, as a list, or as a dict -> one entry per output."""
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(f"Model '{owner}': compile({what}=...) has keys {unknown} that are "
                             f"not output layers. Valid: {', '.join(names)}.")
        return [spec.get(n, default) for n in names]
    if isinstance(spec, (list, tuple)) and what != "metrics":
        if len(spec) != len(names):
            raise ValueError(f"Model '{owner}' has {len(names)} outputs ({', '.join(names)}); "
                             f"compile({what}=...) needs as many entries. "
                             f"Received: {len(spec)}")
        return list(spec)
    return [spec] * len(names)


class CompiledSpec:
    """compile()'s arguments, resolved against the model's outputs on first use."""

    def __init__(self, loss, loss_weights, metrics):
        self.raw = (loss, loss_weights, metrics)
        self.resolved = False
        # Validate names now, so a typo fails at compile() rather than at fit().
        for item in (loss.values() if isinstance(loss, dict) else
                     loss if isinstance(loss, (list, tuple)) else [loss]):
            if item is not None:
                losses.get(item)
        for name in _metric_names(metrics):
            metrics_mod.get(name)

    def resolve(self, model):
        if self.resolved:
            return self
        names = model.output_names
        loss, loss_weights, metrics = self.raw
        self.names = names
        self.multi = len(names) > 1
        # None: the output has no compiled loss (a model that adds its own with add_loss, or
        # a custom train_step, compiles without one, as in Keras).
        self.losses = [None if l is None else losses.get(l)
                       for l in _per_output(loss, names, "loss", model.name)]
        self.has_loss = any(l is not None for l in self.losses)
        weights = _per_output(loss_weights, names, "loss_weights", model.name, 1.0)
        self.weights = [1.0 if w is None else _validate.number(w, "loss_weights", model, low=0.0)
                        for w in weights]
        shapes = model.output_shapes
        per_out = _metric_lists(metrics, names, model.name)
        self.metrics = []            # (output index, log key, Metric)
        for i, items in enumerate(per_out):
            for m in items:
                metric = metrics_mod.get(m, loss=self.losses[i], output_shape=shapes[i])
                if metric is None:
                    continue
                key = f"{names[i]}_{metric.name}" if self.multi else metric.name
                self.metrics.append((i, key, metric))
        self.loss_tracker = metrics_mod.Mean(name="loss")
        self.output_trackers = ([metrics_mod.Mean(name=f"{n}_loss") for n in names]
                                if self.multi else [])
        self.resolved = True
        return self

    def trackers(self):
        return [self.loss_tracker] + self.output_trackers + [m for _, _, m in self.metrics]

    def reset(self):
        for t in self.trackers():
            t.reset_state()

    def logs(self):
        out = {"loss": self.loss_tracker.result()}
        for t in self.output_trackers:
            out[t.name] = t.result()
        for _, key, m in self.metrics:
            out[key] = m.result()
        return out


def _metric_lists(metrics, names, owner):
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        unknown = sorted(set(metrics) - set(names))
        if unknown:
            raise ValueError(f"Model '{owner}': compile(metrics=...) has keys {unknown} that "
                             f"are not output layers. Valid: {', '.join(names)}.")
        return [_one_list(metrics.get(n)) for n in names]
    if isinstance(metrics, (str, metrics_mod.Metric)) or callable(metrics):
        metrics = [metrics]
    if not isinstance(metrics, (list, tuple)):
        raise TypeError(f"Model '{owner}': metrics must be a list of names or Metric objects, "
                        f"a list of lists or a dict per output. Received: metrics={metrics!r}")
    if len(names) > 1 and metrics and all(isinstance(m, (list, tuple)) or m is None
                                          for m in metrics):
        if len(metrics) != len(names):
            raise ValueError(f"Model '{owner}' has {len(names)} outputs; compile(metrics=...) "
                             f"as a list of lists needs {len(names)} lists.")
        return [_one_list(m) for m in metrics]
    # A flat list applies to every output (a fresh metric object each).
    return [list(metrics) if i == 0 else [_fresh(m) for m in metrics]
            for i in range(len(names))]


def _metric_names(metrics):
    """Every metric given by name, wherever it sits in compile(metrics=...)."""
    items = metrics.values() if isinstance(metrics, dict) else (
        metrics if isinstance(metrics, (list, tuple)) else [metrics])
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from (m for m in item if isinstance(m, str))
        elif isinstance(item, str):
            yield item


def _one_list(m):
    if m is None:
        return []
    return list(m) if isinstance(m, (list, tuple)) else [m]


def _fresh(m):
    if isinstance(m, metrics_mod.Metric):
        return type(m).from_config(m.get_config())
    return m


def class_weights_to_sample_weights(class_weight, y, out_dim, dtype):
    """Per-sample weights from `{class: weight}` and the labels (sparse, one-hot or binary).

    Keys must be class ids of the output (0 to `out_dim - 1`, or 0 and 1 for a single unit)
    and weights finite numbers >= 0; classes left out weigh 1 (Keras's rule, so `{}` is no
    weighting)."""
    if not isinstance(class_weight, dict):
        raise TypeError("class_weight must be a dict {class_index: weight}. "
                        f"Received: class_weight={class_weight!r}")
    n_classes = out_dim if out_dim > 1 else 2
    bad = [k for k in class_weight
           if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not
           0 <= k < n_classes]
    if bad:
        raise ValueError(f"class_weight has keys {bad} that are not class ids of the model's "
                         f"output: integers 0 to {n_classes - 1} ({n_classes} classes). "
                         f"Received: class_weight={class_weight!r}")
    for k, w in class_weight.items():
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w) \
                or w < 0:
            raise ValueError(f"class_weight[{k}] must be a finite number >= 0. Received: {w!r}")
    if y.ndim == 1 or (y.ndim >= 2 and y.shape[-1] == 1 and out_dim != 1):
        cls = y.reshape(len(y), -1)[:, 0].astype(np.int64)
    elif y.shape[-1] == 1:
        cls = (y.reshape(-1) > 0.5).astype(np.int64)
    else:
        cls = y.reshape(len(y), -1).argmax(axis=1)
    table = np.ones(max(n_classes, int(cls.max()) + 1), dtype=dtype)
    for k, w in class_weight.items():
        table[int(k)] = w
    return table[cls]
