"""The optimizers' moving average of the weights (`use_ema`) and `callbacks.SwapEMAWeights`:
the EMA against a NumPy reference, overwrite frequency, undo on a failed step, and the swaps
around evaluate, predict, validation and epoch ends."""
import numpy as np
import pytest

import kerasnp
from kerasnp import callbacks, optimizers
from kerasnp.errors import NonFiniteUpdateError
from kerasnp.variables import Variable

rng = np.random.default_rng(0)
GRADS = [rng.normal(size=(3, 2)) for _ in range(5)]
W0 = rng.normal(size=(3, 2))


def ref_sgd_ema(lr, m, freq=None):
    w, avg = W0.copy(), np.zeros_like(W0)
    out = []
    for t, g in enumerate(GRADS):
        w = w - lr * g
        avg = w.copy() if t == 0 else m * avg + (1 - m) * w   # the first step copies
        if freq and (t + 1) % freq == 0:
            w = avg.copy()
        out.append((w.copy(), avg.copy()))
    return out


@pytest.mark.parametrize("freq", [None, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ema_matches_numpy_reference(freq, dtype):
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.8, ema_overwrite_frequency=freq)
    v = Variable(W0.astype(dtype), "w")
    assert opt.get_slots(v)["average"].dtype == dtype
    for g, (w_ref, avg_ref) in zip(GRADS, ref_sgd_ema(0.1, 0.8, freq)):
        opt.apply([g.astype(dtype)], [v])
        tol = 1e-6 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(v.value, w_ref, rtol=tol, atol=tol)
        np.testing.assert_allclose(opt.get_slots(v)["average"], avg_ref, rtol=tol, atol=tol)
    assert v.value.dtype == dtype
    assert list(opt.get_slots(v)) == ["average"]
    assert list(optimizers.Adam(use_ema=True).get_slots(v)) == ["momentum", "velocity",
                                                                 "average"]


def test_failed_step_leaves_the_average_untouched():
    opt = optimizers.Adam(0.1, use_ema=True)
    v = Variable(W0.copy(), "w")
    opt.apply([GRADS[0]], [v])
    before = opt.get_slots(v)
    with pytest.raises(NonFiniteUpdateError):
        opt.apply([np.full_like(W0, np.nan)], [v])
    for k, a in opt.get_slots(v).items():
        np.testing.assert_array_equal(a, before[k])


def test_ema_arguments_config_and_errors():
    cfg = optimizers.Adam(use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=5).get_config()
    assert (cfg["use_ema"], cfg["ema_momentum"], cfg["ema_overwrite_frequency"]) == (True, 0.9, 5)
    assert optimizers.Adam.from_config(cfg).get_config() == cfg
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        optimizers.Adam(use_ema=True, ema_overwrite_frequency=0)
    with pytest.raises(TypeError, match="swap_on_epoch"):
        callbacks.SwapEMAWeights(swap_on_epoch="yes")


def _model(use_ema=True, seed=3):
    kerasnp.utils.set_random_seed(seed)
    m = kerasnp.Sequential([kerasnp.layers.Input((4,)), kerasnp.layers.Dense(6, "tanh"),
                            kerasnp.layers.Dense(1)])
    m.compile(optimizer=optimizers.Adam(0.05, use_ema=use_ema, ema_momentum=0.9), loss="mse")
    return m


X = rng.normal(size=(40, 4))
Y = X[:, :1] * 2 - X[:, 1:2]


def _averages(model):
    return [model.optimizer.get_slots(v)["average"] for v in model.trainable_weights]


def test_evaluate_and_predict_use_the_averages_then_restore():
    m = _model()
    m.fit(X, Y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    # (Keras's fit ends by copying the averages into the model: move away from them)
    m.set_weights([w + 0.1 for w in m.get_weights()])
    trained = m.get_weights()
    avg = _averages(m)
    plain = _model(use_ema=False)
    plain.set_weights(avg)
    cb = callbacks.SwapEMAWeights()
    assert m.evaluate(X, Y, verbose=0, callbacks=[cb]) == pytest.approx(
        plain.evaluate(X, Y, verbose=0), rel=1e-12)
    np.testing.assert_array_equal(m.predict(X, verbose=0, callbacks=[cb]),
                                  plain.predict(X, verbose=0))
    for a, b in zip(m.get_weights(), trained):
        np.testing.assert_array_equal(a, b)
    assert m.evaluate(X, Y, verbose=0) != pytest.approx(plain.evaluate(X, Y, verbose=0))


def test_validation_in_fit_uses_the_averages_and_training_does_not():
    ref = _model()
    ref_hist = ref.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    m = _model()
    hist = m.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0,
                 validation_data=(X, Y), callbacks=[callbacks.SwapEMAWeights()])
    for a, b in zip(m.get_weights(), ref.get_weights()):            # training unchanged
        np.testing.assert_array_equal(a, b)
    assert hist.history["loss"] == ref_hist.history["loss"]
    plain = _model(use_ema=False)
    plain.set_weights(_averages(m))
    assert hist.history["val_loss"][-1] == pytest.approx(plain.evaluate(X, Y, verbose=0),
                                                         rel=1e-6)     # float32, other batches


def test_swap_on_epoch_leaves_the_averages_in_the_model():
    ref = _model()
    ref.fit(X, Y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    m = _model()
    seen = []
    spy = callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(m.get_weights()))
    m.fit(X, Y, epochs=3, batch_size=8, shuffle=False, verbose=0,
          callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True), spy])
    # the uninterrupted run's averages: the epoch-end swaps did not change the training
    for a, b in zip(m.get_weights(), _averages(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for a, b in zip(seen[-1], _averages(ref)):                      # later callbacks saw them
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for a, b in zip(_averages(m), m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_needs_use_ema():
    m = _model(use_ema=False)
    with pytest.raises(ValueError, match="use_ema"):
        m.evaluate(X, Y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    opt = optimizers.Adam(use_ema=True)
    v = Variable(W0.copy(), "w")
    opt.apply([GRADS[0]], [v])
    avg = opt.get_slots(v)["average"]
    opt.finalize_variable_values([v])
    np.testing.assert_array_equal(v.value, avg)


class _Crash(callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("simulated crash")


def test_resume_after_a_crash_with_swap_on_epoch(tmp_path):
    ref = _model()
    ref.fit(X, Y, epochs=4, batch_size=8, shuffle=False, verbose=0,
            callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True)])
    backup = str(tmp_path / "backup")
    m = _model()
    with pytest.raises(RuntimeError, match="simulated"):
        m.fit(X, Y, epochs=4, batch_size=8, shuffle=False, verbose=0,
              callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True), _Crash(),
                         callbacks.BackupAndRestore(backup)])
    m = _model()                      # a new process would start from scratch like this
    m.fit(X, Y, epochs=4, batch_size=8, shuffle=False, verbose=0,
          callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True),
                     callbacks.BackupAndRestore(backup)])
    for a, b in zip(m.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
