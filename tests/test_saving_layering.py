"""Saving sits above the engine: nothing below imports `kerasnp.saving`, yet models keep Keras's
`save` / `load_weights` / `to_json` and rebuild themselves from configs. Also the weight budget
that `Layer.add_weight` consults while a model is rebuilt from an untrusted config."""
import ast
import json
import pathlib
import threading

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import _serializable, _weight_budget
from kerasnp.models import model_files
from kerasnp.saving import ModelFileError
from test_saving_hostile import _bounded, _edit_config, _members, _write

PACKAGE = pathlib.Path(keras.__file__).parent
BELOW_SAVING = ("models", "layers", "ops", "kernels", "autodiff", "_serializable.py",
                "_weight_budget.py", "_registry.py", "variables.py")


def _imported_modules(path):
    """Absolute names of every module `path` imports, at any depth (function bodies too)."""
    package = ".".join(("kerasnp",) + path.relative_to(PACKAGE).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] \
                if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield module
            yield from (f"{module}.{a.name}" for a in node.names)


def _files_below_saving():
    for name in BELOW_SAVING:
        target = PACKAGE / name
        yield from (sorted(target.rglob("*.py")) if target.is_dir() else [target])


def test_nothing_below_saving_imports_it():
    files = list(_files_below_saving())
    assert len(files) > 30                               # the walk found the engine and layers
    offenders = [f"{f.relative_to(PACKAGE)} imports {m}" for f in files
                 for m in _imported_modules(f)
                 if m == "kerasnp.saving" or m.startswith("kerasnp.saving.")]
    assert offenders == []


def test_the_import_scan_resolves_relative_imports(monkeypatch):
    model_py = PACKAGE / "models" / "model.py"
    names = set(_imported_modules(model_py))
    assert "kerasnp.models.graph" in names and "kerasnp.layers.base.Layer" in names
    code = "def f():\n    from ..saving import model_io\n"
    monkeypatch.setattr(pathlib.Path, "read_text", lambda self: code)
    assert "kerasnp.saving.model_io" in set(_imported_modules(model_py))   # indented too


def test_saving_reexports_the_registration_api():
    for name in ("register_serializable", "get_registered_name", "get_registered_object"):
        assert getattr(keras.saving, name) is getattr(_serializable, name)
    assert keras.saving.register_keras_serializable is _serializable.register_serializable
    from kerasnp.saving import serialization
    from kerasnp.layers import serialization as layer_serialization
    assert serialization.deserialize_layer is layer_serialization.deserialize_layer


def test_saving_registers_itself_as_the_model_file_service(tmp_path):
    from kerasnp.saving import model_io
    assert model_files._service is model_io
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save(tmp_path / "m.kerasnp")
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "m.kerasnp").predict(
        x, verbose=0), model.predict(x, verbose=0))
    assert keras.models.model_from_json(model.to_json()).predict(x, verbose=0).shape == (2, 2)


def test_model_file_methods_without_a_service_say_what_is_missing(monkeypatch, tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    monkeypatch.setattr(model_files, "_service", None)
    with pytest.raises(RuntimeError, match=r"Model.save needs kerasnp.saving"):
        model.save(tmp_path / "m.kerasnp")
    with pytest.raises(RuntimeError, match=r"load_model needs kerasnp.saving"):
        keras.models.load_model(tmp_path / "m.kerasnp")


def test_an_incomplete_model_file_service_is_refused():
    before = model_files._service

    class Partial:
        def save_model(self, *a, **k):
            pass

    with pytest.raises(TypeError, match=r"without save_weights, load_weights, to_json, "
                                        r"load_model, model_from_json"):
        model_files.register_model_files(Partial())
    assert model_files._service is before


# ----------------------------------------------------------------------------- weight budget
def test_charge_is_inert_outside_a_budget():
    layer = keras.layers.Dense(3)
    _weight_budget.charge(layer, "kernel", (10**12,), np.dtype("float64"))   # no error
    layer.build((None, 4))
    assert layer.kernel.shape == (4, 3)


def test_add_weight_is_charged_inside_a_budget_and_nesting_restores_it():
    with _weight_budget.weight_budget(4 * 12 * 3 + 4 * 3, "the test allows") as outer:
        keras.layers.Dense(3).build((None, 12))             # 144 + 12 bytes: exactly fits
        assert outer.left == 0
        with _weight_budget.weight_budget(10**6, "the inner test allows"):
            keras.layers.Dense(3).build((None, 12))
        with pytest.raises(_serializable.ConfigError,
                           match=r"layer 'big' \(Dense\) weight 'kernel' of shape \(1, 1\) "
                                 r"\(4 bytes\) exceeds what the test allows \(156 bytes in all, "
                                 r"0 left\); refusing to allocate it"):
            keras.layers.Dense(1, name="big").build((None, 1))
    keras.layers.Dense(10).build((None, 1000))               # no budget any more


def test_a_budget_charges_only_its_own_thread():
    errors = []

    def other():
        try:
            keras.layers.Dense(8).build((None, 8))
        except Exception as err:                               # pragma: no cover - reported
            errors.append(err)

    with _weight_budget.weight_budget(0, "nothing"):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        with pytest.raises(_serializable.ConfigError, match="refusing to allocate"):
            keras.layers.Dense(8).build((None, 8))
    assert errors == []


@keras.saving.register_serializable(package="TestLayering")
class Tower(keras.layers.Layer):
    """Creates its sublayer in build(): the old per-layer metering never saw it."""

    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.inner = keras.layers.Dense(self.units, name=f"{self.name}_inner")
        self.inner.build(input_shape)

    def call(self, inputs, training=None, mask=None):
        return self.inner(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_sublayer_made_in_build_is_metered_from_json():
    small = keras.Sequential([keras.Input((4,)), Tower(3, name="tower")])
    rebuilt = keras.models.model_from_json(small.to_json())
    assert [w.shape for w in rebuilt.weights] == [(4, 3), (3,)]
    desc = small.get_config()
    desc["layers"][0]["config"]["shape"] = [10**5]
    desc["layers"][1]["config"]["units"] = 10**5                # 40 GB of kernel
    with _bounded(), pytest.raises(ModelFileError, match=r"weight 'kernel' of shape "
                                                         r"\(100000, 100000\).*refusing"):
        keras.models.model_from_json(json.dumps({"class_name": "Sequential", "config": desc}))


def test_sublayer_made_in_build_is_metered_from_a_file(tmp_path):
    model = keras.Sequential([keras.Input((4,)), Tower(3, name="tower")])
    model.save(tmp_path / "t.kerasnp")

    def edit(cfg):
        cfg["config"]["layers"][1]["config"]["units"] = 10**9
    path = _write(tmp_path / "big.kerasnp",
                  _edit_config(_members((tmp_path / "t.kerasnp").read_bytes()), edit))
    with _bounded(), pytest.raises(ModelFileError, match=r"layer 'tower_inner' \(Dense\) "
                                                         r"weight 'kernel'.*refusing"):
        keras.models.load_model(path)
    assert keras.models.load_model(tmp_path / "t.kerasnp").weights[0].shape == (4, 3)
