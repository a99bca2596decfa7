"""Model descriptions (`config.json`) and JSON values; resolved through registries only.

`serialize_model` / `deserialize_model` add the build shape to a model's own config (each model
class owns its `get_config` / `from_config`, in `kerasnp/models/model_config.py`; layers are
resolved by `kerasnp/layers/serialization.py`: `custom_objects`, classes registered with
`register_serializable`, kerasnp's layer registry, never an import by name). Weights created
while a model is rebuilt are charged to the active `weight_budget` (`kerasnp/_weight_budget.py`).
"""
import numpy as np

from .._serializable import ConfigError
from ..layers.serialization import deserialize_layer, serialize_layer

__all__ = ["deserialize_layer", "deserialize_model", "json_default", "serialize_layer",
           "serialize_model", "shape_from_json", "shape_to_json"]


# ----------------------------------------------------------------------------- JSON values
def json_default(obj):
    """`json.dumps(default=...)`: NumPy scalars and arrays become plain numbers and lists."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"a config value of type {type(obj).__name__} is not JSON-serializable "
                    f"(configs hold numbers, strings, lists and dicts). Received: {obj!r}")


def shape_to_json(shape):
    if isinstance(shape, list):
        return [shape_to_json(s) for s in shape]
    return None if shape is None else [None if d is None else int(d) for d in shape]


def shape_from_json(value, what):
    def one(s):
        if not isinstance(s, list) or not all(
                d is None or (isinstance(d, int) and not isinstance(d, bool) and 0 < d < 2**40)
                for d in s):
            raise ConfigError(f"{what} must be a list of positive ints or nulls. Received: {s!r}")
        return tuple(s)
    if value is None:
        return None
    if isinstance(value, list) and value and all(isinstance(s, list) for s in value):
        return [one(s) for s in value]
    return one(value)


# ----------------------------------------------------------------------------- models
def serialize_model(model):
    """The `config.json` description of a model: `class_name`, `config`, `build_config`."""
    from ..models.model import Model
    from ..models.sequential import Sequential
    cls = type(model)
    if cls not in (Model, Sequential):
        own_config = cls.get_config not in (Model.get_config, Sequential.get_config)
        if not own_config and cls.call is not Model.call:
            raise NotImplementedError(
                f"Model '{model.name}' is a subclassed model ({cls.__name__}) without its own "
                "get_config(), so its architecture cannot be saved. Save its weights with "
                "model.save_weights('x.weights.npz') and rebuild it in code, or define "
                "get_config() (returning the constructor arguments) and register the class "
                "with @kerasnp.saving.register_serializable().")
    out = serialize_layer(model)
    out["build_config"] = {"input_shape": shape_to_json(model.input_spec_shape)
                           if model.built else None}
    return out


def deserialize_model(cfg, custom_objects=None):
    """Inverse of `serialize_model`: a built model (weights freshly initialised)."""
    from ..models.model import Model
    if not isinstance(cfg, dict):
        raise ConfigError("the model description must be an object with 'class_name' and "
                          "'config'.")
    model = deserialize_layer(cfg, custom_objects, "model")
    if not isinstance(model, Model):
        raise ConfigError(f"{cfg.get('class_name')!r} is a layer, not a model.")
    if not model.built or not model._nodes:
        build = cfg.get("build_config")
        shape = shape_from_json(build.get("input_shape") if isinstance(build, dict) else None,
                                "build_config.input_shape")
        if shape is None:
            return model                                # saved unbuilt (e.g. to_json)
        try:
            model.build(shape)
        except ConfigError:
            raise
        except Exception as err:
            raise ConfigError(f"model '{model.name}' cannot be built for input shape {shape}: "
                              f"{type(err).__name__}: {err}") from None
        model.built = True
    return model
