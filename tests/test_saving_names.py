"""Keras 3's saving names: custom objects and scopes, (de)serialize_keras_object, layers.serialize
/ deserialize, models.save_model, keras.utils spellings, Config, constraint aliases and
Layer.input / output. Expected layouts and behaviours were checked with Keras 3.15
(KERAS_BACKEND=torch)."""
import inspect
import json

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import saving, utils


class Twice(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return self.factor * x

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _cube(x):
    return x * x * x


# ----------------------------------------------------------------------------- signatures
def test_signatures_match_keras():
    sig = lambda f: str(inspect.signature(f))
    assert sig(saving.custom_object_scope) == "(custom_objects)"
    assert sig(saving.serialize_keras_object) == "(obj)"
    assert sig(saving.deserialize_keras_object) == \
        "(config, custom_objects=None, safe_mode=True, **kwargs)"
    assert sig(saving.get_registered_name) == "(obj)"
    assert sig(saving.get_registered_object).startswith("(name, custom_objects=None")
    assert sig(saving.register_keras_serializable) == "(package='Custom', name=None)"
    assert sig(saving.get_custom_objects) == "()"
    assert sig(keras.layers.serialize) == "(layer)"
    assert sig(keras.layers.deserialize) == "(config, custom_objects=None)"
    assert sig(keras.models.save_model) == "(model, filepath, overwrite=True, **kwargs)"
    assert saving.custom_object_scope is saving.CustomObjectScope
    for name in ("custom_object_scope", "CustomObjectScope", "get_custom_objects",
                 "serialize_keras_object", "deserialize_keras_object", "get_registered_name",
                 "get_registered_object", "register_keras_serializable"):
        assert getattr(utils, name) is getattr(saving, name), name
        assert name in utils.__all__ and name in saving.__all__


# ----------------------------------------------------------------------------- registration
def test_register_names_and_global_custom_objects():
    @saving.register_keras_serializable()
    def cubed_fn(x):
        return x * x * x

    @saving.register_keras_serializable(package="P", name="L2")
    class Named(Twice):
        pass

    try:
        assert saving.get_registered_name(cubed_fn) == "Custom>cubed_fn"
        assert saving.get_registered_name(Named) == "P>L2"
        assert saving.get_registered_name(keras.layers.Dense) == "Dense"
        assert saving.get_custom_objects()["P>L2"] is Named
        assert saving.get_registered_object("P>L2") is Named
        assert saving.get_registered_object("L2") is None
        assert saving.get_registered_object("x", custom_objects={"x": 1}) == 1
        assert saving.serialize_keras_object(cubed_fn) == {
            "module": "builtins", "class_name": "function", "config": "Custom>cubed_fn",
            "registered_name": "function"}
        assert saving.deserialize_keras_object(
            saving.serialize_keras_object(cubed_fn)) is cubed_fn
    finally:
        saving.get_custom_objects().pop("P>L2")
        saving.get_custom_objects().pop("Custom>cubed_fn")


def test_adding_to_get_custom_objects_makes_a_name_loadable():
    config = keras.layers.serialize(Twice(3.0, name="t"))
    with pytest.raises(TypeError, match="Could not locate class 'Twice'"):
        keras.layers.deserialize(config)
    saving.get_custom_objects()["Twice"] = Twice
    try:
        layer = keras.layers.deserialize(config)
        assert type(layer) is Twice and layer.factor == 3.0 and layer.name == "t"
    finally:
        del saving.get_custom_objects()["Twice"]


# ----------------------------------------------------------------------------- scopes
def test_scope_nesting_and_exit():
    assert saving.get_registered_object("Twice") is None
    with saving.custom_object_scope({"Twice": Twice}) as scope:
        assert isinstance(scope, saving.CustomObjectScope)
        assert saving.get_registered_object("Twice") is Twice
        with saving.custom_object_scope({"cube": _cube, "Twice": Twice}):
            assert saving.get_registered_object("cube") is _cube
            assert saving.get_registered_object("Twice") is Twice
        assert saving.get_registered_object("cube") is None       # inner scope gone
        assert saving.get_registered_object("Twice") is Twice     # outer one still there
    assert saving.get_registered_object("Twice") is None


def test_scope_exits_on_error_and_restores_a_shadowed_object():
    saving.get_custom_objects()["thing"] = 1
    try:
        with pytest.raises(RuntimeError):
            with saving.custom_object_scope({"thing": 2, "other": 3}):
                assert saving.get_registered_object("thing") == 2
                raise RuntimeError("boom")
        assert saving.get_registered_object("thing") == 1
        assert saving.get_registered_object("other") is None
    finally:
        del saving.get_custom_objects()["thing"]


def test_scope_rejects_bad_argument():
    with pytest.raises(TypeError, match="custom_objects must be a dict"):
        saving.custom_object_scope([Twice])


def test_scope_reaches_layer_configs_and_load_model(tmp_path):
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(2, activation=_cube)(Twice(1.5, name="tw")(inputs))
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    expected = model.predict(x, verbose=0)
    for ext in ("keras", "kerasnp"):
        path = str(tmp_path / f"m.{ext}")
        model.save(path)
        with pytest.raises(Exception, match="Twice"):
            keras.models.load_model(path)
        with saving.custom_object_scope({"Twice": Twice, "_cube": _cube}):
            loaded = keras.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-6)
        assert isinstance(loaded.get_layer("tw"), Twice)
    with saving.custom_object_scope({"Twice": Twice, "_cube": _cube}):
        again = keras.models.model_from_json(model.to_json())
    assert isinstance(again.get_layer("tw"), Twice)


def test_registered_custom_layer_round_trips_and_loads(tmp_path):
    @saving.register_keras_serializable(package="Tests")
    class Scaled(Twice):
        pass

    try:
        config = keras.layers.serialize(Scaled(4.0, name="s"))
        assert config["class_name"] == "Scaled"
        assert config["registered_name"] == "Tests>Scaled"
        json.dumps(config)
        layer = keras.layers.deserialize(config)
        assert type(layer) is Scaled and layer.factor == 4.0
        model = keras.Sequential([keras.Input((2,)), Scaled(4.0), keras.layers.Dense(1)])
        path = str(tmp_path / "m.keras")
        keras.models.save_model(model, path)
        x = np.ones((2, 2), "float32")
        np.testing.assert_allclose(keras.models.load_model(path).predict(x, verbose=0),
                                   model.predict(x, verbose=0), rtol=1e-6)
    finally:
        saving.get_custom_objects().pop("Tests>Scaled")


# ----------------------------------------------------------------------------- (de)serialize
def test_serialize_keras_object_layout():
    d = saving.serialize_keras_object(keras.layers.Dense(3, name="d"))
    assert d["module"] == "keras.layers" and d["class_name"] == "Dense"
    assert d["registered_name"] is None and d["config"]["units"] == 3
    assert d["config"]["dtype"] == {"module": "keras", "class_name": "DTypePolicy",
                                    "config": {"name": "float32"}, "registered_name": None}
    assert d["config"]["kernel_initializer"]["module"] == "keras.initializers"
    assert saving.serialize_keras_object(keras.activations.relu) == {
        "module": "builtins", "class_name": "function", "config": "relu",
        "registered_name": "function"}
    assert saving.serialize_keras_object(keras.losses.MeanSquaredError())["module"] == \
        "keras.losses"
    assert saving.serialize_keras_object([1, "a", None, 2.5]) == [1, "a", None, 2.5]
    assert saving.serialize_keras_object(np.float32(2.0)) == 2.0
    assert saving.serialize_keras_object(np.array([1.0, 2.0])) == {
        "class_name": "__numpy__", "config": {"value": [1.0, 2.0], "dtype": "float64"}}
    with pytest.raises(TypeError, match="never saves code"):
        saving.serialize_keras_object(lambda x: x)


@pytest.mark.parametrize("make", [
    lambda: keras.losses.MeanSquaredError(),
    lambda: keras.optimizers.Adam(0.01, beta_1=0.8),
    lambda: keras.initializers.GlorotUniform(seed=3),
    lambda: keras.regularizers.L2(0.1),
    lambda: keras.constraints.MaxNorm(2.0),
    lambda: keras.metrics.AUC(num_thresholds=50),
    lambda: keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9),
    lambda: keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)),
    lambda: keras.layers.Conv2D(4, 3, activation="relu", name="c"),
])
def test_round_trip_through_json(make):
    obj = make()
    d = json.loads(json.dumps(saving.serialize_keras_object(obj)))
    back = saving.deserialize_keras_object(d)
    assert type(back) is type(obj)
    assert back.get_config() == obj.get_config()


def test_deserialize_reads_keras_written_dicts():
    # as written by Keras 3.15 (torch backend)
    adam = {"module": "keras.src.backend.torch.optimizers.torch_adam", "class_name": "Adam",
            "config": {"name": "adam", "learning_rate": 0.0010000000474974513,
                       "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                       "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                       "ema_overwrite_frequency": None, "loss_scale_factor": None,
                       "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999,
                       "epsilon": 1e-07, "amsgrad": False}, "registered_name": "Adam"}
    opt = saving.deserialize_keras_object(adam)
    assert type(opt).__name__ == "Adam" and opt.get_config()["learning_rate"] == 0.001
    init = saving.deserialize_keras_object(
        {"module": "keras.initializers", "class_name": "GlorotUniform",
         "config": {"seed": None, "input_axes": None, "output_axes": None},
         "registered_name": None})
    assert type(init).__name__ == "GlorotUniform"
    fn = saving.deserialize_keras_object({"module": "builtins", "class_name": "function",
                                          "config": "mean_squared_error",
                                          "registered_name": "function"})
    assert fn is keras.losses.mean_squared_error
    assert saving.deserialize_keras_object([1, {"a": 2}, "relu"]) == [1, {"a": 2}, "relu"]
    arr = saving.deserialize_keras_object({"class_name": "__numpy__",
                                           "config": {"value": [1, 2], "dtype": "int32"}})
    assert arr.dtype == np.int32 and arr.tolist() == [1, 2]


@pytest.mark.parametrize("hostile, match", [
    ({"module": "os", "class_name": "system", "config": "ls", "registered_name": None},
     "Could not locate class 'system' \\(module 'os'\\).*never imports"),
    ({"module": "os", "class_name": "system", "config": {}, "registered_name": "os.system"},
     "Could not locate class 'system'"),
    ({"module": "subprocess", "class_name": "Popen", "config": {"args": "ls"}},
     "never imports"),
    ({"module": "builtins", "class_name": "function", "config": "eval",
      "registered_name": "function"}, "Could not locate function 'eval'"),
    ({"module": "builtins", "class_name": "function", "config": "os.system",
      "registered_name": "function"}, "Could not locate function 'os.system'"),
    ({"class_name": "__lambda__", "config": {"code": "abc"}}, "not read by kerasnp"),
    ({"class_name": "__numpy__", "config": {"value": [1], "dtype": "object"}}, "dtype"),
])
def test_hostile_dicts_are_refused(hostile, match):
    with pytest.raises(TypeError, match=match):
        saving.deserialize_keras_object(hostile)


def test_a_plain_string_stays_a_string():
    assert saving.deserialize_keras_object("os.system") == "os.system"


def test_layers_serialize_and_deserialize_errors():
    with pytest.raises(TypeError, match="expects a Layer"):
        keras.layers.serialize(keras.losses.MeanSquaredError())
    with pytest.raises(TypeError, match="is not a layer"):
        keras.layers.deserialize({"module": "keras.losses", "class_name": "MeanSquaredError",
                                  "config": {}})
    with pytest.raises(TypeError, match="expects a dict"):
        keras.layers.deserialize("Dense")
    layer = keras.layers.deserialize({"class_name": "Dense", "config": {"units": 2}},
                                     custom_objects={"Twice": Twice})
    assert layer.units == 2


def test_lambda_layer_refused_in_safe_mode():
    d = {"module": "keras.layers", "class_name": "Lambda",
         "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {}}}}
    with pytest.raises(ValueError, match="safe_mode"):
        saving.deserialize_keras_object(d)


# ----------------------------------------------------------------------------- save_model
def test_models_save_model(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = str(tmp_path / "m.keras")
    keras.models.save_model(model, path)
    with pytest.raises(FileExistsError):
        keras.models.save_model(model, path, overwrite=False)
    keras.models.save_model(model, path, include_optimizer=False, zipped=True)
    assert keras.models.load_model(path).count_params() == 8
    with pytest.raises(ValueError, match="zipped=False"):
        keras.models.save_model(model, path, zipped=False)
    with pytest.raises(TypeError, match="unexpected arguments"):
        keras.models.save_model(model, path, bogus=1)


# ----------------------------------------------------------------------------- Config
def test_config_behaves_as_keras():
    c = utils.Config(a=1, b=2)
    assert c.a == 1 and c["b"] == 2 and "a" in c and len(c) == 2 and list(c) == ["a", "b"]
    c.c = 3
    assert c.to_json() == '{"a": 1, "b": 2, "c": 3}' and c.get("z") is None
    with pytest.raises(AttributeError, match="Unknown attribute: 'z'"):
        c.z
    with pytest.raises(KeyError):
        c["z"]
    c.freeze()
    assert c.frozen
    for change in (lambda: setattr(c, "d", 1), lambda: c.__setitem__("a", 5),
                   lambda: c.pop("a"), lambda: c.update({"x": 1}),
                   lambda: c.__delitem__("a")):
        with pytest.raises(ValueError, match="frozen"):
            change()
    c.unfreeze()
    c.a = 9
    assert c.as_dict() == {"a": 9, "b": 2, "c": 3}
    assert repr(utils.Config(a=1)) == "<Config {'a': 1}>"


# ----------------------------------------------------------------------------- small names
def test_constraint_aliases_are_the_classes():
    C = keras.constraints
    assert C.max_norm is C.MaxNorm and C.min_max_norm is C.MinMaxNorm
    assert C.non_neg is C.NonNeg and C.unit_norm is C.UnitNorm
    w = np.array([[3.0, -4.0]])
    np.testing.assert_allclose(C.non_neg()(w), [[3.0, 0.0]])


def test_layer_input_output_before_and_after_a_symbolic_call():
    dense = keras.layers.Dense(3, name="never_called")
    for which in ("input", "output"):
        with pytest.raises(AttributeError, match=f"'never_called' \\(Dense\\) has never been "
                                                 f"called.*no defined {which}"):
            getattr(dense, which)
    assert not hasattr(dense, "input")
    x = keras.Input((4,))
    y = dense(x)
    assert dense.input is x and dense.output is y
