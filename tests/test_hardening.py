"""Issue 12's remaining defects: guarantees that must hold on hostile or degenerate input.

A batch whose loss is not finite, or whose update overflows, leaves no trace (weights, moving
statistics, optimizer slots); epochs without batches and buffers sized by `batch_size` alone are
refused or avoided; arguments of `fit` are validated up front with messages that name them.
"""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import callbacks, layers, variables
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
