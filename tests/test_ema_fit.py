"""`fit` ends as Keras's does: with `use_ema=True` the optimizer's `finalize_variable_values`
puts the moving averages in the model after the last epoch (test_keras_format_keras.py checks
the next step against Keras itself)."""
import numpy as np

import kerasnp
from kerasnp import optimizers

rng = np.random.default_rng(0)
X = rng.normal(size=(16, 4)).astype("float32")
Y = rng.normal(size=(16, 2)).astype("float32")


class _LastBatch(kerasnp.callbacks.Callback):
    """The weights after the last gradient step, before fit's end."""

    def on_train_batch_end(self, batch, logs=None):
        self.weights = [w.copy() for w in self.model.get_weights()]


def _fit(opt, epochs=2):
    kerasnp.utils.set_random_seed(0)
    model = kerasnp.Sequential([kerasnp.layers.Input((4,)), kerasnp.layers.Dense(3, "tanh"),
                                kerasnp.layers.Dense(2)])
    model.compile(opt, "mse")
    last = _LastBatch()
    model.fit(X, Y, epochs=epochs, batch_size=4, shuffle=False, verbose=0, callbacks=[last])
    return model, last.weights


def test_fit_ends_with_the_moving_averages():
    model, trained = _fit(optimizers.Adam(0.05, use_ema=True, ema_momentum=0.9))
    for var, w in zip(model.trainable_weights, trained):
        average = model.optimizer.get_slots(var)["average"]
        np.testing.assert_array_equal(var.value, average)
        assert not np.allclose(average, w)          # the averages lag the trained values


def test_without_ema_fit_keeps_the_trained_weights():
    model, trained = _fit(optimizers.Adam(0.05))
    for a, b in zip(model.get_weights(), trained):
        np.testing.assert_array_equal(a, b)


def test_zero_epochs_changes_nothing():
    kerasnp.utils.set_random_seed(0)
    model = kerasnp.Sequential([kerasnp.layers.Input((4,)), kerasnp.layers.Dense(2)])
    model.compile(optimizers.SGD(0.1, use_ema=True), "mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(X, Y, epochs=0, verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
