"""`FeatureSpace`: Keras's one-stop preprocessing of structured (tabular) data, on NumPy.

Each named feature gets a preprocessing layer (Normalization, Rescaling, Discretization,
StringLookup, IntegerLookup, Hashing), crossed features a HashedCrossing, and categorical
encodings a multi-hot CategoryEncoding; the encodings are concatenated in sorted name order
(features, then crosses) or returned as a dict, as Keras does.
"""
import numpy as np

from .feature_space_specs import Cross, Feature, check_names, deserialize, gather, serialize

_TYPES = ("float", "float_discretized", "float_normalized", "float_rescaled",
          "integer_categorical", "integer_hashed", "string_categorical", "string_hashed")


def _layers():
    from .. import layers           # lazily: utils must not import layers at import time
    return layers


class FeatureSpace:
    """One-stop preprocessing and encoding of structured data (Keras's `keras.utils.FeatureSpace`).

    Args:
        features: Dict of feature name to its type: a name (`"float"`, `"float_normalized"`,
            `"float_rescaled"`, `"float_discretized"`, `"integer_categorical"`,
            `"string_categorical"`, `"integer_hashed"`, `"string_hashed"`) or a spec from
            `FeatureSpace.float_normalized()` etc.
        output_mode: `"concat"` (one float vector per sample) or `"dict"` (each feature's
            encoding under its name).
        crosses: Features to cross, e.g. `[("f1", "f2")]` or `FeatureSpace.cross(...)` specs.
        crossing_dim: Hash bins of a cross given as a tuple of names.
        hashing_dim: Hash bins of `"integer_hashed"` / `"string_hashed"` given by name.
        num_discretization_bins: Bins of `"float_discretized"` given by name.
        name: Name of the feature space.

    Example:
        >>> import numpy as np
        >>> data = {"x": np.array([0.0, 1.0, 2.0]), "c": np.array(["a", "b", "a"])}
        >>> fs = FeatureSpace({"x": "float_normalized", "c": "string_categorical"})
        >>> fs.adapt(data)
        >>> fs(data).shape                 # 3 lookup indices ([UNK], a, b) + 1 float
        (3, 4)
    """

    # ---------------------------------------------------------------- feature constructors
    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        return Feature("float32", _layers().Identity(name=_pre(name)), "float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        return Feature("float32", _layers().Rescaling(scale=scale, offset=offset,
                                                      name=_pre(name)), "float")

    @classmethod
    def float_normalized(cls, name=None):
        return Feature("float32", _layers().Normalization(axis=-1, name=_pre(name)), "float")

    @classmethod
    def float_discretized(cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None):
        # given boundaries win over `num_bins` (Keras's Discretization refuses both)
        pre = _layers().Discretization(num_bins=None if bin_boundaries is not None else num_bins,
                                       bin_boundaries=bin_boundaries, name=_pre(name))
        return Feature("float32", pre, output_mode)

    @classmethod
    def integer_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot",
                            name=None):
        pre = _layers().IntegerLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                                      name=_pre(name))
        return Feature("int32", pre, output_mode)

    @classmethod
    def string_categorical(cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot",
                           name=None):
        pre = _layers().StringLookup(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                                     name=_pre(name))
        return Feature("string", pre, output_mode)

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        return Feature("string", _layers().Hashing(num_bins=num_bins, name=_pre(name)),
                       output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        return Feature("int32", _layers().Hashing(num_bins=num_bins, name=_pre(name)),
                       output_mode)

    # ---------------------------------------------------------------- construction
    def __init__(self, features, output_mode="concat", crosses=None, crossing_dim=32,
                 hashing_dim=32, num_discretization_bins=32, name=None):
        if not isinstance(features, dict) or not features:
            raise ValueError("FeatureSpace: `features` must be a non-empty dict of feature name "
                             f"to feature type. Received: features={features!r}")
        if output_mode not in ("concat", "dict"):
            raise ValueError("FeatureSpace: invalid `output_mode`. Expected one of ['concat', "
                             f"'dict']. Received: output_mode={output_mode!r}")
        self.name = name or "feature_space"
        self.output_mode = output_mode
        self.crossing_dim, self.hashing_dim = crossing_dim, hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {n: self._standardize(n, f) for n, f in features.items()}
        self.crosses = [self._standardize_cross(c) for c in (crosses or [])]
        self.crosses_by_name = {c.name: c for c in self.crosses}
        self.preprocessors = {n: f.preprocessor for n, f in self.features.items()}
        self.crossers = {c.name: _layers().HashedCrossing(c.crossing_dim, name=c.name)
                         for c in self.crosses}
        self.one_hot_encoders = {}
        self.inputs = None
        self.encoded_features = None
        self._is_adapted = not self._adaptable()

    def _standardize(self, name, feature):
        if isinstance(feature, Feature):
            return feature
        if isinstance(feature, dict):
            return deserialize(feature, f"feature '{name}'")
        makers = {"float": lambda: self.float(name=name),
                  "float_normalized": lambda: self.float_normalized(name=name),
                  "float_rescaled": lambda: self.float_rescaled(name=name),
                  "float_discretized": lambda: self.float_discretized(
                      self.num_discretization_bins, name=name),
                  "integer_categorical": lambda: self.integer_categorical(name=name),
                  "string_categorical": lambda: self.string_categorical(name=name),
                  "integer_hashed": lambda: self.integer_hashed(self.hashing_dim, name=name),
                  "string_hashed": lambda: self.string_hashed(self.hashing_dim, name=name)}
        if feature not in makers:
            raise ValueError(f"FeatureSpace: invalid type for feature '{name}'. Expected a "
                             f"FeatureSpace spec or one of {list(_TYPES)}. Received: {feature!r}")
        return makers[feature]()

    def _standardize_cross(self, cross):
        if isinstance(cross, dict):
            cross = deserialize(cross, "a cross")
        if not isinstance(cross, Cross):
            if not self.crossing_dim:
                raise ValueError("FeatureSpace: `crosses` given as names need `crossing_dim`. "
                                 f"Received: crossing_dim={self.crossing_dim!r}")
            cross = Cross(cross, crossing_dim=self.crossing_dim)
        unknown = [n for n in cross.feature_names if n not in self.features]
        if unknown:
            raise ValueError(f"FeatureSpace: the cross {cross.feature_names} names unknown "
                             f"features {unknown}. Valid features: {sorted(self.features)}")
        return cross

    # ---------------------------------------------------------------- adapting
    def _adaptable(self):
        L, out = _layers(), []
        for name, pre in self.preprocessors.items():
            if isinstance(pre, L.Normalization) and pre.input_mean is not None:
                continue
            if getattr(pre, "_has_input_vocabulary", False):
                continue
            if isinstance(pre, L.Discretization) and pre.num_bins is None:
                continue                                # its bin_boundaries were given
            if hasattr(pre, "adapt"):
                out.append(name)
        return out

    def adapt(self, dataset):
        """Fit the adaptable preprocessors (normalization statistics, bin boundaries,
        vocabularies) to `dataset`: a dict of arrays, or an iterable / `PyDataset` of dict
        batches (or of `(dict, labels)` batches)."""
        data = gather(dataset, list(self.features))
        for name in self._adaptable():
            x = np.asarray(data[name])
            self.preprocessors[name].adapt(x.reshape(-1, 1) if x.ndim <= 1 else x)
        self._is_adapted = True
        self.one_hot_encoders = {}
        self.encoded_features = None

    def _check_adapted(self):
        if not self._is_adapted:
            raise ValueError(f"FeatureSpace '{self.name}': call `.adapt(dataset)` before "
                             "using it (features to adapt: " + ", ".join(self._adaptable()) + ")")

    # ---------------------------------------------------------------- encoding
    def get_inputs(self):
        """Dict of feature name to a `kerasnp.Input((1,), dtype)` for functional models."""
        from .. import Input
        if self.inputs is None:
            self.inputs = {n: Input((1,), dtype=f.dtype, name=n)
                           for n, f in self.features.items()}
        return self.inputs

    def get_encoded_features(self):
        """The encoding of `get_inputs()` as symbolic tensors (a tensor, or a dict in "dict"
        mode), to build a functional model on."""
        self._check_adapted()
        if self.encoded_features is None:
            self.encoded_features = self._encode(self.get_inputs(), symbolic=True)
        return self.encoded_features

    def __call__(self, data):
        """Encode `data`, a dict of feature name to array (one value per sample)."""
        self._check_adapted()
        if not isinstance(data, dict):
            raise ValueError(f"FeatureSpace '{self.name}' can only be called with a dict of "
                             f"feature name to array. Received: type(data)={type(data)}")
        check_names(data, self.features)
        batch, rebatched = {}, False
        for name, value in data.items():
            x = np.asarray(value)
            if x.dtype.kind in "OSU":
                x = x.astype(str)
            elif self.features[name].dtype == "float32":
                x = x.astype(np.float32)
            if x.ndim == 0:
                x, rebatched = x.reshape(1, 1), True
            elif x.ndim == 1:
                x = x[:, None]
            batch[name] = x
        out = self._encode(batch, symbolic=False)
        if rebatched:
            return out[0] if self.output_mode == "concat" else \
                {k: v[0] if v.ndim == 2 and v.shape[0] == 1 else v for k, v in out.items()}
        return out

    def _encode(self, inputs, symbolic):
        L = _layers()
        pre = {n: self.preprocessors[n](inputs[n]) for n in self.features}
        crossed = {c.name: self.crossers[c.name]([pre[n] for n in c.feature_names])
                   for c in self.crosses}
        names = sorted(pre) + sorted(crossed)
        specs = dict(self.features, **self.crosses_by_name)
        merged = dict(pre, **crossed)
        out = {}
        for name in names:
            value = merged[name]
            if specs[name].output_mode == "one_hot":
                value = self._one_hot(name)(value)
            elif not symbolic and specs[name].output_mode == "float":
                value = np.asarray(value, np.float32)
            if self.output_mode == "concat" and specs[name].output_mode == "int":
                raise ValueError(f"FeatureSpace: cannot concatenate feature '{name}': its "
                                 "output_mode is 'int' (not encoded). Use output_mode='dict' "
                                 "or an encoded output_mode ('one_hot', 'float').")
            out[name] = value if symbolic else np.asarray(value)
        if self.output_mode == "dict":
            return out
        values = [out[n] for n in names]
        if symbolic:
            return L.Concatenate(axis=-1)(values) if len(values) > 1 else values[0]
        return np.concatenate([v.astype(np.float32) for v in values], axis=-1)

    def _one_hot(self, name):
        if name not in self.one_hot_encoders:
            L = _layers()
            pre = self.preprocessors.get(name) or self.crossers[name]
            if isinstance(pre, (L.IntegerLookup, L.StringLookup)):
                size = pre.vocabulary_size()
            elif isinstance(pre, L.Discretization):
                size = pre.num_bins or len(pre.bin_boundaries) + 1
            elif isinstance(pre, (L.Hashing, L.HashedCrossing)):
                size = pre.num_bins
            elif isinstance(pre, L.CategoryEncoding):
                size = pre.num_tokens
            else:
                raise ValueError(f"FeatureSpace: feature '{name}' has output_mode='one_hot' "
                                 f"but its preprocessor ({type(pre).__name__}) has no known "
                                 "number of categories; use output_mode='int'.")
            self.one_hot_encoders[name] = L.CategoryEncoding(num_tokens=int(size),
                                                             output_mode="multi_hot")
        return self.one_hot_encoders[name]

    # ---------------------------------------------------------------- config
    def get_config(self):
        return {"features": {n: serialize(f) for n, f in self.features.items()},
                "output_mode": self.output_mode,
                "crosses": [serialize(c) for c in self.crosses],
                "crossing_dim": self.crossing_dim, "hashing_dim": self.hashing_dim,
                "num_discretization_bins": self.num_discretization_bins}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _pre(name):
    return f"{name}_preprocessor" if name else None
