"""Issue 12's remaining defects: guarantees that must hold on hostile or degenerate input.

A batch whose loss is not finite, or whose update overflows, leaves no trace (weights, moving
statistics, optimizer slots); epochs without batches and buffers sized by `batch_size` alone are
refused or avoided; arguments of `fit` are validated up front with messages that name them.
"""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import callbacks, layers, optimizers, variables
from kerasnp.errors import NonFiniteLossError


def bn_model(optimizer="sgd"):
    keras.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(8), layers.BatchNormalization(),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy")
    return model


def spiral(n=16):
    rng = np.random.default_rng(0)
    return rng.random((n, 4)).astype("float32"), np.arange(n) % 3


def snapshot(model):
    return [w.copy() for w in model.get_weights()]


def assert_same(actual, expected):
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- 4(a) undo log
def test_undo_log_restores_assigned_variables_once_each_in_place():
    a = variables.Variable(np.arange(3.0), name="a")
    b = variables.Variable(np.ones(2), name="b")
    c = variables.Variable(np.zeros(1), name="c")
    storage = a.value
    with variables.undo_log() as log:
        a.assign([5.0, 6.0, 7.0])
        a.assign_add(np.ones(3))                 # the first old value is the one kept
        b.assign_sub(np.ones(2))
    c.assign([9.0])                              # after the log closed: not recorded
    assert log.variables == [a, b]
    log.undo()
    np.testing.assert_array_equal(a.value, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(b.value, [1.0, 1.0])
    np.testing.assert_array_equal(c.value, [9.0])
    assert a.value is storage                    # views held elsewhere (optimizer) stay valid


def test_nested_undo_logs_both_record():
    a = variables.Variable(np.zeros(2), name="a")
    with variables.undo_log() as outer:
        with variables.undo_log() as inner:
            a.assign([1.0, 1.0])
        a.assign([2.0, 2.0])
    inner.undo()
    np.testing.assert_array_equal(a.value, [0.0, 0.0])
    a.assign([3.0, 3.0])
    outer.undo()
    np.testing.assert_array_equal(a.value, [0.0, 0.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("quiet", [False, True], ids=["raises", "TerminateOnNaN"])
def test_batch_norm_statistics_untouched_by_a_batch_with_non_finite_loss(quiet):
    model = bn_model()
    x, y = spiral()
    model.fit(x, y, batch_size=16, verbose=0)
    before = snapshot(model)                    # moving mean and variance included
    huge = np.full_like(x, 3e38)                # finite input; the Dense output overflows
    cbs = [callbacks.TerminateOnNaN()] if quiet else []
    if quiet:
        model.fit(huge, y, batch_size=16, verbose=0, callbacks=cbs)
    else:
        with pytest.raises(NonFiniteLossError, match="epoch 1, batch 1"):
            model.fit(huge, y, batch_size=16, verbose=0)
    assert_same(model.get_weights(), before)


# --------------------------------------------------------------------------- 4(b) overflowing update
VARIANTS = [("sgd", {}), ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.9, "nesterov": True}),
            ("rmsprop", {}), ("rmsprop", {"momentum": 0.5}), ("rmsprop", {"centered": True}),
            ("rmsprop", {"centered": True, "momentum": 0.5}), ("adam", {}),
            ("adam", {"amsgrad": True}), ("adagrad", {}), ("adadelta", {}), ("adamax", {}),
            ("nadam", {}), ("adamw", {})]


def _opt_state(opt, vs):
    return [v.numpy() for v in vs], [a for _, a in opt.variables_for(vs)]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name,kw", VARIANTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_a_step_that_makes_a_value_non_finite_is_undone_exactly(name, kw, dtype):
    """Both Numba kernels (float32/64) and the NumPy twins (float16) report the non-finite
    value; every variable of the step (the first one was already updated) gets its value back,
    the slots and iterations are as before, and the next good step is the one it would be."""
    rng = np.random.default_rng(0)
    config = {"class_name": name, "config": {**kw, "learning_rate": 0.05}}
    opt, twin = optimizers.get(config), optimizers.get(config)
    vs = [variables.Variable(rng.standard_normal(s).astype(dtype), name=n)
          for s, n in (((5, 4), "a"), ((7,), "b"))]
    twins = [variables.Variable(v.numpy(), name=v.name) for v in vs]
    grads = [rng.standard_normal(v.shape).astype(dtype) for v in vs]
    for _ in range(2):
        opt.apply(grads, vs)
        twin.apply(grads, twins)
    values, state = _opt_state(opt, vs)
    bad = [grads[0], grads[1].copy()]
    bad[1][3] = np.inf
    with pytest.raises(optimizers.NonFiniteUpdateError,
                       match=r"'b'.*gradient holds NaN or inf.*undone.*iterations \(2\)"):
        opt.apply(bad, vs)
    after_values, after_state = _opt_state(opt, vs)
    assert_same(after_values, values)
    assert_same(after_state, state)
    assert opt.iterations == 2
    opt.apply(grads, vs)
    twin.apply(grads, twins)
    assert_same([v.value for v in vs], [v.value for v in twins])
    assert_same(_opt_state(opt, vs)[1], _opt_state(twin, twins)[1])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_update_that_overflows_names_the_learning_rate():
    v = variables.Variable(np.ones(3, np.float32), name="w")
    opt = optimizers.SGD(1e300)                     # inf once cast to float32
    with pytest.raises(optimizers.NonFiniteUpdateError,
                       match=r"SGD step 1: .*'w'.*overflowed.*float32.*learning rate \(now 1e\+300\)"):
        opt.apply([np.ones(3, np.float32)], [v])
    np.testing.assert_array_equal(v.value, np.ones(3))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_stops_on_an_overflowing_update_with_epoch_and_batch_and_undoes_it():
    model = bn_model(optimizers.SGD(1e300))
    x, y = spiral(32)
    before = snapshot(model)
    with pytest.raises(NonFiniteLossError, match=r"epoch 1, batch 1 \(of 2\).*overflowed"):
        model.fit(x, y, batch_size=16, verbose=0)
    assert_same(model.get_weights(), before)     # BN moving statistics included
    assert model.optimizer.iterations == 0 and model.stop_training


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_stops_quietly_on_an_overflowing_update(capsys):
    model = bn_model(optimizers.Adam(1e-3))
    x, y = spiral(32)
    model.fit(x, y, batch_size=16, verbose=0)
    before = snapshot(model)
    state = _opt_state(model.optimizer, model.trainable_variables)[1]
    model.optimizer.learning_rate = 1e300
    model.fit(x, y, batch_size=16, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert "terminating training" in capsys.readouterr().out
    assert_same(model.get_weights(), before)
    assert_same(_opt_state(model.optimizer, model.trainable_variables)[1], state)
    assert model.optimizer.iterations == 2


def test_a_variable_given_twice_in_one_step_is_refused():
    v = variables.Variable(np.ones(2), name="w")
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="'w' was given twice in one step"):
        opt.apply([np.ones(2), np.ones(2)], [v, v])
    np.testing.assert_array_equal(v.value, np.ones(2))
    assert opt.iterations == 0


def test_a_callback_failing_in_on_train_begin_leaves_ctrl_c_as_it_was():
    """fit installs its Ctrl-C handler before the callbacks' on_train_begin: when one of them
    raises, the handler goes back (it used to stay, swallowing every later Ctrl-C)."""
    import signal

    class Boom(callbacks.Callback):
        def on_train_begin(self, logs=None):
            raise RuntimeError("boom")

    model = bn_model()
    x, y = spiral()
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(x, y, verbose=0, callbacks=[Boom()])
    assert signal.getsignal(signal.SIGINT) is before


# --------------------------------------------------------------------------- 5 epochs with no batches
def gen(n_batches=None, bs=4):
    x, y = spiral(bs)
    k = 0
    while n_batches is None or k < n_batches:
        k += 1
        yield x, y


@pytest.mark.parametrize("call", [
    lambda m, x, y: m.fit(x, y, verbose=0),
    lambda m, x, y: m.evaluate(x, y, verbose=0),
    lambda m, x, y: m.train_on_batch(x, y),
    lambda m, x, y: m.test_on_batch(x, y),
], ids=["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_empty_arrays_are_refused(call):
    x, y = spiral()
    with pytest.raises(ValueError, match=r"received no samples: x has 0 rows"):
        call(bn_model(), x[:0], y[:0])


def test_empty_validation_data_is_refused():
    x, y = spiral()
    with pytest.raises(ValueError, match=r"no samples: validation_data has 0 rows"):
        bn_model().fit(x, y, validation_data=(x[:0], y[:0]), verbose=0)


@pytest.mark.parametrize("bad", [0, -1, 1.7, 2.0, True, "3"])
@pytest.mark.parametrize("arg", ["steps_per_epoch", "validation_steps"])
def test_steps_must_be_positive_integers(arg, bad):
    kwargs = {"steps_per_epoch": 2, "validation_data": gen()}
    kwargs[arg] = bad
    if arg == "steps_per_epoch":
        kwargs["validation_steps"] = 1
    with pytest.raises(ValueError, match=rf"`{arg}` must be a positive integer. "
                                         rf"Received: {arg}={bad!r}"):
        bn_model().fit(gen(), verbose=0, shuffle=False, **kwargs)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_evaluate_and_predict_steps_must_be_positive_integers(bad):
    model = bn_model()
    with pytest.raises(ValueError, match=rf"`steps` must be a positive integer.*steps={bad!r}"):
        model.evaluate(gen(), steps=bad, verbose=0)
    with pytest.raises(ValueError, match=rf"`steps` must be a positive integer.*steps={bad!r}"):
        model.predict(gen(), steps=bad, verbose=0)


def test_a_generator_with_no_batches_is_refused():
    with pytest.raises(ValueError, match="generator that yielded no batches"):
        bn_model().fit(gen(0), steps_per_epoch=2, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match="generator that yielded no batches"):
        bn_model().evaluate(gen(0), steps=2, verbose=0)


def test_a_generator_that_runs_out_stops_training_without_empty_epochs():
    """5 batches for 3 epochs of 2: the third epoch gets 1 batch, then training stops (as
    Keras); epochs with no batch at all are never logged with a made-up loss."""
    model = bn_model()
    with pytest.warns(RuntimeWarning, match=r"ran out of data after 1 of steps_per_epoch=2 "
                                            r"batches.*training stops"):
        history = model.fit(gen(5), steps_per_epoch=2, epochs=6, verbose=0, shuffle=False)
    assert history.epoch == [0, 1, 2] and model.stop_training
    model = bn_model()
    with pytest.warns(RuntimeWarning, match="ran out of data after 0 of"):
        history = model.fit(gen(4), steps_per_epoch=2, epochs=6, verbose=0, shuffle=False)
    assert history.epoch == [0, 1]
    assert all(loss > 0 for loss in history.history["loss"])


def test_a_validation_generator_that_runs_out_is_an_error():
    model = bn_model()
    with pytest.warns(RuntimeWarning, match="ran out of data after 0 of validation_steps=1"), \
            pytest.raises(ValueError, match="validation_data gave no batches"):
        model.fit(gen(), steps_per_epoch=2, epochs=3, validation_data=gen(1),
                  validation_steps=1, verbose=0, shuffle=False)


# --------------------------------------------------------------------------- 6 buffers sized by the data
HUGE = 10 ** 15                                 # a buffer of that many rows cannot be allocated


@pytest.mark.parametrize("shuffle", [True, False])
def test_a_batch_size_beyond_the_data_trains_in_one_step(shuffle):
    x, y = spiral(20)
    model = bn_model()
    history = model.fit(x, y, batch_size=HUGE, epochs=2, shuffle=shuffle, verbose=0,
                        validation_split=0.25, validation_batch_size=HUGE)
    assert model.optimizer.iterations == 2 and len(history.history["val_loss"]) == 2
    assert np.isfinite(model.evaluate(x, y, batch_size=HUGE, verbose=0))
    assert model.predict(x, batch_size=HUGE, verbose=0).shape == (20, 3)


def test_a_memory_mapped_input_with_a_huge_batch_size(tmp_path):
    x, y = spiral(20)
    np.save(tmp_path / "x.npy", x.astype(np.float64))
    xm = np.load(tmp_path / "x.npy", mmap_mode="r")
    model = bn_model()
    model.fit(xm, y, batch_size=HUGE, verbose=0)
    np.testing.assert_allclose(model.predict(xm, batch_size=HUGE, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)


def test_predict_allocates_no_gather_buffer():
    """predict reads its batches as views of the validated input: a batch-sized buffer that
    nothing uses would double the memory of a large predict."""
    import tracemalloc
    keras.set_random_seed(0)
    model = keras.Sequential([keras.Input((100,)), layers.Dense(3)])
    x = np.random.default_rng(0).random((5000, 100)).astype("float32")   # 2 MB
    model.predict(x[:10], verbose=0)
    tracemalloc.start()
    model.predict(x, batch_size=5000, verbose=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.5e6, peak                   # the finiteness check's mask is 0.5 MB


# --------------------------------------------------------------------------- 7 class_weight, validation_freq
@pytest.mark.parametrize("weights,match", [
    ({-1: 100.0}, r"keys \[-1\].*class ids of the model's output: integers 0 to 2 \(3 classes\)"),
    ({3: 2.0}, r"keys \[3\].*integers 0 to 2"),
    ({"a": 1.0}, r"keys \['a'\].*integers 0 to 2"),
    ({True: 1.0}, r"keys \[True\].*integers 0 to 2"),
    ({0: float("nan")}, r"class_weight\[0\] must be a finite number >= 0. Received: nan"),
    ({1: -2.0}, r"class_weight\[1\] must be a finite number >= 0. Received: -2.0"),
    ({1: "heavy"}, r"class_weight\[1\] must be a finite number >= 0. Received: 'heavy'"),
])
def test_class_weight_is_validated_at_the_start_of_fit(weights, match):
    x, y = spiral()
    model = bn_model()
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, class_weight=weights, verbose=0)
    assert model.optimizer.iterations == 0


def test_class_weight_for_a_binary_output_names_classes_0_and_1():
    keras.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    x, y = spiral()
    with pytest.raises(ValueError, match=r"keys \[2\].*integers 0 to 1 \(2 classes\)"):
        model.fit(x, y % 2, class_weight={2: 1.0}, verbose=0)
    model.fit(x, y % 2, class_weight={0: 1.0, 1: 3.0}, verbose=0)


def test_an_empty_class_weight_weighs_every_class_1_as_in_keras():
    x, y = spiral()
    plain, weighted = bn_model(), bn_model()
    a = plain.fit(x, y, verbose=0, shuffle=False).history["loss"]
    b = weighted.fit(x, y, class_weight={}, verbose=0, shuffle=False).history["loss"]
    assert a == b


@pytest.mark.parametrize("bad", [0, -1, 1.5, None, "2"])
def test_validation_freq_must_be_a_positive_integer(bad):
    x, y = spiral()
    model = bn_model()
    with pytest.raises(ValueError, match=rf"`validation_freq` must be a positive integer. "
                                         rf"Received: validation_freq={bad!r}"):
        model.fit(x, y, validation_split=0.25, validation_freq=bad, verbose=0)
    assert model.optimizer.iterations == 0


# --------------------------------------------------------------------------- 9 messages
def test_a_ragged_list_is_named_as_such():
    model = bn_model()
    with pytest.raises(ValueError, match=r"fit\(\) could not make x one numeric array.*"
                                         r"rows of different lengths.*Received: x of type list"):
        model.fit([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0]], [0, 1], verbose=0)
    with pytest.raises(ValueError, match=r"could not make y one array.*different lengths"):
        model.fit(np.ones((2, 4)), [[1.0], [1.0, 0.0]], verbose=0)
    model.fit([[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 0.0, 0.0]], [0, 1], verbose=0)   # lists work


@pytest.mark.parametrize("call", ["fit", "evaluate", "predict"])
def test_none_as_x_says_data_is_needed(call):
    model = bn_model()
    with pytest.raises(ValueError, match=rf"{call}\(\) needs input data x.*Received: x=None"):
        getattr(model, call)(None, verbose=0)


@pytest.mark.parametrize("weights,match", [
    (np.array(["a"] * 16), r"sample_weight must hold numbers.*Received: sample_weight with "
                           r"dtype <U1"),
    (np.r_[np.ones(3), np.nan, np.ones(12)], r"sample_weight holds NaN or inf, first at "
                                             r"index 3"),
    (np.r_[np.ones(15), np.inf], r"sample_weight holds NaN or inf, first at index 15"),
])
def test_sample_weight_is_checked_up_front(weights, match):
    x, y = spiral()
    model = bn_model()
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, sample_weight=weights, verbose=0)
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, validation_data=(x, y, weights), verbose=0)
    assert model.optimizer.iterations == 0


def test_an_unknown_layer_dtype_is_named():
    with pytest.raises(ValueError, match=r"Layer 'd' \(Dense\): argument `dtype` must be a "
                                         r"NumPy dtype.*Received: dtype='nope'"):
        layers.Dense(3, dtype="nope", name="d")
    assert layers.Dense(3, dtype="float64").dtype == "float64"


@pytest.mark.parametrize("identifier,match", [
    ({"class_name": 5}, r"'class_name' must be an activation name \(a string\). "
                        r"Received: class_name=5"),
    ({"class_name": "relu", "config": [1]}, r"'config' must be a dict of the activation's "
                                            r"arguments or a name. Received: config=\[1\]"),
])
def test_activation_config_dict_errors_name_the_key(identifier, match):
    with pytest.raises(ValueError, match=match):
        keras.activations.get(identifier)
    with pytest.raises(ValueError, match=match):
        layers.Dense(3, activation=identifier)


# --------------------------------------------------------------------------- 10 History after TerminateOnNaN
def diverging():
    """A regression whose loss becomes inf at epoch 2 (SGD with a too large rate)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32") * 10
    y = x.sum(axis=1, keepdims=True) * 10
    keras.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    model.compile(optimizers.SGD(2e-2), "mse")
    return model, x, y


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_history_records_the_epoch_terminate_on_nan_stopped_with_its_loss():
    model, x, y = diverging()
    history = model.fit(x, y, batch_size=16, epochs=20, verbose=0, validation_split=0.25,
                        callbacks=[callbacks.TerminateOnNaN()])
    losses = history.history["loss"]
    assert len(history.epoch) == len(losses) < 20 and history.epoch[-1] == len(losses) - 1
    assert not np.isfinite(losses[-1]) and np.isfinite(losses[:-1]).all()
    assert len(history.history["val_loss"]) == len(losses)      # validated, as in Keras
    assert all(np.isfinite(w).all() for w in model.get_weights())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_history_records_an_epoch_stopped_by_an_overflowing_update_as_nan():
    model = bn_model(optimizers.SGD(1e300))
    x, y = spiral()
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert history.epoch == [0] and np.isnan(history.history["loss"][0])
