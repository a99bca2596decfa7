"""Functional models whose outputs are a dict: `Model(inputs, outputs={"label": a, "box": b})`.

As in Keras 3: the outputs are named by the dict keys (taken in sorted order, Keras's flattening
order, wherever a flat order is needed: `model.outputs`, lists of targets or losses); calling the
model and `predict` return a dict; `compile(loss=..., metrics=..., loss_weights=...)` and the
targets `y` may be dicts keyed by those names, and the logs read `<key>_loss`, `<key>_<metric>`.

The engine itself runs on flat lists: the model's graph returns the dict, and the loss, metrics and
`predict` read it back in key order (other models pass through with one type check).
"""
import contextvars

from .._serializable import ConfigError

# Set while `predict` runs the batches of a dict-output model: its graph then returns the flat
# list the batching code concatenates, and `predict` makes the dict once at the end.
_FLAT = contextvars.ContextVar("kerasnp_flat_outputs", default=False)


def split_outputs(outputs, owner):
    """`outputs` of `Model(inputs, outputs)` -> (flat list or the object itself, keys or None)."""
    if not isinstance(outputs, dict):
        return outputs, None
    if not outputs or not all(isinstance(k, str) for k in outputs):
        raise ValueError(f"Model '{owner}': a dict of outputs needs string keys (the output "
                         f"names) and at least one entry. Received: keys {list(outputs)!r}")
    keys = sorted(outputs)
    return [outputs[k] for k in keys], keys


def check_keys(keys, n):
    """Output keys read back from a config: a list of `n` distinct strings."""
    if not isinstance(keys, list) or len(keys) != n or len(set(keys)) != n or \
            not all(isinstance(k, str) for k in keys):
        raise ConfigError(f"output_keys must list {n} distinct names, one per output. "
                          f"Received: {keys!r}")
    return keys


class DictOutputsMixin:
    """The parts of `Model` that read dict outputs (see the module docstring)."""

    _output_keys = None          # sorted keys of a dict-output model, else None

    @property
    def output_names(self):
        """The names of the outputs: the dict keys of a dict-output model, else the names of
        the layers that make them."""
        if self._output_keys is not None:
            return list(self._output_keys)
        return super().output_names

    def _output_struct(self, outs):
        """The graph's flat outputs as the user sees them: the dict, unless `predict` runs."""
        if self._output_keys is None or _FLAT.get():
            return outs
        return dict(zip(self._output_keys, outs))

    def _flat(self, value):
        if type(value) is dict and self._output_keys is not None:
            return [value[k] for k in self._output_keys]
        return value

    def _loss_parts(self, y, y_pred, sample_weight):
        return super()._loss_parts(self._flat(y), self._flat(y_pred), sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, self._flat(y), self._flat(y_pred), sample_weight)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        if self._output_keys is None:
            return super().predict(x, batch_size, verbose, steps, callbacks)
        token = _FLAT.set(True)
        try:
            out = super().predict(x, batch_size, verbose, steps, callbacks)
        finally:
            _FLAT.reset(token)
        return dict(zip(self._output_keys, out)) if isinstance(out, list) else out
