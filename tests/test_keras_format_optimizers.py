"""The newer optimizers and the weights' moving averages (`use_ema=True`) in Keras's `.keras`
layout: `optimizer/vars` holds Keras's variables in Keras's order (checked against files Keras
3.15 wrote, see test_keras_format_keras.py), and a round trip resumes training exactly.
Needs h5py."""
import io
import warnings
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import kerasnp as keras  # noqa: E402
from kerasnp.saving import ModelFileError  # noqa: E402

L = keras.layers
O = keras.optimizers
X = np.random.default_rng(4).normal(size=(16, 4)).astype("float32")

# name -> (optimizer, number of variables in Keras's `optimizer/vars` for Dense(3) + Dense(2)
# (weights (4, 3), (3,), (3, 2), (2,)): iterations, learning_rate, then the slots).
CASES = {
    "Lion": (lambda: O.Lion(), 2 + 4),
    "Lamb": (lambda: O.Lamb(), 2 + 8),
    "Ftrl": (lambda: O.Ftrl(), 2 + 8),
    "ScheduleFreeAdamW": (lambda: O.ScheduleFreeAdamW(), 2 + 8),
    "Adafactor": (lambda: O.Adafactor(), 2 + 12),      # r, c (placeholders for biases), velocity
    "Muon": (lambda: O.Muon(), 2 + 6),                # velocity only for the biases
    "Adam_ema": (lambda: O.Adam(use_ema=True), 2 + 12),
    "Lion_ema": (lambda: O.Lion(use_ema=True), 2 + 8),
    "Nadam_ema": (lambda: O.Nadam(use_ema=True), 2 + 12 + 1),
    "ScheduleFreeAdamW_ema": (lambda: O.ScheduleFreeAdamW(use_ema=True), 2 + 12),
}


def _trained(opt):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(2)])
    model.compile(opt, "mse")
    model.fit(X, X[:, :2], epochs=2, batch_size=4, verbose=0, shuffle=False)
    return model


def _optimizer_vars(path):
    with zipfile.ZipFile(path) as zf:
        with h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:
            group = f["optimizer/vars"]
            return [group[str(i)][()] for i in range(len(group))]


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip_in_keras_layout(tmp_path, name):
    make, n_vars = CASES[name]
    model = _trained(make())
    path = tmp_path / "m.keras"
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no fallback to kerasnp's format
        model.save(path)
    saved = _optimizer_vars(path)
    assert len(saved) == n_vars
    opt = model.optimizer
    if opt.use_ema:                                     # the averages come first
        np.testing.assert_array_equal(saved[2], opt.get_slots(model.trainable_weights[0])
                                      ["average"])
    loaded = keras.models.load_model(path)
    assert type(loaded.optimizer) is type(opt) and loaded.optimizer.use_ema == opt.use_ema
    assert loaded.optimizer.iterations == opt.iterations
    for a, b in zip(loaded.trainable_weights, model.trainable_weights):
        sa, sb = loaded.optimizer.get_slots(a), opt.get_slots(b)
        assert sorted(sa) == sorted(sb)
        for k in sb:
            np.testing.assert_array_equal(sa[k], sb[k], err_msg=f"{name} {b.path} {k}")
    loaded.fit(X, X[:, :2], epochs=1, batch_size=4, verbose=0, shuffle=False)
    model.fit(X, X[:, :2], epochs=1, batch_size=4, verbose=0, shuffle=False)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, err_msg=name)


def test_adafactor_layout_is_keras(tmp_path):
    model = _trained(O.Adafactor())
    model.save(tmp_path / "m.keras")
    saved = _optimizer_vars(tmp_path / "m.keras")
    shapes = [a.shape for a in saved[2:]]
    # per weight: r, c, velocity; int32 scalar placeholders for r, c of the biases
    assert shapes == [(4,), (3,), (4, 3), (), (), (3,), (3,), (2,), (3, 2), (), (), (2,)]
    assert saved[5].dtype == np.int32 and saved[6].dtype == np.int32
    kernel = model.trainable_weights[0]
    np.testing.assert_array_equal(saved[2], model.optimizer.get_slots(kernel)["r"])


def test_muon_keeps_velocity_only_for_adamw_weights(tmp_path):
    model = _trained(O.Muon())
    model.save(tmp_path / "m.keras")
    saved = _optimizer_vars(tmp_path / "m.keras")
    # momentum of each weight, and velocity right after it for the 1-D ones
    assert [a.shape for a in saved[2:]] == [(4, 3), (3,), (3,), (3, 2), (2,), (2,)]
    bias = model.trainable_weights[1]
    np.testing.assert_array_equal(saved[4], model.optimizer.get_slots(bias)["velocity"])
    loaded = keras.models.load_model(tmp_path / "m.keras")
    kernel = loaded.trainable_weights[0]
    assert not loaded.optimizer.get_slots(kernel)["velocity"].any()


def test_wrong_factored_shape_is_refused(tmp_path):
    model = _trained(O.Adafactor())
    model.save(tmp_path / "m.keras")
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(tmp_path / "m.keras") as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "model.weights.h5":
                buf = io.BytesIO(data)
                with h5py.File(buf, "r+") as f:
                    del f["optimizer/vars/2"]                  # the kernel's r: (4,)
                    f["optimizer/vars/2"] = np.zeros((4, 3), np.float32)
                data = buf.getvalue()
            dst.writestr(info, data)
    with pytest.raises(ModelFileError, match=r"slot 'r'.*\(4, 3\).*\(4,\)"):
        keras.models.load_model(bad)
