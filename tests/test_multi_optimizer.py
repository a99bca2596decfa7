"""MultiOptimizer and OptimizerMap: routing by variable path (Keras's precedence), each
sub-optimizer's own step, errors, config round trip, save/load and exact resume."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import callbacks, layers, optimizers as O
from kerasnp._registry import SerializationError
from kerasnp.optimizers.base import NonFiniteUpdateError


def make_model(seed=3):
    keras.config.set_floatx("float32")
    keras.set_random_seed(seed)
    return keras.Sequential([keras.Input((5,)), layers.Dense(6, activation="tanh", name="body"),
                             layers.Dropout(0.2), layers.Dense(2, name="head")])


def make_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 5)).astype("float32"), rng.normal(size=(40, 2)).astype("float32")


def grads_of(model, x, y):
    with keras.GradientTape() as tape:
        loss = keras.ops.mean(keras.ops.square(model(x, training=False) - y))
    return tape.gradient(loss, model.trainable_weights)


def split(model):
    body = [v for v in model.trainable_weights if v.path.startswith("body/")]
    head = [v for v in model.trainable_weights if v.path.startswith("head/")]
    return body, head


# ---------------------------------------------------------------------------- routing
def test_each_variable_is_stepped_by_its_optimizer_only():
    x, y = make_data()
    model, ref = make_model(), make_model()
    multi = O.MultiOptimizer(O.OptimizerMap(O.SGD(0.1, momentum=0.9),
                                            {"head/.*": O.Adam(0.01)}))
    sgd, adam = O.SGD(0.1, momentum=0.9), O.Adam(0.01)       # the separate references
    for _ in range(4):
        multi.apply(grads_of(model, x, y), model.trainable_weights)
        g = grads_of(ref, x, y)
        body, head = split(ref)
        sgd.apply(g[:len(body)], body)
        adam.apply(g[len(body):], head)
    for a, b in zip(model.trainable_weights, ref.trainable_weights):
        np.testing.assert_array_equal(a.value, b.value, err_msg=a.path)
    assert multi.iterations == 4
    assert [(o.name, o.iterations) for o in multi.optimizers] == [("adam", 4), ("SGD", 4)]
    assert set(multi.get_slots(model.trainable_weights[0])) == {"momentum"}
    assert set(multi.get_slots(model.trainable_weights[-1])) == {"momentum", "velocity"}


def test_first_step_formulas_numpy_reference():
    x, y = make_data()
    model = make_model()
    before = [v.value.astype(np.float64) for v in model.trainable_weights]
    grads = [np.asarray(getattr(g, "value", g), np.float64) for g in grads_of(model, x, y)]
    multi = O.MultiOptimizer(O.OptimizerMap(O.SGD(0.1), {"head/.*": O.Adam(0.01)}))
    multi.apply(grads_of(model, x, y), model.trainable_weights)
    for var, w0, g in zip(model.trainable_weights, before, grads):
        if var.path.startswith("body/"):
            want = w0 - 0.1 * g
        else:     # Adam step 1: m = 0.1 g, v = 0.001 g^2, lr_t = lr sqrt(1 - b2) / (1 - b1)
            m, v = 0.1 * g, 0.001 * g * g
            want = w0 - 0.01 * np.sqrt(0.001) / 0.1 * m / (np.sqrt(v) + 1e-7)
        np.testing.assert_allclose(var.value, want, rtol=1e-5, atol=1e-6, err_msg=var.path)


def test_fit_uses_each_sub_optimizers_learning_rate_and_schedule():
    x, y = make_data()
    sched = O.schedules.ExponentialDecay(0.05, decay_steps=1, decay_rate=0.5)
    multi = O.MultiOptimizer(O.OptimizerMap(O.SGD(sched)))
    multi["head/.*"] = O.Adam(0.0)                            # item assignment on the wrapper
    model = make_model()
    head0 = [v.value.copy() for v in split(model)[1]]
    model.compile(optimizer=multi, loss="mse")
    body0 = [v.value.copy() for v in split(model)[0]]
    model.fit(*make_data(), batch_size=20, epochs=2, verbose=0)
    for v, w0 in zip(split(model)[1], head0):                 # Adam with lr 0 never moves
        np.testing.assert_array_equal(v.value, w0)
    assert any(not np.array_equal(v.value, w0) for v, w0 in zip(split(model)[0], body0))
    sgd = multi.optimizers[1]
    assert sgd.iterations == 4 and sgd.learning_rate == pytest.approx(0.05 / 16)
    with pytest.raises(AttributeError, match="sub-optimizers"):
        multi.learning_rate
    with pytest.raises(AttributeError, match="sub-optimizers"):
        multi.learning_rate = 0.1


def test_callable_selector_and_fit():
    adam, sgd = O.Adam(0.01), O.SGD(0.1)
    multi = O.MultiOptimizer(lambda v: adam if "head" in v.path else sgd)
    model = make_model()
    model.compile(optimizer=multi, loss="mse")
    model.fit(*make_data(), batch_size=20, epochs=1, verbose=0)
    assert [o.iterations for o in multi.optimizers] == [2, 2]
    assert {id(o) for o in multi.optimizers} == {id(adam), id(sgd)}
    with pytest.raises(SerializationError, match="callable selector"):
        multi.get_config()


# ---------------------------------------------------------------------------- the map
def test_map_precedence_as_keras():
    adam, sgd, rms = O.Adam(), O.SGD(), O.RMSprop()
    m = O.OptimizerMap(default_optimizer=rms)
    m["encoder/layer_0/dense"] = adam
    m["encoder/.*"] = sgd
    m["decoder"] = adam
    assert m["decoder"] is adam                          # exact key
    assert m["encoder/layer_0/dense"] is adam            # exact key beats a matching regex
    assert m["encoder/layer_0/attention/query"] is sgd   # regex, full match
    assert m["decoder/layer_0/dense"] is rms             # "decoder" does not fullmatch it
    assert m.default_optimizer is rms and len(m) == 3 and list(m) == [
        "encoder/layer_0/dense", "encoder/.*", "decoder"]
    m["enc.*"] = O.Lion()
    with pytest.raises(ValueError, match="matches several keys"):
        m["encoder/x"]
    del m["enc.*"]
    assert m["encoder/x"] is sgd
    multi = O.MultiOptimizer(m)
    assert [type(o).__name__ for o in multi.optimizers] == ["Adam", "SGD", "RMSprop"]
    assert multi["decoder"] is adam


def test_errors_are_clear():
    with pytest.raises(TypeError, match="default_optimizer must be a kerasnp Optimizer"):
        O.OptimizerMap("adam")
    with pytest.raises(TypeError, match="optimizer_map must be None or a dict"):
        O.OptimizerMap(O.SGD(), [("a", O.Adam())])
    m = O.OptimizerMap(O.SGD())
    with pytest.raises(ValueError, match="key 'x' must be a kerasnp Optimizer.*Received: "
                                         "optimizer=3"):
        m["x"] = 3
    with pytest.raises(ValueError, match=r"key 'dense\[' is not a valid regular expression"):
        m["dense["] = O.Adam()
    with pytest.raises(ValueError, match="a key must be a string"):
        m[3] = O.Adam()
    m["a"] = O.Adam()
    with pytest.raises(ValueError, match="'a' already exists"):
        m["a"] = O.Adam()
    with pytest.raises(ValueError, match="cannot be a MultiOptimizer"):
        m["b"] = O.MultiOptimizer(O.OptimizerMap(O.SGD()))
    with pytest.raises(TypeError, match="an OptimizerMap or a callable"):
        O.MultiOptimizer(O.SGD())
    with pytest.raises(ValueError, match="loss_scale_factor"):
        O.MultiOptimizer(m, loss_scale_factor=2.0)
    model = make_model()
    bad = O.MultiOptimizer(lambda v: "sgd")
    with pytest.raises(ValueError, match="variable 'body/kernel' is not an Optimizer"):
        bad.build(model.trainable_weights)


def test_failed_step_is_taken_back_in_every_sub_optimizer():
    x, y = make_data()
    model = make_model()
    multi = O.MultiOptimizer(O.OptimizerMap(O.SGD(0.1), {"head/.*": O.Adam(0.01)}))
    multi.apply(grads_of(model, x, y), model.trainable_weights)
    weights = [v.value.copy() for v in model.trainable_weights]
    slots = [multi.get_slots(v) for v in model.trainable_weights]
    grads = [np.asarray(getattr(g, "value", g)).copy() for g in grads_of(model, x, y)]
    grads[0][0, 0] = np.inf                  # body (SGD, stepped after Adam) fails
    with pytest.raises(NonFiniteUpdateError):
        multi.apply(grads, model.trainable_weights)
    for v, w, s in zip(model.trainable_weights, weights, slots):
        np.testing.assert_array_equal(v.value, w, err_msg=v.path)
        for k, a in multi.get_slots(v).items():
            np.testing.assert_array_equal(a, s[k], err_msg=f"{v.path}/{k}")
    assert multi.iterations == 1 and [o.iterations for o in multi.optimizers] == [1, 1]


# ---------------------------------------------------------------------------- config, saving
def test_get_config_round_trip_and_keras_config():
    multi = O.MultiOptimizer(O.OptimizerMap(O.SGD(0.1, momentum=0.5), {"head/.*": O.Adam(0.02)}),
                             name="mo")
    cfg = multi.get_config()
    assert list(cfg) == ["optimizer_map", "loss_scale_factor", "name"]
    assert cfg["optimizer_map"]["class_name"] == "OptimizerMap"
    assert list(cfg["optimizer_map"]["config"]) == ["default_optimizer", "optimizer_map"]
    back = O.deserialize(O.serialize(multi))
    assert type(back) is O.MultiOptimizer and back.name == "mo"
    assert [(type(o).__name__, o.learning_rate) for o in back.optimizers] == [
        ("Adam", 0.02), ("SGD", 0.1)]
    assert back.optimizers[1].momentum == 0.5 and back.get_config() == cfg
    # Keras 3.15's own config (module / registered_name keys, its inert optimizer keys)
    keras_cfg = {"optimizer_map": {"module": "keras.optimizers", "class_name": "OptimizerMap",
                                   "registered_name": None, "config": {
                     "default_optimizer": {"module": "keras.optimizers", "class_name": "SGD",
                                           "registered_name": "SGD", "config": {
                                               "name": "sgd", "learning_rate": 0.1,
                                               "loss_scale_factor": None,
                                               "gradient_accumulation_steps": None}},
                     "optimizer_map": {"dense/.*": {"class_name": "Adam", "config": {}}}}},
                 "loss_scale_factor": None, "name": "multi_optimizer"}
    k = O.MultiOptimizer.from_config(keras_cfg)
    assert [type(o).__name__ for o in k.optimizers] == ["Adam", "SGD"]
    assert k["dense/kernel"] is k.optimizers[0] and k["other"].learning_rate == 0.1


def compiled(seed=3):
    model = make_model(seed)
    sched = O.schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.9)
    model.compile(optimizer=O.MultiOptimizer(O.OptimizerMap(
        O.SGD(sched, momentum=0.9), {"head/.*": O.Adam(0.01)})), loss="mse")
    return model


def test_save_load_then_continue_is_exact(tmp_path):
    x, y = make_data()
    ref = compiled()                           # uninterrupted: 2 epochs, an lr change, 2 more
    ref.fit(x, y, batch_size=8, epochs=2, verbose=0)
    ref.optimizer.optimizers[0].learning_rate = 0.005
    ref.fit(x, y, batch_size=8, epochs=4, initial_epoch=2, verbose=0)
    model = compiled()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    model.optimizer.optimizers[0].learning_rate = 0.005
    model.save(tmp_path / "m.kerasnp")
    loaded = keras.models.load_model(tmp_path / "m.kerasnp")
    opt = loaded.optimizer
    assert isinstance(opt, O.MultiOptimizer) and opt.iterations == 10
    assert [o.iterations for o in opt.optimizers] == [10, 10]
    assert opt.optimizers[0].learning_rate == 0.005
    for a, b in zip(model.trainable_weights, loaded.trainable_weights):
        for k, s in model.optimizer.get_slots(a).items():
            np.testing.assert_array_equal(opt.get_slots(b)[k], s)
    loaded.fit(x, y, batch_size=8, epochs=4, initial_epoch=2, verbose=0)
    for a, b in zip(ref.weights, loaded.weights):
        np.testing.assert_array_equal(a.value, b.value, err_msg=a.path)


class Crash(callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("simulated crash")


def test_backup_and_restore_resume_is_exact(tmp_path):
    x, y = make_data()
    ref = compiled()
    ref.fit(x, y, batch_size=8, epochs=4, verbose=0)
    model = compiled()
    with pytest.raises(RuntimeError, match="simulated crash"):
        model.fit(x, y, batch_size=8, epochs=4, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(tmp_path), Crash()])
    fresh = compiled(seed=99)                          # other initial weights: all restored
    fresh.fit(x, y, batch_size=8, epochs=4, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path)])
    assert fresh.optimizer.iterations == ref.optimizer.iterations == 20
    for a, b in zip(ref.weights, fresh.weights):
        np.testing.assert_array_equal(a.value, b.value, err_msg=a.path)


def test_saving_a_callable_selector_fails_clearly(tmp_path):
    model = make_model()
    model.compile(optimizer=O.MultiOptimizer(lambda v: O.SGD()), loss="mse")
    with pytest.raises(SerializationError, match="callable selector.*OptimizerMap"):
        model.save(tmp_path / "m.kerasnp")


def test_a_file_of_another_optimizer_is_refused(tmp_path):
    x, y = make_data()
    plain = make_model()
    plain.compile(optimizer="adam", loss="mse")
    plain.fit(x, y, epochs=1, verbose=0)
    plain.save(tmp_path / "adam.kerasnp")
    multi = compiled()
    multi.fit(x, y, epochs=1, verbose=0)
    multi.save(tmp_path / "multi.kerasnp")
    other = compiled(seed=5)
    before = [v.value.copy() for v in other.weights]
    with pytest.raises(keras.saving.ModelFileError, match="MultiOptimizer needs 10"):
        keras.saving.load_into(other, tmp_path / "adam.kerasnp")
    with pytest.raises(keras.saving.ModelFileError, match="optimizer variables"):
        keras.saving.load_into(plain, tmp_path / "multi.kerasnp")
    rerouted = make_model()                   # same weights, other routing: other slots
    rerouted.compile(optimizer=O.MultiOptimizer(O.OptimizerMap(O.Adam(), {"head/.*": O.SGD()})),
                     loss="mse")
    with pytest.raises(keras.saving.ModelFileError, match="optimizer"):
        keras.saving.load_into(rerouted, tmp_path / "multi.kerasnp")
    for v, w in zip(other.weights, before):   # nothing was changed
        np.testing.assert_array_equal(v.value, w)


@pytest.mark.parametrize("make", [lambda: keras.callbacks.ReduceLROnPlateau(),
                                  lambda: keras.callbacks.LearningRateScheduler(lambda e, lr: lr)])
def test_learning_rate_callbacks_refuse_a_multi_optimizer_clearly(make):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.MultiOptimizer(
        keras.optimizers.OptimizerMap(keras.optimizers.SGD())), "mse")
    with pytest.raises(ValueError, match="MultiOptimizer has none.*schedules"):
        model.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=1, verbose=0, callbacks=[make()])
