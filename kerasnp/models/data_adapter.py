"""Turning what users pass to fit/evaluate/predict into lists of validated arrays.

`x` may be one array, a list in model-input order or a dict keyed by input layer names (likewise
`y` per output). Everything is validated once here, at the boundary: shapes against the model's
inputs, sample counts, dtypes (cast once to the model's float type), NaN/inf, label formats
(through each output's loss), sample and class weights. `_make_source` turns the result into
batches (see `data_sources.py`); `_fit_sources` splits fit's data into training and
validation batches.
"""
import warnings

import numpy as np

from .. import _validate, config
from .compile_utils import as_list, class_weights_to_sample_weights


class DataMixin:
    """Input/target adapters of `Model` (see the module docstring)."""

    @property
    def input_names(self):
        return [self._nodes[i].layer.name for i in self._input_ids]

    @property
    def output_names(self):
        return [self._nodes[i].layer.name for i in self._output_ids]

    @property
    def output_shapes(self):
        return [self._nodes[i].shape if k is None else self._nodes[i].shape[k]
                for i, k in self._output_refs]

    def _dtype(self):
        ws = self._all_weights() if self.built else []
        return ws[0].value.dtype if ws else np.dtype(config.floatx())

    def _ensure_built(self, xs):
        if not self.built or not self._nodes:
            shapes = [(None,) + np.shape(a)[1:] for a in xs]
            if not self._has_call():
                self._set_input_structure(shapes)     # e.g. a GAN driven by its train_step
                return
            self._build_once(shapes if len(shapes) > 1 else shapes[0])

    def _cast_inputs(self, x, where="predict"):
        """x (array, list or dict) -> list of contiguous arrays of the model's dtype."""
        if self.built and self._nodes:
            raw = as_list(x, self.input_names, "input", where, self.name)
        elif isinstance(x, (list, tuple)) and x and all(isinstance(a, np.ndarray) for a in x):
            raw = list(x)          # not built yet: a list of arrays means several inputs
        else:
            raw = [x]
        xs = [self._to_array(a, where) for a in raw]
        self._ensure_built(xs)
        if len(xs) != len(self._input_ids):
            xs = [self._to_array(a, where) for a in as_list(x, self.input_names, "input", where,
                                                              self.name)]
        n = len(xs[0])
        dtype = self._dtype()
        out = []
        for k, (a, i) in enumerate(zip(xs, self._input_ids)):
            expected = self._nodes[i].shape
            if a.dtype.kind in "USO" and a.ndim == 1 and tuple(expected[1:]) == (1,):
                a = a.reshape(-1, 1)       # a list of texts for an Input((1,), dtype="string")
            if len(expected) != a.ndim or any(e is not None and e != d
                                              for e, d in zip(expected[1:], a.shape[1:])):
                raise ValueError(f"{self._input_consumer(i)} expected input of shape {expected} "
                                 f"(batch first), received shape {a.shape}.")
            if len(a) != n:
                raise ValueError(f"Model '{self.name}': all inputs must have the same number of "
                                 f"samples. Received: {[len(b) for b in xs]}")
            if isinstance(a, np.memmap):
                out.append(a)      # memory-mapped: cast and checked per batch, never loaded
                continue
            if a.dtype.kind in "USO":
                out.append(self._text_input(a, i, k, len(xs), where))
                continue
            if a.dtype != dtype:
                a = a.astype(dtype)
            a = np.ascontiguousarray(a)
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                bad = np.argwhere(~np.isfinite(a))[0]
                name = f"x[{k}]" if len(xs) > 1 else "x"
                raise ValueError(f"Model '{self.name}': {where}() received non-finite input "
                                 f"(NaN or inf), first at {name}[{', '.join(map(str, bad))}]. "
                                 "Clean or impute the data first.")
            out.append(a)
        return out

    def _text_input(self, a, input_id, k, count, where):
        """Strings go to an `Input(dtype="string")` as they are (TextVectorization or a lookup
        layer turns them into numbers); anywhere else they are an error."""
        layer = self._nodes[input_id].layer
        declared = getattr(layer, "dtype", None)
        if declared != "string" and self._functional_graph():
            name = f"x[{k}]" if count > 1 else "x"
            raise TypeError(
                f"Model '{self.name}': {where}() received strings in {name} (dtype {a.dtype}), "
                f"but input '{layer.name}' takes {declared or 'float'} values. Declare text "
                "inputs with kerasnp.Input(shape=(1,), dtype='string') and follow them with "
                "TextVectorization or StringLookup, or vectorize the texts before fit.")
        return a if a.dtype.kind == "O" else a.astype(object)

    def _functional_graph(self):
        from .model import Model
        return type(self).call is Model.call

    def _to_array(self, a, where):
        if a is None:
            raise ValueError(f"Model '{self.name}': {where}() needs input data x: NumPy arrays "
                             "(or lists of numbers), a PyDataset or a generator. Received: "
                             "x=None")
        if not isinstance(a, np.ndarray):
            try:
                a = np.asarray(a)
            except ValueError as err:       # NumPy's "inhomogeneous shape": a ragged list
                raise ValueError(
                    f"Model '{self.name}': {where}() could not make x one numeric array: it "
                    "has rows of different lengths (or mixes numbers and sequences). Pad the "
                    "rows to one length or pass a NumPy array. "
                    f"Received: x of type {type(a).__name__} ({err})") from None
            except Exception:
                raise TypeError(f"Model '{self.name}': {where}() expects x as NumPy arrays or "
                                "lists of numbers. Received: x of type "
                                f"{type(a).__name__}") from None
        if a.dtype.kind not in "fiubUSO":
            raise TypeError(f"Model '{self.name}': {where}() expects numeric x (or strings, "
                            "for an Input(dtype='string')). Received: x with dtype "
                            f"{a.dtype}")
        if a.ndim == 0:
            raise ValueError(f"Model '{self.name}': {where}() expects a batch of samples, "
                             f"received a scalar x={a!r}.")
        return a

    def _input_consumer(self, input_id):
        """How an input-shape error names its culprit: the first layer reading that input."""
        for node in self._nodes:
            if input_id in node.inputs:
                return f"Layer '{node.layer.name}' ({type(node.layer).__name__})"
        return f"Model '{self.name}'"

    def _cast_targets(self, y, n, where):
        spec = self._spec.resolve(self)
        if y is None:
            if spec.has_loss:
                raise ValueError(f"Model '{self.name}': {where}() needs targets y. "
                                 "Received: y=None")
            return None          # the model computes its own loss (add_loss, train_step)
        ys = as_list(y, spec.names, "output", where, self.name)
        out = []
        for i, (t, loss, shape) in enumerate(zip(ys, spec.losses, self.output_shapes)):
            try:
                t = np.asarray(t)
            except ValueError as err:       # a ragged list
                raise ValueError(f"Model '{self.name}': {where}() could not make y one array: "
                                 "it has rows of different lengths. Received: y of type "
                                 f"{type(t).__name__} ({err})") from None
            if t.ndim == 0 or len(t) != n:
                raise ValueError(f"Model '{self.name}': x and y must have the same number of "
                                 f"samples. Received: {n} samples in x, y.shape={t.shape}"
                                 + (f" for output '{spec.names[i]}'" if spec.multi else ""))
            if loss is not None:
                t = loss.check_targets(t, shape)
            if t.dtype.kind in "fiub" and t.ndim == len(shape) and t.dtype != self._dtype():
                t = t.astype(self._dtype())
            if t.dtype.kind == "f" and not np.isfinite(t).all():
                raise ValueError(f"Model '{self.name}': {where}() received non-finite targets "
                                 "(NaN or inf) in y.")
            out.append(np.ascontiguousarray(t))
        return out

    def _cast_weights(self, sample_weight, n, where):
        if sample_weight is None:
            return None
        raw = np.asarray(sample_weight)
        if raw.dtype.kind not in "fiub":
            raise ValueError(f"Model '{self.name}': {where}() sample_weight must hold numbers, "
                             f"one per sample. Received: sample_weight with dtype {raw.dtype}")
        sw = raw.astype(self._dtype(), copy=False).reshape(-1)
        if len(sw) != n:
            raise ValueError(f"Model '{self.name}': {where}() sample_weight must have one weight "
                             f"per sample ({n}). Received: sample_weight.shape="
                             f"{np.shape(sample_weight)}")
        if not np.isfinite(sw).all():
            # checked here, or the first batch would stop with a non-finite loss that
            # blames the learning rate
            bad = int(np.argmin(np.isfinite(sw)))
            raise ValueError(f"Model '{self.name}': {where}() sample_weight holds NaN or inf, "
                             f"first at index {bad} ({sw[bad]}). Received: sample_weight with "
                             f"{int((~np.isfinite(sw)).sum())} non-finite values")
        return sw

    def _prepare_data(self, x, y, sample_weight, class_weight, where, label="x"):
        xs = self._cast_inputs(x, where)
        n = len(xs[0])
        if n == 0:
            raise ValueError(f"Model '{self.name}': {where}() received no samples: {label} has 0 "
                             "rows. Pass at least one sample.")
        ys = self._cast_targets(y, n, where)
        sw = self._cast_weights(sample_weight, n, where)
        if class_weight is not None:
            if len(ys) > 1:
                raise ValueError(f"Model '{self.name}': class_weight works for single-output "
                                 "models; pass sample_weight instead.")
            cw = class_weights_to_sample_weights(class_weight, ys[0], self.output_shapes[0][-1],
                                                 self._dtype())
            sw = cw if sw is None else sw * cw
        return xs, ys, sw

    def _arg(self, xs):
        return xs if self._multi_input else xs[0]

    def _adapt_batch(self, x, y, sample_weight, where):
        """One batch from a PyDataset or generator -> validated lists (targets may be None)."""
        xs = self._cast_inputs(x, where)
        if y is None:
            if where not in ("predict", "predict_on_batch") and any(
                    l is not None for l in self._spec.resolve(self).losses):
                raise ValueError(f"Model '{self.name}': {where}() needs batches (x, y) or "
                                 "(x, y, sample_weight); a batch had no targets.")
            return xs, None, None
        n = len(xs[0])
        return xs, self._cast_targets(y, n, where), self._cast_weights(sample_weight, n, where)

    def _fit_sources(self, x, y, sample_weight, class_weight, batch_size, shuffle,
                     steps_per_epoch, validation_split, validation_data, validation_steps,
                     validation_batch_size):
        """The training batches and the validation batches (or None) of one `fit`."""
        from .data_sources import ArraySource, is_stream
        validation_split = _validate.number(validation_split, "validation_split", "fit()",
                                            low=0.0, high=1.0, high_open=True)
        val_batch = validation_batch_size or batch_size
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

            def part(items, sl):
                return None if items is None else [a[sl] for a in items]
            val = ArraySource(self, part(xs, slice(cut, None)), part(ys, slice(cut, None)),
                              None if sw is None else sw[cut:], val_batch, False)
            train = ArraySource(self, part(xs, slice(None, cut)), part(ys, slice(None, cut)),
                                None if sw is None else sw[:cut], batch_size, shuffle)
            return train, val
        train = self._make_source(x, y, sample_weight, class_weight, batch_size, shuffle,
                                  steps_per_epoch, "fit", "steps_per_epoch")
        if validation_data is None:
            return train, None
        if is_stream(validation_data):
            return train, self._make_source(validation_data, None, None, None, None, False,
                                            validation_steps, "fit", "validation_steps")
        if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
            vx, vy, vsw = (list(validation_data) + [None])[:3]
            return train, self._make_source(vx, vy, vsw, None, val_batch, False,
                                            validation_steps, "fit", "validation_steps")
        raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                         "sample_weight_val), a PyDataset or a generator. Received: "
                         f"{type(validation_data).__name__}")

    def _make_source(self, x, y, sample_weight, class_weight, batch_size, shuffle, steps, where,
                     steps_arg="steps"):
        """The batches of `x` (arrays, PyDataset/DataLoader, or generator) for one loop."""
        from .data_sources import ArraySource, GeneratorSource, SequenceSource, is_stream
        if steps is not None:
            steps = _validate.positive_int(steps, steps_arg, f"{where}()")
        if is_stream(x):
            for name, value in (("y", y), ("sample_weight", sample_weight),
                                ("class_weight", class_weight)):
                if value is not None:
                    raise ValueError(f"Model '{self.name}': {where}() got a dataset or generator "
                                     f"as x, whose batches carry their own targets and weights; "
                                     f"{name} must be None. Received: {name} of type "
                                     f"{type(value).__name__}")
            if hasattr(x, "__next__"):
                if shuffle and where == "fit":
                    warnings.warn("fit(shuffle=True) is ignored for generators: kerasnp takes "
                                  "their batches in the order they come.", UserWarning,
                                  stacklevel=3)
                source = GeneratorSource(self, x, steps, where, steps_arg)
            else:
                source = SequenceSource(self, x, shuffle and where == "fit", where, steps)
            return source
        if steps is not None:
            raise ValueError(f"{steps_arg} applies to generators and datasets; with NumPy arrays "
                             "every epoch covers all samples (set batch_size instead). "
                             f"Received: {steps_arg}={steps!r}")
        if where == "predict":
            return ArraySource(self, self._cast_inputs(x, where), None, None, batch_size, False)
        xs, ys, sw = self._prepare_data(x, y, sample_weight, class_weight, where,
                                        "validation_data" if steps_arg == "validation_steps"
                                        else "x")
        return ArraySource(self, xs, ys, sw, batch_size, shuffle)
