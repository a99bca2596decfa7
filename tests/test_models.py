"""Sequential models end to end: build, summary, fit/evaluate/predict, callbacks, errors."""
import signal

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.errors import NonFiniteLossError


def mlp(n_in=4, n_out=3, activation="softmax"):
    return keras.Sequential([keras.Input((n_in,)), L.Dense(8, activation="relu"),
                             L.Dense(n_out, activation=activation)])


def blobs(n=240, k=3, d=4, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (k, d))
    y = rng.integers(0, k, n)
    x = (centers[y] + rng.normal(0, 1, (n, d))).astype("float32")
    return x, y


def test_sequential_layers_names_and_get_layer():
    model = mlp()
    assert [l.name for l in model.layers] == ["dense", "dense_1"]
    assert model.get_layer("dense_1") is model.layers[1]
    assert model.get_layer(index=0) is model.layers[0]
    with pytest.raises(ValueError, match="No such layer: 'nope'.*dense, dense_1"):
        model.get_layer("nope")
    assert model.output_shape == (None, 3)
    assert model.count_params() == 4 * 8 + 8 + 8 * 3 + 3


def test_add_pop_and_build_from_data():
    model = keras.Sequential()
    model.add(L.Dense(5, activation="relu"))
    model.add(L.Dense(2))
    assert not model.built
    out = model(np.ones((3, 7), "float32"))
    assert out.shape == (3, 2) and model.built
    assert model.count_params() == 7 * 5 + 5 + 5 * 2 + 2
    popped = model.pop()
    assert popped.name == "dense_1" and len(model.layers) == 1
    assert model.output_shape == (None, 5)


def test_input_shape_argument_on_first_layer_builds():
    model = keras.Sequential([L.Dense(4, input_shape=(3,)), L.Dense(1)])
    assert model.built and model.input_shape == (None, 3)


def test_summary_layout_and_counts():
    model = keras.Sequential([keras.Input((784,)), L.Dense(256, activation="relu"),
                              L.Dropout(0.2), L.Dense(10, activation="softmax")], name="mlp")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "mlp"'
    assert "Layer (type)" in text and "Output Shape" in text and "Param #" in text
    assert "dense (Dense)" in text and "(None, 256)" in text and "200,960" in text
    assert "dropout (Dropout)" in text and "(None, 10)" in text and "2,570" in text
    assert " Total params: 203,530 (795.04 KB)" in lines
    assert " Trainable params: 203,530 (795.04 KB)" in lines
    assert " Non-trainable params: 0 (0.00 B)" in lines


def test_summary_show_trainable_and_frozen_counts():
    model = mlp()
    model.layers[0].trainable = False
    lines = []
    model.summary(print_fn=lines.append, show_trainable=True)
    text = "\n".join(lines)
    assert "Trainable" in lines[2]
    assert " Non-trainable params: 40 (160.00 B)" in lines
    assert " N " in text and " Y " in text


def test_fit_learns_and_history_is_keras_shaped():
    keras.set_random_seed(1)
    x, y = blobs()
    model = mlp()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=15, batch_size=16, validation_split=0.25, verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert hist.epoch == list(range(15))
    assert all(len(v) == 15 for v in hist.history.values())
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.5
    assert hist.history["accuracy"][-1] > 0.9
    assert model.history is hist
    assert hist.params["epochs"] == 15 and hist.params["steps"] == 12
    loss, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.9
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(d) == {"loss", "accuracy"} and d["loss"] == pytest.approx(loss)
    p = model.predict(x, verbose=0)
    assert p.shape == (len(x), 3) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)


def test_epoch_metric_is_weighted_over_all_batches_not_last_batch():
    x, y = blobs(n=50)
    model = mlp()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    loss, acc = model.evaluate(x, y, batch_size=50, verbose=0)
    assert hist.history["accuracy"][0] == pytest.approx(acc)
    assert hist.history["loss"][0] == pytest.approx(loss, rel=1e-5)


def test_set_random_seed_makes_fit_bitwise_reproducible():
    x, y = blobs()

    def run():
        keras.utils.clear_session()
        keras.set_random_seed(42)
        model = keras.Sequential([keras.Input((4,)), L.Dense(16, activation="relu"),
                                  L.Dropout(0.3), L.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=3, batch_size=32, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_train_test_predict_on_batch():
    x, y = blobs(n=32)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.get_weights()
    loss, acc = model.train_on_batch(x, y)
    assert np.isfinite(loss) and 0 <= acc <= 1
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    after = model.get_weights()
    out = model.test_on_batch(x, y, return_dict=True)
    assert set(out) == {"loss", "accuracy"}
    for a, b in zip(after, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x, verbose=0))


def test_sample_weight_and_class_weight_change_the_loss():
    x, y = blobs(n=64)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    base = model.evaluate(x, y, verbose=0)
    sw = np.where(y == 0, 2.0, 0.5)
    weighted = model.evaluate(x, y, sample_weight=sw, verbose=0)
    per = keras.losses.get("sparse_categorical_crossentropy").call(y, model.predict(x, verbose=0))
    assert weighted == pytest.approx(float(np.mean(per * sw)), rel=1e-4)
    assert weighted != pytest.approx(base)
    model.fit(x, y, class_weight={0: 5.0, 1: 1.0, 2: 1.0}, epochs=1, verbose=0)


def test_get_set_weights_and_trainable_lists():
    model = mlp()
    ws = model.get_weights()
    assert [w.shape for w in ws] == [(4, 8), (8,), (8, 3), (3,)]
    model.set_weights([np.zeros_like(w) for w in ws])
    assert all((w == 0).all() for w in model.get_weights())
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    with pytest.raises(ValueError, match="expected shape"):
        model.set_weights([np.zeros((5, 8))] + ws[1:])


def test_verbose_modes_print_keras_style_progress(capsys):
    x, y = blobs(n=64)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=2, validation_split=0.25)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "loss:" in text and "val_accuracy:" in text
    assert "\x1b[" not in text                     # no terminal colour codes
    model.fit(x, y, epochs=1, verbose=0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    model.fit(x, y, epochs=1, verbose=1)
    out = capsys.readouterr()
    assert "Epoch 1/1" in out.out and "2/2" in (out.out + out.err)


def test_callbacks_hooks_and_lambda_callback():
    x, y = blobs(n=64)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    seen = []

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(("train_begin", self.params["epochs"], self.model is model))

        def on_epoch_end(self, epoch, logs=None):
            seen.append(("epoch_end", epoch, sorted(logs)))

        def on_train_batch_end(self, batch, logs=None):
            seen.append(("batch", batch))

    lam = keras.callbacks.LambdaCallback(on_train_end=lambda logs: seen.append("end"))
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[Recorder(), lam])
    assert seen[0] == ("train_begin", 2, True)
    assert ("epoch_end", 1, ["loss"]) in seen and seen[-1] == "end"
    assert sum(1 for s in seen if s[0] == "batch") == 4
    with pytest.raises(ValueError, match="unknown hook 'on_epoch_ends'"):
        keras.callbacks.LambdaCallback(on_epoch_ends=print)


def test_stop_training_from_callback():
    x, y = blobs(n=64)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    hist = model.fit(x, y, epochs=10, verbose=0, callbacks=[Stop()])
    assert hist.epoch == [0, 1]


def test_ctrl_c_stops_cleanly_and_keeps_weights():
    x, y = blobs(n=128)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")

    class Interrupt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                signal.raise_signal(signal.SIGINT)

    before = model.get_weights()
    with pytest.warns(RuntimeWarning, match="interrupted.*epoch 1, batch 2"):
        hist = model.fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=[Interrupt()])
    assert hist.epoch == []
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_non_finite_loss_stops_with_epoch_and_batch():
    x, y = blobs(n=64)
    model = keras.Sequential([keras.Input((4,)), L.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1e6), loss="mse")
    y = (x.sum(1, keepdims=True) * 1e3).astype("float32")
    with pytest.raises(NonFiniteLossError, match=r"epoch \d+, batch \d+"):
        model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert all(np.isfinite(w).all() for w in model.get_weights())


# -- errors users meet -----------------------------------------------------------------------
def test_fit_before_compile():
    with pytest.raises(RuntimeError, match="must be compiled before fit"):
        mlp().fit(np.ones((2, 4)), np.ones(2))


def test_unknown_names_suggest_close_match():
    with pytest.raises(ValueError, match="Unknown activation 'rleu'.*Did you mean 'relu'"):
        L.Dense(3, activation="rleu")
    with pytest.raises(ValueError, match="Unknown loss 'categorical_crossentropi'"):
        mlp().compile("adam", "categorical_crossentropi")
    with pytest.raises(ValueError, match="Unknown optimizer 'adom'.*Did you mean 'adam'"):
        mlp().compile("adom", "mse")


def test_x_y_length_mismatch():
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"same number of samples.*10 samples in x.*\(9,\)"):
        model.fit(np.ones((10, 4)), np.zeros(9))


def test_wrong_feature_size_names_layer_and_shapes():
    model = keras.Sequential([keras.Input((784,)), L.Dense(10, name="dense_1")])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"Layer 'dense_1' \(Dense\) expected input of shape "
                                         r"\(None, 784\).*received shape \(32, 28, 28\)"):
        model.predict(np.ones((32, 28, 28)))


def test_label_format_errors():
    x = np.ones((6, 4), "float32")
    model = mlp()
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy|to_categorical"):
        model.fit(x, np.array([0, 1, 2, 0, 1, 2]), verbose=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="categorical_crossentropy|argmax"):
        model.fit(x, np.eye(3)[[0, 1, 2, 0, 1, 2]], verbose=0)
    with pytest.raises(ValueError, match="range|\\b5\\b"):
        model.fit(x, np.array([0, 1, 5, 0, 1, 2]), verbose=0)


def test_nan_inputs_are_rejected():
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.ones((4, 4))
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"non-finite input.*x\[2, 1\]"):
        model.fit(x, np.zeros(4), verbose=0)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "8"])
def test_non_positive_units_rejected(bad):
    with pytest.raises(ValueError, match=r"units.*positive integer.*Received: units="):
        L.Dense(bad)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5])
def test_bad_dropout_rate_rejected(bad):
    with pytest.raises(ValueError, match=r"Dropout.*rate.*Received: rate="):
        L.Dropout(bad)


def test_bad_verbose_and_batch_size():
    x, y = blobs(n=8)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="verbose must be 0"):
        model.fit(x, y, verbose=3)
    with pytest.raises(ValueError, match="batch_size.*Received: batch_size=0"):
        model.fit(x, y, batch_size=0)


def test_float64_end_to_end(float64):
    x, y = blobs(n=64)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    assert all(w.dtype == np.float64 for w in model.get_weights())
    assert model.predict(x, verbose=0).dtype == np.float64


def test_regularizer_and_activity_regularizer_add_to_loss():
    x, y = blobs(n=32)
    plain = keras.Sequential([keras.Input((4,)), L.Dense(3, activation="softmax")])
    plain.compile("sgd", "sparse_categorical_crossentropy")
    reg = keras.Sequential([keras.Input((4,)), L.Dense(3, activation="softmax",
                                                       kernel_regularizer=keras.regularizers.L2(0.1),
                                                       activity_regularizer="l1")])
    reg.compile("sgd", "sparse_categorical_crossentropy")
    reg.set_weights(plain.get_weights())
    w = reg.layers[0].kernel.value
    out = reg.predict(x, verbose=0)
    # Keras 3 divides the activity penalty by the batch size
    expected = plain.evaluate(x, y, verbose=0, batch_size=32) + 0.1 * np.sum(w ** 2) \
        + 0.01 * np.abs(out).sum() / 32
    assert reg.evaluate(x, y, verbose=0, batch_size=32) == pytest.approx(expected, rel=1e-5)


def test_model_gradient_with_fused_softmax_matches_finite_differences(float64):
    x, y = blobs(n=12)
    model = keras.Sequential([keras.Input((4,)), L.Dense(5, activation="tanh"),
                              L.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    model.train_on_batch(x.astype("float64"), y)       # grads of the mean loss, lr=0
    grads = [v.grad.copy() for v in model.trainable_weights]
    eps = 1e-6
    for var, g in zip(model.trainable_weights, grads):
        flat = var.value.reshape(-1)
        for i in range(0, flat.size, 3):
            old = flat[i]
            flat[i] = old + eps
            fp = model.evaluate(x, y, verbose=0, batch_size=12)
            flat[i] = old - eps
            fm = model.evaluate(x, y, verbose=0, batch_size=12)
            flat[i] = old
            assert g.reshape(-1)[i] == pytest.approx((fp - fm) / (2 * eps), rel=1e-5, abs=1e-9)


def test_layer_normalization_weights_have_keras_shapes():
    ln = L.LayerNormalization()
    ln(np.ones((2, 4, 5), "float32"))
    assert [w.shape for w in ln.get_weights()] == [(5,), (5,)]
    ln2 = L.LayerNormalization(axis=[1, 2])
    ln2(np.ones((2, 4, 5, 3), "float32"))
    assert ln2.gamma.shape == (4, 5)
    ln3 = L.LayerNormalization(axis=1)
    out = ln3(np.random.default_rng(0).normal(size=(2, 4, 5)).astype("float32"))
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-5)
    assert ln3.gamma.shape == (4,)


def test_custom_output_layer_gets_the_true_gradient_not_the_fused_one(float64):
    """A custom layer with an `activation` attribute must not receive the fused softmax+CE
    gradient: its own backward applies the softmax derivative."""
    class MyDense(L.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.activation = keras.activations.get("softmax")

        def build(self, input_shape):
            self.w = self.add_weight("w", (input_shape[-1], self.units))

        def forward(self, x, training=False):
            self._x = x
            self._y = self.activation(x @ self.w.value)
            return self._y

        def backward(self, dy):
            dz = self.activation.backward(dy, None, self._y)
            self.w.grad += self._x.T @ dz
            return dz @ self.w.value.T

    x, y = blobs(n=10)
    x = x.astype("float64")
    model = keras.Sequential([keras.Input((4,)), MyDense(3)])
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    model.train_on_batch(x, y)
    g = model.layers[0].w.grad.copy()
    w = model.layers[0].w.value
    eps = 1e-6
    w[0, 0] += eps
    fp = model.evaluate(x, y, verbose=0)
    w[0, 0] -= 2 * eps
    fm = model.evaluate(x, y, verbose=0)
    w[0, 0] += eps
    assert g[0, 0] == pytest.approx((fp - fm) / (2 * eps), rel=1e-6)


def test_steps_arguments_are_refused_for_arrays():
    x, y = blobs(n=8)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="steps_per_epoch applies to generators.*Received"):
        model.fit(x, y, steps_per_epoch=2)
    with pytest.raises(ValueError, match="steps applies to generators"):
        model.predict(x, steps=1)


def test_predict_results_do_not_depend_on_batch_size():
    x = np.random.default_rng(0).standard_normal((300, 6, 6, 2)).astype("float32")
    model = keras.Sequential([keras.Input((6, 6, 2)), L.Conv2D(3, 3, activation="relu"),
                              L.BatchNormalization(), L.Dropout(0.5), L.Flatten(), L.Dense(2)])
    outs = [model.predict(x, batch_size=bs, verbose=0) for bs in (300, 129, 7)]
    for o in outs[1:]:
        np.testing.assert_allclose(o, outs[0], rtol=1e-5, atol=1e-6)
    assert outs[0].shape == (300, 2)


def test_test_and_predict_hooks_fire_in_evaluate_predict_and_validation():
    x, y = blobs(n=40)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    calls = []

    class Rec(keras.callbacks.Callback):
        pass

    rec = Rec()
    for hook in ("on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
                 "on_predict_begin", "on_predict_end", "on_predict_batch_begin",
                 "on_predict_batch_end"):
        setattr(rec, hook, (lambda h: lambda *a: calls.append(h))(hook))
    model.evaluate(x, y, batch_size=20, verbose=0, callbacks=[rec])
    assert calls == ["on_test_begin"] + ["on_test_batch_begin", "on_test_batch_end"] * 2 \
        + ["on_test_end"]
    calls.clear()
    model.predict(x, batch_size=40, verbose=0, callbacks=[rec])
    assert calls == ["on_predict_begin", "on_predict_batch_begin", "on_predict_batch_end",
                     "on_predict_end"]
    calls.clear()
    model.fit(x, y, epochs=1, validation_split=0.5, batch_size=20, verbose=0, callbacks=[rec])
    assert calls == ["on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_end"]


def test_unknown_metric_name_fails_at_compile():
    model = mlp()
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'.*Did you mean 'accuracy'"):
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["acuracy"])


def test_softmax_over_a_non_class_axis_gets_the_true_loss_gradient(float64):
    """Only a softmax over the last axis may fuse with cross-entropy; any other axis must go
    through the softmax's own derivative (a fused p - t there is silently wrong)."""
    rng = np.random.default_rng(3)
    x = keras.Input((4, 3))
    keras.set_random_seed(3)
    # No bias: a softmax over axis 1 is invariant to it (its true gradient is 0, all noise).
    z = L.Dense(3, use_bias=False, name="z")(x)
    out = L.Activation(keras.activations.get("softmax").with_params(axis=1))(z)
    model = keras.Model(x, out)
    model.compile(loss="categorical_crossentropy")
    xs = rng.normal(size=(5, 4, 3))
    ys = np.eye(3)[rng.integers(0, 3, size=(5, 4))]
    report = model.check_gradients(xs, ys, print_fn=lambda line: None)
    assert max(report.values()) < 1e-6
