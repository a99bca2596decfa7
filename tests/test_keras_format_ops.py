"""Ops between layers (`x * 2`, `ops.mean(x, axis=1)`, `x[:, 0]`) in Keras 3 `.keras` files:
each covered op is written as Keras writes it (an op entry with Keras's class name, its own
arguments in `config`, constants in `inbound_nodes`) and read back into the same kerasnp op with
equal predictions; ops outside the allowlist fall back (writing) or are refused (reading) with
their name. Needs h5py, not keras."""
import json
import warnings
import zipfile

import numpy as np
import pytest

pytest.importorskip("h5py")

import kerasnp as keras  # noqa: E402
from kerasnp import ops  # noqa: E402
from kerasnp.saving import ModelFileError  # noqa: E402

L = keras.layers
RNG = np.random.default_rng(0)

# name -> (f(x, y) on two (None, 4, 6) tensors, the Keras class names written for it)
CASES = {
    "add_tensor": (lambda x, y: x + y, ["Add"]),
    "add_constant": (lambda x, y: x + 2.5, ["Add"]),
    "add_constant_first": (lambda x, y: 2 + x, ["Add"]),
    "subtract_tensor": (lambda x, y: x - y, ["Subtract"]),
    "subtract_constant": (lambda x, y: x - 1.5, ["Subtract"]),
    "subtract_constant_first": (lambda x, y: 1.5 - x, ["Subtract"]),
    "multiply_tensor": (lambda x, y: x * y, ["Multiply"]),
    "multiply_constant": (lambda x, y: x * 3, ["Multiply"]),
    "multiply_constant_first": (lambda x, y: 0.5 * x, ["Multiply"]),
    "divide_tensor": (lambda x, y: x / (y * y + 1), ["Multiply", "Add", "Divide"]),
    "divide_constant": (lambda x, y: x / 4, ["Divide"]),
    "divide_constant_first": (lambda x, y: 2 / (x * x + 1), ["Multiply", "Add", "Divide"]),
    "negative": (lambda x, y: -x, ["Negative"]),
    "matmul": (lambda x, y: ops.matmul(x, ops.transpose(y, (0, 2, 1))), ["Transpose", "Matmul"]),
    "reshape": (lambda x, y: ops.reshape(x, (-1, 24)), ["Reshape"]),
    "transpose": (lambda x, y: ops.transpose(x, (0, 2, 1)), ["Transpose"]),
    "concatenate": (lambda x, y: ops.concatenate([x, y], axis=-1), ["Concatenate"]),
    "mean": (lambda x, y: ops.mean(x, axis=1, keepdims=True), ["Mean"]),
    "sum": (lambda x, y: ops.sum(x, axis=-1), ["Sum"]),
    "max": (lambda x, y: ops.max(x, axis=(1, 2), keepdims=True), ["Max"]),
    "getitem_int": (lambda x, y: x[:, 0], ["GetItem"]),
    "getitem_slices": (lambda x, y: x[:, 1:3, ::2], ["GetItem"]),
    "getitem_negative": (lambda x, y: x[:, -1, 2:-1], ["GetItem"]),
    "relu": (lambda x, y: ops.relu(x), ["Relu"]),
    "sigmoid": (lambda x, y: ops.sigmoid(x), ["Sigmoid"]),
    "tanh": (lambda x, y: ops.tanh(x), ["Tanh"]),
    "softmax": (lambda x, y: ops.softmax(x, axis=1), ["Softmax"]),
}


def ops_model(f):
    """Two inputs, a Dense on each (so weights travel too) and `f` between them."""
    a, b = keras.Input((4, 6), name="a"), keras.Input((4, 6), name="b")
    x, y = L.Dense(6, name="dx")(a), L.Dense(6, name="dy")(b)
    return keras.Model([a, b], L.Dense(3, name="head")(f(x, y)))


def _inputs():
    return [RNG.normal(size=(5, 4, 6)).astype("float32") for _ in range(2)]


def _config(path):
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("config.json"))


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_op_round_trips_through_keras_format(tmp_path, name):
    f, classes = CASES[name]
    keras.utils.set_random_seed(0)
    model, xs = ops_model(f), _inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # no fallback to kerasnp's format
        model.save(tmp_path / "m.keras")
    layers = _config(tmp_path / "m.keras")["config"]["layers"]
    written = [e for e in layers if e["module"].startswith("keras.src.ops.")]
    assert [e["class_name"] for e in written] == classes
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(xs, verbose=0), model.predict(xs, verbose=0))
    ours = [l.op for l in model.layers if type(l).__name__ == "OpLayer"]
    theirs = [l.op for l in loaded.layers if type(l).__name__ == "OpLayer"]
    assert theirs == ours


def test_op_arguments_are_written_as_keras_writes_them(tmp_path):
    # Keras 3.15.1 writes these entries (checked by saving the same model in Keras)
    def f(x, y):
        return ops.concatenate([ops.mean(2 - x, axis=1, keepdims=True), y[:, 1:3]], axis=1)
    ops_model(f).save(tmp_path / "m.keras")
    by_class = {e["class_name"]: e for e in _config(tmp_path / "m.keras")["config"]["layers"]}
    assert by_class["Mean"]["module"] == "keras.src.ops.numpy"
    assert by_class["Mean"]["registered_name"] == "Mean"
    assert {k: v for k, v in by_class["Mean"]["config"].items() if k != "name"} == \
        {"axis": 1, "keepdims": True}
    assert by_class["Concatenate"]["config"]["axis"] == 1
    sub = by_class["Subtract"]["inbound_nodes"][0]
    assert sub["args"][0] == 2 and sub["args"][1]["class_name"] == "__keras_tensor__"
    key = by_class["GetItem"]["inbound_nodes"][0]["args"][1]
    assert key == [{"class_name": "__slice__", "config": {"start": None, "stop": None,
                                                          "step": None}},
                   {"class_name": "__slice__", "config": {"start": 1, "stop": 3, "step": None}}]


def test_an_op_outside_the_list_falls_back_with_a_warning_naming_it(tmp_path):
    model = ops_model(lambda x, y: ops.cumsum(x, axis=1))
    with pytest.warns(UserWarning, match="'cumsum'.*kerasnp's format instead"):
        model.save(tmp_path / "m.keras")
    xs = _inputs()
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(xs, verbose=0), model.predict(xs, verbose=0))


def _rewrite(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "config.json":
                cfg = json.loads(data)
                for e in cfg["config"]["layers"]:
                    edit(e)
                data = json.dumps(cfg).encode()
            zout.writestr(item, data)


@pytest.mark.parametrize("module, class_name", [
    ("keras.src.ops.numpy", "Erfinv"),             # a Keras op kerasnp does not read
    ("os", "Negative"),                            # an allowed class under another module
    ("keras.src.ops.numpy", "__import__"),
])
def test_an_op_outside_the_allowlist_is_refused_naming_it(tmp_path, module, class_name):
    ops_model(lambda x, y: -x).save(tmp_path / "m.keras")

    def edit(e):
        if e["class_name"] == "Negative":
            e["module"], e["class_name"] = module, class_name
    _rewrite(tmp_path / "m.keras", tmp_path / "bad.keras", edit)
    with pytest.raises(ModelFileError, match=f"{class_name!r}.*(not supported|unknown)|"
                                             f"unknown layer class {class_name!r}"):
        keras.models.load_model(tmp_path / "bad.keras")


def test_unknown_op_arguments_are_refused(tmp_path):
    ops_model(lambda x, y: ops.mean(x, axis=1)).save(tmp_path / "m.keras")

    def edit(e):
        if e["class_name"] == "Mean":
            e["config"]["where"] = [1]
    _rewrite(tmp_path / "m.keras", tmp_path / "bad.keras", edit)
    with pytest.raises(ModelFileError, match="'where'.*Mean"):
        keras.models.load_model(tmp_path / "bad.keras")
