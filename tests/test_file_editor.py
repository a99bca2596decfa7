"""KerasFileEditor: inspecting, comparing, editing and resaving Keras 3 `.keras` and
`.weights.h5` files (kerasnp's own and the real-Keras fixtures); edited files load with the
edited weights; bad names and hostile files are refused clearly; saving is atomic."""
import io
import os
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import kerasnp as keras  # noqa: E402
from kerasnp.saving import KerasFileEditor, ModelFileError  # noqa: E402
from kerasnp.saving import _editor_tree  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras3")
NAMES = ["mlp", "cnn", "two_input", "nested", "shared", "sequence"]
L = keras.layers


def _model(units=(3, 2), compile=True):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,))] +
                             [L.Dense(u, name=f"d{i}") for i, u in enumerate(units)])
    if compile:
        model.compile("adam", "mse")
        model.fit(np.ones((8, 3), np.float32), np.ones((8, units[-1]), np.float32), verbose=0)
    return model


@pytest.fixture
def saved(tmp_path):
    model = _model()
    path = str(tmp_path / "m.keras")
    model.save(path)
    return model, path


def _count_datasets(group):
    n = 0
    for key in group:
        obj = group[key]
        n += _count_datasets(obj) if isinstance(obj, h5py.Group) else 1
    return n


# ----------------------------------------------------------------------------- inspecting
def test_summary_lists_objects_names_and_shapes(saved, capsys):
    _, path = saved
    editor = KerasFileEditor(path)
    editor.summary()
    out = capsys.readouterr().out
    assert "Saved with Keras 3.15.1" in out
    for line in ["layers", "dense ('d0')", "0: shape=(3, 3), dtype=float32",
                 "dense_1 ('d1')", "0: shape=(3, 2), dtype=float32", "1: shape=(2,)",
                 "optimizer ('adam')"]:
        assert line in out
    assert set(editor.weights_dict) == {"layers", "optimizer"}
    assert editor.weights_dict["layers"]["dense_1"]["0"].shape == (3, 2)


@pytest.mark.parametrize("name", NAMES)
def test_real_keras_fixtures_open_and_match_their_model(name, capsys):
    path = os.path.join(FIXTURES, f"{name}.keras")
    editor = KerasFileEditor(path)
    with zipfile.ZipFile(path) as zf, \
            h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:
        n = _count_datasets(f)
    model = keras.models.load_model(path)
    result = editor.compare(model)
    assert result == {"status": "success", "error_count": 0, "match_count": n}
    weights = KerasFileEditor(os.path.join(FIXTURES, f"{name}.weights.h5"))
    assert weights.compare(model)["status"] == "success"


def test_nested_model_objects_are_kept(capsys):
    editor = KerasFileEditor(os.path.join(FIXTURES, "nested.keras"))
    inner = editor.weights_dict["layers"]["sequential"]["layers"]
    assert inner["dense"]["0"].shape == (5, 4) and inner["dense_1"]["0"].shape == (4, 4)


def test_compare_reports_each_mismatch(saved, capsys):
    _, path = saved
    editor = KerasFileEditor(path)
    other = _model(units=(3, 4), compile=False)
    result = editor.compare(other)
    out = capsys.readouterr().out
    # d1's kernel and bias differ in shape; the optimizer is only in the file
    assert result == {"status": "error", "error_count": 3, "match_count": 2}
    assert "Weight shape mismatch for /layers/dense_1/0" in out
    assert "In reference model: shape=(3, 4)" in out and "In saved file: shape=(3, 2)" in out
    assert "Object /optimizer present in saved file, missing from reference model" in out
    bigger = keras.Sequential([keras.Input((3,)), L.Dense(3), L.Dense(2), L.Dense(1)])
    result = editor.compare(bigger)
    assert "Object /layers/dense_2 present in reference model, missing from saved file" in \
        capsys.readouterr().out
    assert result["error_count"] == 2


# ----------------------------------------------------------------------------- editing
def test_rename_swaps_layers_in_a_loadable_keras_file(saved, tmp_path, capsys):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((3,)), L.Dense(3), L.Dense(3)])
    path, out = str(tmp_path / "sq.keras"), str(tmp_path / "swapped.keras")
    model.save(path)
    editor = KerasFileEditor(path)
    editor.rename_object("dense", "tmp")
    editor.rename_object("layers/dense_1", "dense")
    editor.rename_object("tmp", "dense_1")
    editor.save(out)
    loaded = keras.models.load_model(out)
    w0, w1 = (l.get_weights() for l in model.layers)
    for got, want in zip(loaded.layers[0].get_weights() + loaded.layers[1].get_weights(),
                         w1 + w0):
        np.testing.assert_array_equal(got, want)
    summary = KerasFileEditor(out)
    assert summary.object_metadata["layers/dense"]["name"] == model.layers[1].name


def test_delete_and_add_object_replaces_a_layer(saved, tmp_path, capsys):
    model, path = saved
    kernel = np.arange(6, dtype=np.float32).reshape(3, 2)
    bias = np.array([1.0, -1.0], np.float32)
    editor = KerasFileEditor(path)
    editor.delete_object("dense_1")
    assert "dense_1" not in editor.weights_dict["layers"]
    editor.add_object("layers/dense_1", {"0": kernel, "1": bias})
    out = str(tmp_path / "edited.keras")
    editor.save(out)
    loaded = keras.models.load_model(out)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    hidden = x @ model.layers[0].get_weights()[0] + model.layers[0].get_weights()[1]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), hidden @ kernel + bias,
                               rtol=1e-5, atol=1e-5)
    # the optimizer state travelled unchanged
    np.testing.assert_array_equal(loaded.optimizer.iterations, model.optimizer.iterations)


def test_delete_weight_and_add_weights_then_resave_weights(saved, tmp_path, capsys):
    model, path = saved
    editor = KerasFileEditor(path)
    editor.delete_weight("dense", "1")
    assert list(editor.weights_dict["layers"]["dense"]) == ["0"]
    editor.add_weights("layers/dense", {"1": np.full(3, 5.0, np.float32)})
    editor.delete_object("optimizer")
    out = str(tmp_path / "w.weights.h5")
    editor.resave_weights(out)
    fresh = _model(compile=False)
    fresh.load_weights(out)
    np.testing.assert_array_equal(fresh.layers[0].get_weights()[1], np.full(3, 5.0))
    np.testing.assert_array_equal(fresh.layers[0].get_weights()[0],
                                  model.layers[0].get_weights()[0])
    np.testing.assert_array_equal(fresh.layers[1].get_weights()[0],
                                  model.layers[1].get_weights()[0])


def test_weights_file_edits_and_saves(tmp_path, capsys):
    model = _model(compile=False)
    path = str(tmp_path / "m.weights.h5")
    model.save_weights(path)
    editor = KerasFileEditor(path)
    new = np.ones((3, 3), np.float32)
    editor.add_weights("dense", {"0": new})
    editor.save(path)                       # over itself
    fresh = _model(compile=False)
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.layers[0].get_weights()[0], new)
    with pytest.raises(ValueError, match="opened on a weights file"):
        editor.save(str(tmp_path / "m.keras"))


def test_edited_shape_mismatch_is_refused_on_load(saved, tmp_path, capsys):
    _, path = saved
    editor = KerasFileEditor(path)
    editor.add_weights("dense_1", {"0": np.zeros((4, 2), np.float32)})
    out = str(tmp_path / "bad.keras")
    editor.save(out)
    assert editor.compare(_model(compile=False))["error_count"] >= 1
    with pytest.raises(ModelFileError, match=r"model\.weights\.h5.*shape \(4, 2\)"):
        keras.models.load_model(out)


# ----------------------------------------------------------------------------- errors
def test_bad_names_list_the_valid_ones(saved, capsys):
    _, path = saved
    editor = KerasFileEditor(path)
    with pytest.raises(ValueError, match=r"no object named 'dense_9'.*layers/dense, "
                                         r"layers/dense_1, optimizer"):
        editor.rename_object("dense_9", "x")
    with pytest.raises(ValueError, match=r"path 'layers/nope' is not in the file.*layers/dense"):
        editor.delete_object("layers/nope")
    with pytest.raises(ValueError, match=r"'0' occurs .* times.*layers/dense/0.*pass a full"):
        editor.delete_object("0")
    with pytest.raises(ValueError, match=r"object 'layers/dense' has no weight '7'.*"
                                         r"\['0', '1'\]"):
        editor.delete_weight("dense", "7")
    with pytest.raises(ValueError, match=r"parent object 'blocks' .* Valid objects: layers"):
        editor.add_object("blocks/dense", {"0": np.zeros(2)})
    with pytest.raises(ValueError, match="not a path"):
        editor.rename_object("dense", "layers/x")
    with pytest.raises(ValueError, match="exists beside it"):
        editor.rename_object("dense", "dense_1")
    with pytest.raises(ValueError, match="must be a dict"):
        editor.add_weights("dense", [np.zeros(2)])
    with pytest.raises(ValueError, match="array of numbers.*dtype=<U1"):
        editor.add_weights("dense", {"2": np.array(["a"])})
    with pytest.raises(ValueError, match="is a weight, not an object"):
        editor.add_weights("layers/dense/0", {"2": np.zeros(2)})
    with pytest.raises(ValueError, match=r"'.weights.h5' or '.keras'.*Received: filepath=x.h5"):
        editor.save("x.h5")
    with pytest.raises(ValueError, match=r"Received: filepath=m.txt"):
        KerasFileEditor("m.txt")
    # nothing was changed by the failed edits
    assert set(editor.weights_dict["layers"]) == {"dense", "dense_1"}
    assert list(editor.weights_dict["layers"]["dense"]) == ["0", "1"]


def _weights_file(tmp_path, fill):
    path = str(tmp_path / "hostile.weights.h5")
    with h5py.File(path, "w") as f:
        group = f.create_group("layers/dense/vars")
        group.create_dataset("0", data=np.zeros((3, 3), np.float32))
        fill(f, group)
    return path


@pytest.mark.parametrize("fill, message", [
    (lambda f, g: g.create_dataset("1", data=np.array([b"abc"])), r"dtype \|S3.*plain number"),
    (lambda f, g: g.create_dataset("1", data=np.zeros(2, [("a", "f4"), ("b", "i4")])),
     "plain number"),
    (lambda f, g: g.create_dataset("1", data=np.zeros(2, np.complex128)), "plain number"),
    (lambda f, g: g.create_dataset("1", shape=(10**6, 10**6), dtype="f4", chunks=(10, 10)),
     r"claim more than the \d+ bytes.*shape \(1000000, 1000000\)"),
    (lambda f, g: g.__setitem__("1", h5py.SoftLink("/layers/dense/vars/0")), "SoftLink"),
    (lambda f, g: g.__setitem__("1", h5py.ExternalLink("other.h5", "/x")), "ExternalLink"),
    (lambda f, g: g.create_group("1"), "holds only datasets"),
])
def test_hostile_datasets_are_refused(tmp_path, fill, message):
    path = _weights_file(tmp_path, fill)
    with pytest.raises(ModelFileError, match=message) as info:
        KerasFileEditor(path)
    assert "hostile.weights.h5" in str(info.value) and "layers/dense/vars/1" in str(info.value)


def test_hostile_member_of_keras_zip_is_named(saved, tmp_path):
    _, path = saved
    out = str(tmp_path / "hostile.keras")
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_group("layers/dense/vars").create_dataset("0", data=np.array([b"x"]))
    members["model.weights.h5"] = buf.getvalue()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"hostile.keras', member 'model.weights.h5'.*"
                                             r"layers/dense/vars/0"):
        KerasFileEditor(out)


def test_not_a_keras_file_is_refused(tmp_path):
    path = tmp_path / "junk.keras"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(ModelFileError, match="junk.keras"):
        KerasFileEditor(str(path))


def test_failed_save_leaves_the_old_file_intact(saved, tmp_path, monkeypatch, capsys):
    _, path = saved
    before = open(path, "rb").read()
    editor = KerasFileEditor(path)
    editor.delete_object("dense")

    def broken(fileobj, tree, names):
        fileobj.write(b"partial")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(_editor_tree, "write_tree", broken)
    with pytest.raises(OSError):
        editor.save(path)
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(tmp_path)) == ["m.keras"]
