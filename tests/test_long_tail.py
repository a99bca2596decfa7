"""The Keras API long tail (issue 13 item 5): lowercase merge functions, regularizer aliases, the
image resizing/cropping and colour/zoom augmentation layers, and the engine conveniences
(`Input(batch_shape=)`, `layer.input`/`layer.output`, dict outputs, `clone_model`).

Reference values are computed by hand, with NumPy, or with Pillow (whose resampling filters are
the ones Keras 3's NumPy/JAX backends use).
"""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from _tape_check import tape_gradient_errors

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------------- merge functions

@pytest.mark.parametrize("fn,cls,kwargs", [
    ("add", "Add", {}), ("subtract", "Subtract", {}), ("multiply", "Multiply", {}),
    ("average", "Average", {}), ("maximum", "Maximum", {}), ("minimum", "Minimum", {}),
    ("concatenate", "Concatenate", {"axis": 1}), ("dot", "Dot", {"axes": 1}),
    ("dot", "Dot", {"axes": -1, "normalize": True})])
def test_merge_functions_equal_their_layers(fn, cls, kwargs):
    a = RNG.standard_normal((3, 4)).astype("float32")
    b = RNG.standard_normal((3, 4)).astype("float32")
    expected = getattr(L, cls)(**kwargs)([a, b])
    np.testing.assert_array_equal(getattr(L, fn)([a, b], **kwargs), expected)
    # symbolic: a functional model whose layer is the one the function made, named as asked
    x1, x2 = keras.Input((4,)), keras.Input((4,))
    out = getattr(L, fn)([x1, x2], name=f"my_{fn}", **kwargs)
    model = keras.Model([x1, x2], out)
    layer = model.get_layer(f"my_{fn}")
    assert type(layer).__name__ == cls
    np.testing.assert_allclose(model.predict([a, b], verbose=0), expected, rtol=1e-6)


def test_merge_function_defaults_follow_keras():
    a, b = np.ones((2, 3, 4)), np.ones((2, 3, 5))
    assert L.concatenate([a, b]).shape == (2, 3, 9)              # axis=-1
    x, y = RNG.standard_normal((2, 5)), RNG.standard_normal((2, 5))
    np.testing.assert_allclose(L.dot([x, y]), np.sum(x * y, axis=1, keepdims=True))  # axes=-1
    with pytest.raises(ValueError, match="exactly 2"):
        L.subtract([x, y, x])


def test_merge_functions_train_in_a_model():
    x_in = keras.Input((3,))
    h1, h2 = L.Dense(4)(x_in), L.Dense(4)(x_in)
    out = L.Dense(1)(L.concatenate([L.add([h1, h2]), L.multiply([h1, h2])]))
    model = keras.Model(x_in, out)
    model.compile(keras.optimizers.Adam(0.05), "mse")
    x = RNG.standard_normal((32, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    loss = model.fit(x, y, epochs=40, verbose=0).history["loss"]
    assert loss[-1] < loss[0] / 10


# ------------------------------------------------------------------------ regularizer aliases

def test_lowercase_regularizers_are_the_classes():
    R = keras.regularizers
    assert R.l1 is R.L1 and R.l2 is R.L2 and R.l1_l2 is R.L1L2
    assert R.orthogonal_regularizer is R.OrthogonalRegularizer
    w = np.array([1.0, -2.0])
    assert R.l2(0.01)(w) == pytest.approx(0.05)
    assert R.l1(0.1)(w) == pytest.approx(0.3)
    assert R.l1_l2(l1=0.1, l2=0.5)(w) == pytest.approx(2.8)
    assert R.l1_l2().get_config() == {"l1": 0.0, "l2": 0.0}      # Keras: the class defaults
    layer = L.Dense(2, kernel_regularizer=keras.regularizers.l2(0.01))
    layer(np.ones((1, 3), "float32"))
    assert layer.losses and float(np.asarray(layer.losses[0])) == pytest.approx(
        0.01 * float(np.sum(layer.kernel.value ** 2)), rel=1e-5)


# ------------------------------------------------------------------ resizing and cropping

def _pil_resize(img, height, width, method):
    pil = pytest.importorskip("PIL.Image")
    filters = {"bilinear": pil.BILINEAR, "bicubic": pil.BICUBIC, "lanczos3": pil.LANCZOS,
               "nearest": pil.NEAREST}
    return np.asarray(pil.fromarray(img.astype(np.float32), mode="F").resize(
        (width, height), filters[method]))


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "lanczos3", "nearest"])
@pytest.mark.parametrize("size", [(11, 13), (4, 5), (3, 12)])
def test_resizing_matches_pillow(method, size):
    # Pillow always widens its filter when shrinking: Keras's antialias=True.
    x = RNG.uniform(0, 1, (2, 7, 9, 3)).astype("float32")
    y = L.Resizing(*size, interpolation=method, antialias=True)(x)
    assert y.shape == (2,) + size + (3,) and y.dtype == np.float32
    for n in range(2):
        for c in range(3):
            np.testing.assert_allclose(y[n, :, :, c], _pil_resize(x[n, :, :, c], *size, method),
                                       atol=2e-6)


def test_resizing_bilinear_by_hand_and_aspect_options():
    x = np.array([0.0, 1.0, 2.0, 3.0]).reshape(1, 2, 2, 1)
    # 2 -> 3: output centres sample the input at -1/6, 1/2, 7/6 (edge samples clamp)
    np.testing.assert_allclose(L.Resizing(3, 3)(x)[0, :, :, 0],
                               [[0, 0.5, 1], [1, 1.5, 2], [2, 2.5, 3]])
    # 2 -> 1 without antialias reads the centre (bilinear at 0.5); same with it here
    np.testing.assert_allclose(L.Resizing(1, 1)(x).ravel(), [1.5])
    img = np.arange(24.0).reshape(1, 4, 6, 1)
    # crop_to_aspect_ratio: the centred 4x4 window, then (4x4 -> 2x2) resize
    cropped = L.Resizing(2, 2, crop_to_aspect_ratio=True)(img)
    np.testing.assert_allclose(cropped, L.Resizing(2, 2)(img[:, :, 1:5]))
    # pad_to_aspect_ratio: rows of fill_value above and below, then resize
    padded = L.Resizing(6, 6, pad_to_aspect_ratio=True, fill_value=-1.0)(img)
    canvas = np.full((1, 6, 6, 1), -1.0)
    canvas[:, 1:5] = img
    np.testing.assert_allclose(padded, canvas)
    with pytest.raises(ValueError, match="only one of"):
        L.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="interpolation"):
        L.Resizing(2, 2, interpolation="area")


def test_center_crop():
    x = np.arange(2 * 5 * 7 * 1, dtype="float32").reshape(2, 5, 7, 1)
    np.testing.assert_array_equal(L.CenterCrop(3, 4)(x), x[:, 1:4, 1:5])
    small = x[:, :2, :3]                     # smaller than the target: aspect crop + resize
    np.testing.assert_allclose(L.CenterCrop(3, 4)(small), L.Resizing(3, 4)(small[:, :, :2]))
    np.testing.assert_allclose(L.CenterCrop(3, 4)(small)[0, 0, :, 0], [0, 0.25, 0.75, 1])


def test_random_crop_training_inference_and_seed():
    x = RNG.standard_normal((3, 6, 8, 2)).astype("float32")
    layer = L.RandomCrop(3, 4, seed=5)
    y = layer(x, training=True)
    assert y.shape == (3, 3, 4, 2)
    # one window for the whole batch, somewhere inside the image
    hits = [(t, l) for t in range(4) for l in range(5)
            if np.array_equal(y, x[:, t:t + 3, l:l + 4])]
    assert len(hits) == 1
    again = L.RandomCrop(3, 4, seed=5)(x, training=True)
    np.testing.assert_array_equal(y, again)
    # inference: the centred window of the target's aspect ratio (6x8 -> 6x8 at 3:4), resized
    np.testing.assert_allclose(layer(x), L.Resizing(3, 4)(x))
    np.testing.assert_allclose(layer(x[:, :, 1:7]), L.Resizing(3, 4)(x[:, 1:5, 1:7]))
    seen = {L.RandomCrop(3, 4)(x, training=True).tobytes() for _ in range(12)}
    assert len(seen) > 1


def test_random_layers_reproducible_with_set_random_seed():
    x = RNG.uniform(0, 255, (4, 6, 6, 3)).astype("float32")
    results = []
    for _ in range(2):
        keras.utils.set_random_seed(7)
        layers = [L.RandomCrop(4, 4), L.RandomZoom(0.3), L.RandomContrast(0.5),
                  L.RandomBrightness(0.2)]
        results.append([l(x, training=True) for l in layers])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ zoom, contrast, brightness

def test_random_zoom_geometry():
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    zoom_in = L.RandomZoom((-0.5, -0.5), interpolation="nearest")(x, training=True)
    # output pixel r reads row 1.5 + 0.5 (r - 1.5) = 0.75, 1.25, 1.75, 2.25 -> rows 1,1,2,2
    np.testing.assert_array_equal(zoom_in[0, :, :, 0], x[0][np.ix_([1, 1, 2, 2], [1, 1, 2, 2])][
        ..., 0])
    out = L.RandomZoom((1.0, 1.0), (0.0, 0.0), fill_mode="constant", fill_value=-1.0,
                       interpolation="nearest")(x, training=True)
    # rows read at 2(r - 1.5) + 1.5 = -1.5, 0.5, 2.5, 4.5: outside rows are the fill
    np.testing.assert_array_equal(out[0, :, 0, 0], [-1, 4, 12, -1])
    np.testing.assert_array_equal(L.RandomZoom(0.5)(x), x)               # inference
    with pytest.raises(ValueError, match="height_factor"):
        L.RandomZoom(-1.0)


def test_random_contrast_and_brightness_formulas():
    x = RNG.uniform(0, 1, (3, 4, 5, 2))
    layer = L.RandomContrast((0.3, 0.6), value_range=(0, 1), seed=3)
    c = np.random.default_rng(3).uniform(0.7, 1.6, (3, 1, 1, 1))
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(layer(x, training=True), np.clip((x - mean) * c + mean, 0, 1))
    one = L.RandomContrast(0.5)              # Keras reads a single factor f as (0, f)
    assert (one.lower, one.upper) == (0.0, 0.5) and one.get_config()["factor"] == 0.5
    bright = L.RandomBrightness((-0.5, 0.25), value_range=(0, 100), seed=4)
    d = np.random.default_rng(4).uniform(-0.5, 0.25, (3, 1, 1, 1)) * 100
    np.testing.assert_allclose(bright(x * 100, training=True), np.clip(x * 100 + d, 0, 100))
    np.testing.assert_array_equal(bright(x), x)                          # inference
    with pytest.raises(ValueError, match="factor"):
        L.RandomContrast(1.5)
    with pytest.raises(ValueError, match="value_range"):
        L.RandomBrightness(0.1, value_range=(0,))


# --------------------------------------------- shared checks: shapes, config, gradients, fit

CASES = {
    "resizing_up": (lambda: L.Resizing(5, 7), (3, 4, 2), {}),
    "resizing_down_bicubic_aa": (lambda: L.Resizing(2, 3, "bicubic", antialias=True),
                                 (5, 6, 1), {}),
    "resizing_nearest": (lambda: L.Resizing(4, 3, "nearest"), (3, 5, 2), {}),
    "resizing_crop": (lambda: L.Resizing(3, 3, crop_to_aspect_ratio=True), (4, 6, 1), {}),
    "resizing_pad": (lambda: L.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=0.5),
                     (2, 4, 1), {}),
    "center_crop": (lambda: L.CenterCrop(2, 3), (4, 5, 2), {}),
    "center_crop_small": (lambda: L.CenterCrop(5, 5), (3, 4, 1), {}),
    "random_crop": (lambda: L.RandomCrop(2, 3, seed=1), (4, 5, 2), {"training": True}),
    "random_crop_inference": (lambda: L.RandomCrop(2, 3), (4, 5, 2), {}),
    "random_zoom": (lambda: L.RandomZoom(0.4, (-0.3, 0.2)), (5, 6, 2), {"training": True}),
    "random_zoom_constant": (lambda: L.RandomZoom(0.5, fill_mode="constant", fill_value=1.0),
                             (4, 4, 1), {"training": True}),
    "random_contrast": (lambda: L.RandomContrast(0.5, value_range=(-1.5, 1.5)), (4, 5, 2),
                        {"training": True}),
    "random_brightness": (lambda: L.RandomBrightness(0.3, value_range=(-1.0, 1.0)), (4, 5, 2),
                          {"training": True}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_image_layer_shape_dtype_config(case):
    make, shape, opts = CASES[case]
    layer = make()
    for dtype in ("float32", "float64"):
        x = RNG.standard_normal((3,) + shape).astype(dtype)
        y = layer(x, training=opts.get("training", False))
        assert y.dtype == np.dtype(dtype)
        assert y.shape == (3,) + tuple(layer.compute_output_shape((None,) + shape)[1:])
    cfg = layer.get_config()
    clone = type(layer).from_config(cfg)
    assert clone.get_config() == cfg


@pytest.mark.parametrize("case", sorted(CASES))
def test_image_layer_gradients(case, float64):
    make, shape, opts = CASES[case]
    layer = make()
    x = np.random.default_rng(1).uniform(-0.9, 0.9, (2,) + shape)
    errors = tape_gradient_errors(layer, x, training=opts.get("training", False))
    assert errors["input"] < 1e-6, errors


def test_augmentation_model_trains_saves_and_predicts(tmp_path):
    model = keras.Sequential([
        keras.Input((8, 8, 1)), L.RandomZoom(0.2, seed=1), L.RandomContrast(0.2, seed=2),
        L.RandomBrightness(0.1, value_range=(0, 1), seed=3), L.RandomCrop(6, 6, seed=4),
        L.Resizing(4, 4), L.CenterCrop(3, 3), L.Flatten(), L.Dense(1)])
    model.compile("adam", "mse")
    x = RNG.uniform(0, 1, (16, 8, 8, 1)).astype("float32")
    y = x.mean(axis=(1, 2, 3))[:, None]
    model.fit(x, y, epochs=2, verbose=0)
    p = model.predict(x, verbose=0)
    assert p.shape == (16, 1)
    np.testing.assert_array_equal(p, model.predict(x, verbose=0))   # inference: deterministic
    path = tmp_path / "aug.kerasnp"
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), p, rtol=1e-6)


# ---------------------------------------------------------------------- Input(batch_shape)

def test_input_batch_shape():
    x = keras.Input(batch_shape=(None, 28, 28, 1), name="img")
    assert x.shape == (None, 28, 28, 1) and x.name == "img"
    assert keras.Input(batch_shape=(32, 4)).shape == (32, 4)
    assert keras.Input((4,), batch_size=8).shape == (8, 4)
    layer = L.InputLayer(batch_input_shape=(None, 3))            # tf.keras's spelling
    assert layer.shape == (3,) and layer.batch_size is None
    model = keras.Model(x, L.Dense(2)(L.Flatten()(x)))
    assert model.predict(np.ones((3, 28, 28, 1), "float32"), verbose=0).shape == (3, 2)
    seq = keras.Sequential([keras.Input(batch_shape=(None, 5)), L.Dense(1)])
    assert seq.output_shape == (None, 1)
    with pytest.raises(ValueError, match="batch_shape"):
        keras.Input((3,), batch_shape=(None, 3))
    with pytest.raises(ValueError, match="batch_shape"):
        keras.Input(batch_size=4, batch_shape=(4, 3))
    with pytest.raises(ValueError, match="batch_shape"):
        keras.Input(batch_shape=5)


# --------------------------------------------------------------- layer.input / layer.output

def test_layer_input_output_after_functional_call():
    x = keras.Input((4,))
    dense = L.Dense(3, name="hidden")
    h = dense(x)
    y = L.Dense(2, name="out")(h)
    model = keras.Model(x, y)
    assert dense.input is x and dense.output is h
    assert model.get_layer("out").input is h and model.get_layer("out").output is y
    assert model.layers[0].output is x                      # the InputLayer's own tensor
    a, b = keras.Input((2,)), keras.Input((2,))
    add = L.Add()
    s = add([a, b])
    assert add.input[0] is a and add.input[1] is b and add.output is s
    shared = L.Dense(2)
    first = shared(a)
    shared(b)
    assert shared.input is a and shared.output is first     # Keras: the first call


def test_feature_extractor_from_layer_outputs():
    # Keras's FAQ pattern, on a functional and on a Sequential model (which rebuilds its graph
    # at every add: the outputs must connect to model.inputs)
    data = RNG.standard_normal((5, 4)).astype("float32")
    seq = keras.Sequential([keras.Input((4,)), L.Dense(3, name="a"), L.Dense(2, name="b")])
    for model in (seq, keras.Model(seq.inputs, seq.outputs[0])):
        extractor = keras.Model(inputs=model.inputs,
                                outputs=[layer.output for layer in model.layers])
        feats = extractor.predict(data, verbose=0)
        hidden = model.get_layer("a")(data)
        np.testing.assert_allclose(feats[-2] if len(feats) == 3 else feats[0], hidden,
                                   rtol=1e-6)
        np.testing.assert_allclose(feats[-1], model.predict(data, verbose=0), rtol=1e-6)
    mid = keras.Model(seq.inputs, seq.get_layer("a").output)
    assert mid.output_shape == (None, 3)


# ------------------------------------------------------------------ Model(outputs=dict)

def _dict_model():
    x = keras.Input((4,))
    h = L.Dense(8, activation="relu")(x)
    return keras.Model(x, {"value": L.Dense(1, name="v")(h),
                           "cls": L.Dense(3, activation="softmax", name="c")(h)})


def test_dict_outputs_predict_call_and_names():
    model = _dict_model()
    assert model.output_names == ["cls", "value"]              # Keras's flat order: sorted
    assert [t.shape for t in model.outputs] == [(None, 3), (None, 1)]
    assert set(model.output) == {"cls", "value"}
    x = RNG.standard_normal((70, 4)).astype("float32")
    out = model(x[:3])
    assert isinstance(out, dict) and out["value"].shape == (3, 1)
    p = model.predict(x, batch_size=16, verbose=0)             # several batches and chunks
    assert isinstance(p, dict) and p["cls"].shape == (70, 3) and p["value"].shape == (70, 1)
    np.testing.assert_allclose(p["value"], model.get_layer("v")(
        model.layers[1](x)), rtol=1e-5)
    np.testing.assert_allclose(p["cls"].sum(axis=1), 1.0, rtol=1e-5)
    assert isinstance(model.predict_on_batch(x[:2]), dict)
    with pytest.raises(ValueError, match="string keys"):
        keras.Model(keras.Input((2,)), {1: L.Dense(1)(keras.Input((2,)))})


def test_dict_outputs_losses_metrics_and_targets_by_key(tmp_path):
    model = _dict_model()
    x = RNG.standard_normal((64, 4)).astype("float32")
    y = {"value": x[:, :1] * 2, "cls": (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)}
    model.compile(keras.optimizers.Adam(0.02),
                  loss={"value": "mse", "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"value": 0.5, "cls": 1.0}, metrics={"cls": ["accuracy"]})
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0).history
    assert set(history) == {"loss", "cls_loss", "value_loss", "cls_accuracy"}
    assert history["loss"][-1] < history["loss"][0]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    p = model.predict(x, verbose=0)
    mse = float(np.mean((p["value"] - y["value"]) ** 2))
    ce = float(np.mean(-np.log(p["cls"][np.arange(64), y["cls"]])))
    assert logs["cls_accuracy"] == pytest.approx(np.mean(p["cls"].argmax(1) == y["cls"]))
    assert logs["loss"] == pytest.approx(ce + 0.5 * mse, rel=1e-4)
    # targets as a list follow the sorted keys, as Keras flattens a dict
    as_list = model.evaluate(x, [y["cls"], y["value"]], verbose=0, return_dict=True)
    assert as_list == pytest.approx(logs, rel=1e-6)
    path = tmp_path / "dict.kerasnp"
    model.save(path)
    again = keras.models.load_model(path)
    assert again.output_names == ["cls", "value"]
    q = again.predict(x, verbose=0)
    assert isinstance(q, dict)
    np.testing.assert_array_equal(q["cls"], p["cls"])
    clone = keras.Model.from_config(model.get_config())
    assert isinstance(clone(x[:2]), dict)


# ----------------------------------------------------------------------------- clone_model

def _same_predictions_after_copying_weights(model, clone, x):
    before = clone.predict(x, verbose=0)
    clone.set_weights(model.get_weights())
    after, expected = clone.predict(x, verbose=0), model.predict(x, verbose=0)
    if isinstance(expected, dict):
        for k in expected:
            np.testing.assert_allclose(after[k], expected[k], rtol=1e-6)
        return before
    np.testing.assert_allclose(after, expected, rtol=1e-6)
    return before


def test_clone_sequential_new_weights_same_architecture():
    model = keras.Sequential([keras.Input((4,), name="inp"), L.Dense(8, activation="relu"),
                              L.Dropout(0.3), L.Dense(2)], name="seq")
    clone = keras.models.clone_model(model)
    assert type(clone) is keras.Sequential and clone.name == "seq"
    assert [type(l) for l in clone.layers] == [type(l) for l in model.layers]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert all(a is not b for a, b in zip(clone.weights, model.weights))
    assert clone.get_config() == model.get_config()
    assert not np.allclose(clone.layers[0].kernel.value, model.layers[0].kernel.value)
    x = RNG.standard_normal((5, 4)).astype("float32")
    _same_predictions_after_copying_weights(model, clone, x)
    on = keras.models.clone_model(model, input_tensors=keras.Input((4,)))
    assert on.output_shape == (None, 2)


def test_clone_functional_shared_layers_multi_io_and_dicts():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = L.Dense(4, name="shared")
    ha, hb = shared(a), shared(b)
    merged = L.concatenate([ha, hb])
    model = keras.Model([a, b], {"sum": L.Dense(1)(merged), "diff": L.subtract([ha, hb])})
    clone = keras.models.clone_model(model)
    assert len(clone.weights) == len(model.weights) == 4          # still one shared Dense
    assert clone.output_names == ["diff", "sum"]
    x = [RNG.standard_normal((6, 3)).astype("float32") for _ in range(2)]
    out = _same_predictions_after_copying_weights(model, clone, x)
    assert isinstance(out, dict)
    tensors = [keras.Input((3,)), keras.Input((3,))]
    on = keras.models.clone_model(model, input_tensors=tensors)
    assert on.inputs[0] is tensors[0]
    with pytest.raises(ValueError, match="2 inputs"):
        keras.models.clone_model(model, input_tensors=[keras.Input((3,))])


def test_clone_function_and_call_function():
    x = keras.Input((4,))
    model = keras.Model(x, L.Dense(2, name="out")(L.Dense(3, name="hid")(x)))

    def relu_everywhere(layer):
        config = layer.get_config()
        if "activation" in config:
            config["activation"] = "relu"
        return type(layer).from_config(config)
    clone = keras.models.clone_model(model, clone_function=relu_everywhere)
    assert clone.get_layer("hid").get_config()["activation"] == "relu"
    shared = keras.models.clone_model(model, clone_function=lambda layer: layer)
    assert shared.get_layer("hid") is model.get_layer("hid")      # layers reused, not copied

    def add_dropout(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        return L.Dropout(0.5)(out) if layer.name == "hid" else out
    with_dropout = keras.models.clone_model(model, call_function=add_dropout)
    assert [type(l).__name__ for l in with_dropout.layers] == ["InputLayer", "Dense", "Dropout",
                                                              "Dense"]
    seq = keras.Sequential([keras.Input((2,)), L.Dense(1)])
    with pytest.raises(ValueError, match="call_function"):
        keras.models.clone_model(seq, call_function=add_dropout)


def test_clone_nested_recursive_and_compiled():
    inner = keras.Sequential([keras.Input((4,)), L.Dense(3)], name="inner")
    x = keras.Input((4,))
    outer = keras.Model(x, L.Dense(1)(inner(x)))
    outer.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae", keras.metrics.R2Score()])
    plain = keras.models.clone_model(outer)
    deep = keras.models.clone_model(outer, recursive=True)
    assert plain.layers[1] is not inner and deep.layers[1] is not inner
    assert isinstance(deep.layers[1], keras.Sequential)
    assert deep.compiled and deep.optimizer is not outer.optimizer
    assert deep.optimizer.get_config() == outer.optimizer.get_config()
    data = RNG.standard_normal((16, 4)).astype("float32")
    history = deep.fit(data, data[:, :1], epochs=1, verbose=0).history
    assert {"loss", "mae", "r2_score"} <= set(history)
    r2_clone, r2_original = deep.metrics[-1], outer._spec.raw[2][1]
    assert isinstance(r2_clone, keras.metrics.R2Score) and r2_clone is not r2_original
    assert r2_original.sum is None                  # the original's metric saw no data


class _Sub(keras.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = L.Dense(units)

    def call(self, x):
        return self.dense(x) * 2.0

    def get_config(self):
        return {"units": self.units, "name": self.name}


def test_clone_subclassed_through_from_config():
    model = _Sub(units=5, name="sub")
    model(np.ones((2, 4), "float32"))
    clone = keras.models.clone_model(model)
    assert type(clone) is _Sub and clone.units == 5 and clone.name == "sub"
    out = clone(np.ones((2, 4), "float32"))
    assert out.shape == (2, 5) and clone.dense is not model.dense
    with pytest.raises(ValueError, match="subclassed"):
        keras.models.clone_model(model, clone_function=lambda layer: layer)
    with pytest.raises(TypeError, match="Model"):
        keras.models.clone_model(L.Dense(2))
