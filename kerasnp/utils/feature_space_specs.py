"""The feature and cross specifications of `FeatureSpace` (Keras's `Feature` and `Cross`).

Each is serialized in Keras's layout (`module`, `class_name`, `config`, `registered_name`) so a
FeatureSpace config moves between Keras and kerasnp; the preprocessing layers inside are
(de)serialized through kerasnp's registries, never by import path. Also here: checking a data
dict's keys against the features, and gathering a dataset's batches for `adapt`.
"""
import numpy as np

_MODULE = "keras.src.layers.preprocessing.feature_space"


def _choice(value, valid, what):
    if value not in valid:
        raise ValueError(f"FeatureSpace: invalid `{what}`. Expected one of {sorted(valid)}. "
                         f"Received: {what}={value!r}")
    return value


class Cross:
    """Features hashed together into `crossing_dim` bins (`FeatureSpace.cross(...)`)."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        self.feature_names = tuple(feature_names)
        if len(self.feature_names) < 2 or not all(isinstance(n, str)
                                                  for n in self.feature_names):
            raise ValueError("FeatureSpace.cross: `feature_names` must name two or more "
                             f"features. Received: feature_names={feature_names!r}")
        if isinstance(crossing_dim, bool) or not isinstance(crossing_dim, (int, np.integer)) \
                or crossing_dim < 1:
            raise ValueError("FeatureSpace.cross: `crossing_dim` must be a positive int. "
                             f"Received: crossing_dim={crossing_dim!r}")
        self.crossing_dim = int(crossing_dim)
        self.output_mode = _choice(output_mode, {"int", "one_hot"}, "output_mode")

    @property
    def name(self):
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Feature:
    """One input feature: its input `dtype`, the `preprocessor` layer that encodes it, and the
    `output_mode` of its encoding ("float", "int" or "one_hot")."""

    def __init__(self, dtype, preprocessor, output_mode):
        self.output_mode = _choice(output_mode, {"int", "one_hot", "float"}, "output_mode")
        if isinstance(preprocessor, dict):
            preprocessor = _deserialize_layer(preprocessor)
        if not callable(preprocessor):
            raise ValueError("FeatureSpace.feature: `preprocessor` must be a layer. Received: "
                             f"preprocessor={preprocessor!r}")
        self.dtype = dtype
        self.preprocessor = preprocessor

    def get_config(self):
        pre = self.preprocessor
        # Keras's layout written directly: the Keras-file exporter refuses lookup layers
        layer = {"module": "keras.layers", "class_name": type(pre).__name__,
                 "config": pre.get_config(), "registered_name": None}
        return {"dtype": self.dtype, "preprocessor": layer, "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _deserialize_layer(config):
    from ..layers import Identity
    from ..saving import deserialize_keras_object
    if config.get("class_name") == "TFDIdentity":       # Keras's private identity layer
        inner = dict(config.get("config") or {})
        inner.pop("dtype", None)
        return Identity(name=inner.get("name"))
    from ..layers.base import LAYERS
    cls = LAYERS.get(config.get("class_name"))
    if cls is not None and isinstance(config.get("config"), dict):
        try:
            return cls.from_config(config["config"])
        except (TypeError, ValueError):
            pass                     # e.g. Keras's dtype policy dicts: the general reader
    return deserialize_keras_object(config)


def serialize(spec):
    """`spec` (a Feature or Cross) in Keras's serialization layout."""
    cls = type(spec).__name__
    return {"module": _MODULE, "class_name": cls, "config": spec.get_config(),
            "registered_name": cls}


def deserialize(config, what):
    """A Feature or Cross from Keras's serialization layout (`what` names it in errors)."""
    classes = {"Feature": Feature, "Cross": Cross}
    cls = classes.get(config.get("class_name"))
    if cls is None or not isinstance(config.get("config"), dict):
        raise ValueError(f"FeatureSpace: {what} must be a serialized Feature or Cross. "
                         f"Received: {config!r}")
    return cls.from_config(config["config"])


def check_names(data, features, allow_extra=False):
    missing = [n for n in features if n not in data]
    unknown = [] if allow_extra else [n for n in data if n not in features]
    if missing or unknown:
        raise ValueError("FeatureSpace: the data's keys do not match the features"
                         + (f"; unknown: {unknown}" if unknown else "")
                         + (f"; missing: {missing}" if missing else "")
                         + f". Valid features: {sorted(features)}")


def gather(dataset, names):
    """Dict of feature name to all its values in `dataset` (a dict, or batches of dicts)."""
    if isinstance(dataset, dict):             # extra columns (labels) are ignored, as in Keras
        check_names(dataset, names, allow_extra=True)
        return dataset
    if hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__"):
        batches = (dataset[i] for i in range(len(dataset)))
    elif hasattr(dataset, "__iter__") and not isinstance(dataset, (str, bytes, np.ndarray)):
        batches = iter(dataset)
    else:
        raise ValueError("FeatureSpace.adapt: expected a dict of arrays or an iterable / "
                         f"PyDataset of dict batches. Received: type={type(dataset)}")
    parts = {n: [] for n in names}
    for batch in batches:
        if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], dict):
            batch = batch[0]
        if not isinstance(batch, dict):
            raise ValueError("FeatureSpace.adapt: every batch must be a dict of feature name "
                             f"to array (or a (dict, labels) tuple). Received: {type(batch)}")
        check_names(batch, names, allow_extra=True)
        for n in names:
            parts[n].append(np.asarray(batch[n]).reshape(len(np.atleast_1d(batch[n])), -1))
    if not parts[names[0]]:
        raise ValueError("FeatureSpace.adapt: the dataset yielded no batches.")
    return {n: np.concatenate(v, axis=0) for n, v in parts.items()}
