"""The patterns of the Keras 3 guides, with only the import changed, train and differentiate.

Each test is a guide's code path: a custom layer with `add_weight` + `call`, `add_loss`, a VAE,
a custom metric, a custom `train_step`, a GAN with two optimizers, plus the defects the tape
design fixes (a nested model called twice, a shared layer used three times, threads).
"""
import threading

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers, ops


def _fd_check(model, x, y, n=6, rel=1e-6):
    """model.train_on_batch with lr=0 leaves d(loss)/dw in .grad; compare with central diffs."""
    model.compile(keras.optimizers.SGD(0.0), model.loss or "mse")
    model.train_on_batch(x, y)
    rng = np.random.default_rng(0)
    for var in model.trainable_weights:
        g = var.grad.copy().reshape(-1)
        flat = var.value.reshape(-1)
        for i in rng.choice(flat.size, min(n, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + 1e-6
            fp = model.evaluate(x, y, verbose=0, batch_size=len(x))
            flat[i] = old - 1e-6
            fm = model.evaluate(x, y, verbose=0, batch_size=len(x))
            flat[i] = old
            fp = fp[0] if isinstance(fp, list) else fp
            fm = fm[0] if isinstance(fm, list) else fm
            assert g[i] == pytest.approx((fp - fm) / 2e-6, rel=rel, abs=1e-9), var.path


class Linear(layers.Layer):
    """The guide's first layer: weights made in __init__ with add_weight, call() with ops."""

    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal",
                                 trainable=True)
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class LazyLinear(layers.Layer):
    """Weights made in build() from the input shape."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True, name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                 trainable=True, name="b")

    def call(self, inputs):
        return ops.tanh(ops.matmul(inputs, self.w) + self.b)


def test_custom_layer_with_add_weight_and_call_trains_and_differentiates(float64):
    lin = Linear(4, 3)
    assert [w.shape for w in lin.weights] == [(3, 4), (4,)]
    assert np.asarray(lin.w).shape == (3, 4)
    y = lin(np.ones((2, 3)))
    assert isinstance(y, np.ndarray) and y.shape == (2, 4)     # plain NumPy outside a tape
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 3))
    model = keras.Sequential([keras.Input((3,)), LazyLinear(5), Linear(2, 5)])
    model.compile(loss="mse")
    _fd_check(model, x, rng.normal(size=(12, 2)))
    model.compile(keras.optimizers.Adam(0.05), "mse")
    target = x @ rng.normal(size=(3, 2))
    hist = model.fit(x, target, epochs=30, verbose=0)
    assert hist.history["loss"][-1] < 0.3 * hist.history["loss"][0]


class ActivityRegularization(layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.sum(ops.square(inputs)))
        return inputs


def test_add_loss_enters_the_training_loss_and_its_gradient(float64):
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(10, 4)), rng.normal(size=(10, 1))
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="h"),
                              ActivityRegularization(0.1), layers.Dense(1)])
    model.compile(loss="mse")
    out = model(x)
    assert len(model.losses) == 1
    expected = 0.1 * np.sum(np.asarray(model.get_layer("h")(x)) ** 2)
    assert float(np.asarray(model.losses[0])) == pytest.approx(expected)
    plain = float(np.mean((out - y) ** 2))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(plain + expected, rel=1e-6)
    _fd_check(model, x, y)


def test_a_model_that_adds_its_own_loss_compiles_without_one(float64):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 4))

    class Autoencoder(keras.Model):
        def __init__(self):
            super().__init__()
            self.enc = layers.Dense(2, activation="tanh")
            self.dec = layers.Dense(4)

        def call(self, inputs):
            recon = self.dec(self.enc(inputs))
            self.add_loss(ops.mean(ops.square(recon - inputs)))
            return recon

    model = Autoencoder()
    model.compile(keras.optimizers.Adam(0.05))
    hist = model.fit(x, epochs=20, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


class Sampling(layers.Layer):
    """The VAE guide's layer: z = mean + exp(log_var / 2) * epsilon."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class VAE(keras.Model):
    def __init__(self, original_dim, latent_dim=2, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(8, activation="relu")
        self.mean = layers.Dense(latent_dim)
        self.log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()
        self.decode_hidden = layers.Dense(8, activation="relu")
        self.out = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        h = self.hidden(inputs)
        z_mean, z_log_var = self.mean(h), self.log_var(h)
        z = self.sampling((z_mean, z_log_var))
        reconstructed = self.out(self.decode_hidden(z))
        kl = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl)
        return reconstructed


def test_vae_with_sampling_and_kl_add_loss_trains():
    keras.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.random((64, 6)) > 0.5).astype("float32")
    vae = VAE(6)
    vae.compile(keras.optimizers.Adam(1e-2), loss=keras.losses.MeanSquaredError())
    hist = vae.fit(x, x, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert len(vae.losses) == 1            # the KL term of the latest call


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        y_true = ops.reshape(y_true, (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            values = ops.multiply(values, ops.cast(sample_weight, "float32"))
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_custom_metric_in_fit_logs():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("int64")
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=[CategoricalTruePositives()])
    hist = model.fit(x, y, batch_size=40, epochs=2, verbose=0)
    pred = model.predict(x, verbose=0).argmax(axis=1)
    # The second epoch's count uses the weights before that epoch's step.
    assert 0 <= hist.history["categorical_true_positives"][-1] <= 40
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["categorical_true_positives"] == float(np.sum(pred == y[:, 0]))


class CustomModel(keras.Model):
    """The 'customizing what happens in fit' guide: compute_loss + optimizer.apply + metrics."""

    def train_step(self, data):
        x, y = data
        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_custom_train_step_trains_and_reports_metrics():
    keras.set_random_seed(1)
    rng = np.random.default_rng(5)
    x = rng.random((200, 8)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    inputs = keras.Input(shape=(8,))
    outputs = layers.Dense(1)(layers.Dense(16, activation="relu")(inputs))
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    hist = model.fit(x, y, epochs=5, verbose=0)
    assert set(hist.history) == {"loss", "mae"}
    assert hist.history["loss"][-1] < hist.history["loss"][0]


class LowLevelModel(keras.Model):
    """The guide's lower-level variant: own trackers, a `metrics` property, own loss_fn."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        with keras.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.loss_tracker.update_state(self.loss_fn(y, y_pred))
        self.mae_metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_lower_level_train_step_with_own_metrics_and_no_compiled_loss():
    rng = np.random.default_rng(6)
    x = rng.random((64, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")
    inputs = keras.Input((4,))
    model = LowLevelModel(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    hist = model.fit(x, y, epochs=10, batch_size=16, verbose=0, validation_data=(x, y))
    assert set(hist.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(float(np.mean((model.predict(x, verbose=0) - y) ** 2)),
                                         rel=1e-5)


class GAN(keras.Model):
    """The guide's GAN: two sub-models, two optimizers, labels built with ops."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.seed_generator = keras.random.SeedGenerator(1337)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real):
        if isinstance(real, tuple):
            real = real[0]
        batch_size = ops.shape(real)[0]
        z = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        fake = self.generator(z)
        combined = ops.concatenate([fake, real], axis=0)
        labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0)
        with keras.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        z = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        misleading = ops.zeros((batch_size, 1))
        with keras.GradientTape() as tape:
            g_loss = self.loss_fn(misleading, self.discriminator(self.generator(z)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def test_gan_with_two_optimizers_trains_each_half():
    keras.set_random_seed(3)
    disc = keras.Sequential([keras.Input((2,)), layers.Dense(8, activation="relu"),
                             layers.Dense(1, activation="sigmoid")], name="disc")
    gen = keras.Sequential([keras.Input((3,)), layers.Dense(8, activation="relu"),
                            layers.Dense(2)], name="gen")
    gan = GAN(disc, gen, latent_dim=3)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3),
                keras.losses.BinaryCrossentropy())
    real = np.random.default_rng(0).normal(loc=2.0, size=(64, 2)).astype("float32")
    d0, g0 = disc.get_weights(), gen.get_weights()
    hist = gan.fit(real, batch_size=16, epochs=2, verbose=0)
    assert set(hist.history) == {"d_loss", "g_loss"}
    assert all(np.isfinite(v) for vs in hist.history.values() for v in vs)
    assert any(not np.array_equal(a, b) for a, b in zip(d0, disc.get_weights()))
    assert any(not np.array_equal(a, b) for a, b in zip(g0, gen.get_weights()))
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 8


def test_subclassed_call_runs_python_control_flow_every_step():
    seen = []

    class Branchy(keras.Model):
        def __init__(self):
            super().__init__()
            self.a = layers.Dense(2)
            self.b = layers.Dense(2)

        def call(self, x, training=False):
            seen.append(bool(training))
            if training:
                return self.a(x)
            if float(np.asarray(ops.mean(x))) > 100:     # data-dependent Python
                return self.b(x) * 0.0
            return self.b(x)

    model = Branchy()
    x = np.ones((4, 3), "float32")
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((4, 2)), epochs=2, batch_size=4, verbose=0)
    before = len(seen)
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x * 1000, verbose=0), 0.0)
    assert True in seen and seen[before:] == [False, False]


def test_siamese_tower_called_twice_gets_exact_gradients(float64):
    """A nested model used on two inputs in one step: both calls' gradients add up."""
    keras.set_random_seed(4)
    tower = keras.Sequential([keras.Input((4,)), layers.Dense(5, activation="tanh"),
                              layers.Dense(3, activation="tanh")], name="tower")
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    distance = ops.abs(tower(a) - tower(b))
    out = layers.Dense(1, activation="sigmoid")(distance)
    model = keras.Model([a, b], out)
    rng = np.random.default_rng(7)
    xa, xb = rng.normal(size=(9, 4)), rng.normal(size=(9, 4))
    y = rng.integers(0, 2, size=(9, 1)).astype("float64")
    model.compile(loss="binary_crossentropy")
    _fd_check(model, [xa, xb], y, n=8)
    report = model.check_gradients([xa, xb], y, print_fn=lambda line: None)
    assert max(report.values()) < 1e-6


def test_shared_layer_used_three_times(float64):
    shared = layers.Dense(3, activation="tanh", name="shared")
    x = keras.Input((3,))
    h = shared(shared(shared(x)))
    model = keras.Model(x, layers.Dense(1, name="head")(h))
    rng = np.random.default_rng(8)
    model.compile(loss="mse")
    _fd_check(model, rng.normal(size=(7, 3)), rng.normal(size=(7, 1)), n=9)


def test_predict_from_four_threads_equals_serial():
    keras.set_random_seed(5)
    inp = keras.Input((6,))
    h = layers.Dense(16, activation="relu")(inp)
    skip = layers.Add()([layers.Dense(16)(h), h])
    out = layers.Dense(3, activation="softmax")(layers.Concatenate()([skip, ops.tanh(h)]))
    model = keras.Model(inp, out)
    rng = np.random.default_rng(9)
    xs = [rng.normal(size=(300 + 7 * k, 6)).astype("float32") for k in range(4)]
    want = [model.predict(x, verbose=0, batch_size=17) for x in xs]
    got, errors = [None] * 4, []

    def work(k):
        try:
            for _ in range(5):
                got[k] = model.predict(xs[k], verbose=0, batch_size=17)
                if not np.array_equal(got[k], want[k]):
                    errors.append(k)
        except Exception as err:      # noqa: BLE001 - reported below
            errors.append(repr(err))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_ops_on_symbolic_tensors_build_graph_nodes_that_train_and_save(tmp_path):
    x = keras.Input((4,))
    h = layers.Dense(3)(x)
    y = ops.mean(h * 2.0 + 1.0, axis=1, keepdims=True) + h[:, :1]
    model = keras.Model(x, y)
    assert model.output_shape == (None, 1)
    data = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    hv = np.asarray(model.get_layer(h.name)(data))
    np.testing.assert_allclose(model.predict(data, verbose=0),
                               (hv * 2 + 1).mean(axis=1, keepdims=True) + hv[:, :1], rtol=1e-6)
    model.save(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(tmp_path / "m.kerasnp")
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))


def test_second_positional_argument_is_not_taken_as_training():
    layer = layers.Dropout(0.5)
    with pytest.raises(TypeError, match="training and mask by keyword"):
        layer(np.ones((2, 2)), True)


def test_old_contract_layer_still_trains_as_one_op(float64):
    class Scale(layers.Layer):                       # forward/backward: kerasnp's first contract
        def build(self, input_shape):
            self.s = self.add_weight("s", (input_shape[-1],), "ones")

        def forward(self, x, training=False):
            self._x = x
            return x * self.s.value

        def backward(self, dy):
            self.s.grad += (dy * self._x).sum(axis=0)
            return dy * self.s.value

    rng = np.random.default_rng(10)
    x = keras.Input((3,))
    scale = Scale()
    model = keras.Model(x, layers.Dense(1)(scale(scale(x))))      # used twice: state snapshot
    model.compile(loss="mse")
    _fd_check(model, rng.normal(size=(6, 3)), rng.normal(size=(6, 1)))


def test_subclassed_model_built_only_from_ops_checks_in_float64(float64):
    """No built-in layer at all: the model owns its weights and its call() is ops only."""

    class TwoLayer(keras.Model):
        def build(self, input_shape):
            self.w1 = self.add_weight(shape=(input_shape[-1], 5), name="w1")
            self.b1 = self.add_weight(shape=(5,), initializer="random_normal", name="b1")
            self.w2 = self.add_weight(shape=(5, 2), name="w2")

        def call(self, x, training=False):
            h = ops.tanh(ops.matmul(x, self.w1) + self.b1)
            if training:                                   # Python control flow on the flag
                h = h * 1.0
            return ops.softmax(ops.matmul(h, self.w2) + ops.mean(h, axis=-1, keepdims=True))

    keras.set_random_seed(6)
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(8, 3)), rng.integers(0, 2, size=8)
    model = TwoLayer()
    model.compile(loss="sparse_categorical_crossentropy")
    model.build((None, 3))
    assert [v.name for v in model.trainable_weights] == ["w1", "b1", "w2"]
    report = model.check_gradients(x, y, print_fn=lambda line: None)
    assert len(report) == 3 and max(report.values()) < 1e-6
    _fd_check(model, x, y)


def test_pack_and_unpack_x_y_sample_weight():
    x, y, w = np.ones(2), np.zeros(2), np.full(2, 0.5)
    unpack, pack = keras.utils.unpack_x_y_sample_weight, keras.utils.pack_x_y_sample_weight
    assert unpack(x) == (x, None, None) and unpack((x,)) == (x, None, None)
    assert unpack((x, y))[1] is y and unpack([x, y, w])[2] is w
    assert pack(x) == (x,) and len(pack(x, y)) == 2 and pack(x, y, w)[2] is w
    with pytest.raises(ValueError, match="x, \\(x,\\), \\(x, y\\) or \\(x, y, sample_weight\\)"):
        unpack((x, y, w, w))
