"""Optimizers and schedules: hand-computed steps, Keras formulas, torch parity, state, errors."""
import math

import numpy as np
import pytest

from kerasnp import optimizers
from kerasnp.optimizers import _slots, base, schedules
from kerasnp.variables import Variable

ALL = ["sgd", "rmsprop", "adam", "adamw", "adagrad", "adadelta", "adamax", "nadam"]


def _var(values, dtype=np.float64, name="w"):
    return Variable(np.array(values, dtype=dtype), name)


def _run(opt, w0, grads, dtype=np.float64):
    var = _var(w0, dtype)
    for g in grads:
        var.grad[...] = g
        opt.apply([var])
    return var.value


# --------------------------------------------------------------------------- hand-computed values
def test_sgd_literal_steps():
    assert np.allclose(_run(optimizers.SGD(0.1), [1.0, 2.0], [[1.0, -2.0]] * 2), [0.8, 2.4])
    assert np.allclose(_run(optimizers.SGD(0.1, momentum=0.9), [1.0], [[1.0]] * 2), [0.71])
    # nesterov: m1=-0.1, w1 = 1 - 0.09 - 0.1 = 0.81; m2=-0.19, w2 = 0.81 - 0.171 - 0.1
    assert np.allclose(_run(optimizers.SGD(0.1, 0.9, nesterov=True), [1.0], [[1.0]] * 2), [0.539])


def test_adaptive_optimizers_literal_steps():
    g = [[2.0, -0.5]] * 2
    # Adam/Adamax with epsilon=0 and a constant gradient move exactly lr*sign(g) per step.
    for opt in (optimizers.Adam(0.1, epsilon=0.0), optimizers.Adamax(0.1, epsilon=0.0)):
        assert np.allclose(_run(opt, [0.0, 0.0], g), [-0.2, 0.2], atol=1e-12)
    # Adagrad: acc = 0.1 + g² then 0.1 + 2g².
    out = _run(optimizers.Adagrad(0.1, epsilon=0.0), [0.0, 0.0], g)
    want = [-0.1 * (2 / math.sqrt(4.1) + 2 / math.sqrt(8.1)),
            0.1 * (0.5 / math.sqrt(0.35) + 0.5 / math.sqrt(0.6))]
    assert np.allclose(out, want, atol=1e-12)
    # RMSprop step 1: v = 0.1 g², step = lr g / sqrt(0.1 g²) = lr sqrt(10) sign(g).
    out = _run(optimizers.RMSprop(0.1, epsilon=0.0), [0.0, 0.0], g[:1])
    assert np.allclose(out, [-0.1 * math.sqrt(10), 0.1 * math.sqrt(10)], atol=1e-12)
    # Adadelta step 1 with rho=0.95: d = -sqrt(eps) / sqrt(0.05 g² + eps) * g.
    out = _run(optimizers.Adadelta(1.0, epsilon=1e-6), [0.0, 0.0], g[:1])
    want = [-math.sqrt(1e-6) / math.sqrt(0.05 * 4 + 1e-6) * 2,
            math.sqrt(1e-6) / math.sqrt(0.05 * 0.25 + 1e-6) * 0.5]
    assert np.allclose(out, want, atol=1e-14)


def _keras_reference(name, kw, w, grads):
    """Keras 3's update formulas, written independently of the kernels (float64)."""
    w = np.array(w, dtype=np.float64)
    lr = kw.get("learning_rate", 0.01)
    eps = kw.get("epsilon", 1e-7)
    b1, b2 = kw.get("beta_1", 0.9), kw.get("beta_2", 0.999)
    rho = kw.get("rho", 0.9)
    s = {k: np.zeros_like(w) for k in ("m", "v", "a", "mo", "vh", "u", "D")}
    s["acc"] = np.full_like(w, kw.get("initial_accumulator_value", 0.1))
    u_prod = 1.0
    for t, g in enumerate(grads, start=1):
        g = np.asarray(g, dtype=np.float64)
        if name == "rmsprop":
            s["v"] = rho * s["v"] + (1 - rho) * g ** 2
            den = s["v"] + eps
            if kw.get("centered"):
                s["a"] = rho * s["a"] + (1 - rho) * g
                den = s["v"] - s["a"] ** 2 + eps
            inc = lr * g / np.sqrt(den)
            if kw.get("momentum"):
                s["mo"] = kw["momentum"] * s["mo"] + inc
                inc = s["mo"]
            w = w - inc
        elif name == "adam":
            alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            s["m"] += (g - s["m"]) * (1 - b1)
            s["v"] += (g ** 2 - s["v"]) * (1 - b2)
            v = s["v"]
            if kw.get("amsgrad"):
                s["vh"] = v = np.maximum(s["vh"], s["v"])
            w = w - s["m"] * alpha / (np.sqrt(v) + eps)
        elif name == "adagrad":
            s["acc"] += g ** 2
            w = w - lr * g / np.sqrt(s["acc"] + eps)
        elif name == "adadelta":
            s["a"] = rho * s["a"] + (1 - rho) * g ** 2
            d = -np.sqrt(s["D"] + eps) * g / np.sqrt(s["a"] + eps)
            s["D"] = rho * s["D"] + (1 - rho) * d ** 2
            w = w + lr * d
        elif name == "adamax":
            s["m"] += (g - s["m"]) * (1 - b1)
            s["u"] = np.maximum(b2 * s["u"], np.abs(g))
            w = w - lr * s["m"] / ((1 - b1 ** t) * (s["u"] + eps))
        elif name == "nadam":
            u_t = b1 * (1 - 0.5 * 0.96 ** t)
            u_t1 = b1 * (1 - 0.5 * 0.96 ** (t + 1))
            u_prod *= u_t
            s["m"] += (g - s["m"]) * (1 - b1)
            s["v"] += (g ** 2 - s["v"]) * (1 - b2)
            m_hat = u_t1 * s["m"] / (1 - u_prod * u_t1) + (1 - u_t) * g / (1 - u_prod)
            v_hat = s["v"] / (1 - b2 ** t)
            w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


KERAS_CASES = [
    ("rmsprop", {"learning_rate": 0.01}),
    ("rmsprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5, "rho": 0.8}),
    ("adam", {"learning_rate": 0.01}),
    ("adam", {"learning_rate": 0.01, "amsgrad": True, "beta_1": 0.8}),
    ("adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.3}),
    ("adadelta", {"learning_rate": 1.0, "rho": 0.9}),
    ("adamax", {"learning_rate": 0.01, "beta_2": 0.9}),
    ("nadam", {"learning_rate": 0.01}),
]


@pytest.mark.parametrize("name,kw", KERAS_CASES)
def test_two_steps_match_keras_formulas(name, kw):
    grads = [[0.3, -1.2, 2.0], [-0.7, 0.4, 1.5], [0.1, -0.1, 3.0]]
    w0 = [0.5, -0.25, 1.0]
    for n in (1, 2, 3):
        out = _run(optimizers.get({"class_name": name, "config": kw}), w0, grads[:n])
        np.testing.assert_allclose(out, _keras_reference(name, kw, w0, grads[:n]),
                                   rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- torch parity
TORCH_CASES = [
    ("sgd", {"learning_rate": 0.1}, "SGD", {"lr": 0.1}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9}, "SGD", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
     "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("rmsprop", {"learning_rate": 0.01, "epsilon": 1e-12},
     "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-12}),
    ("rmsprop", {"learning_rate": 0.01, "epsilon": 1e-12, "centered": True},
     "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-12, "centered": True}),
    ("rmsprop", {"learning_rate": 0.01, "epsilon": 1e-12, "momentum": 0.7},
     "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-12, "momentum": 0.7}),
    ("rmsprop", {"learning_rate": 0.01, "epsilon": 1e-12, "momentum": 0.7, "centered": True},
     "RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-12, "momentum": 0.7, "centered": True}),
    ("adam", {"learning_rate": 0.01, "epsilon": 1e-12}, "Adam", {"lr": 0.01, "eps": 1e-12}),
    ("adam", {"learning_rate": 0.01, "epsilon": 1e-12, "amsgrad": True},
     "Adam", {"lr": 0.01, "eps": 1e-12, "amsgrad": True}),
    ("adamw", {"learning_rate": 0.01, "epsilon": 1e-12, "weight_decay": 0.1},
     "AdamW", {"lr": 0.01, "eps": 1e-12, "weight_decay": 0.1}),
    ("adam", {"learning_rate": 0.01, "epsilon": 1e-12, "weight_decay": 0.05},
     "AdamW", {"lr": 0.01, "eps": 1e-12, "weight_decay": 0.05}),
    ("adagrad", {"learning_rate": 0.1, "epsilon": 1e-12, "initial_accumulator_value": 0.2},
     "Adagrad", {"lr": 0.1, "eps": 1e-12, "initial_accumulator_value": 0.2}),
    ("adadelta", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6},
     "Adadelta", {"lr": 1.0, "rho": 0.9, "eps": 1e-6}),
    ("adamax", {"learning_rate": 0.01, "epsilon": 1e-12}, "Adamax", {"lr": 0.01, "eps": 1e-12}),
    # Keras's Nadam schedule u_t = b1 (1 - 0.5 * 0.96^t) is torch's with momentum_decay=1.
    ("nadam", {"learning_rate": 0.01, "epsilon": 1e-8},
     "NAdam", {"lr": 0.01, "eps": 1e-8, "momentum_decay": 1.0}),
]


def _grad_fn(p, t, k):
    """A gradient that depends on the parameters (a quadratic pull plus fixed noise)."""
    rng = np.random.default_rng(100 * t + k)
    return 0.8 * p + rng.standard_normal(p.shape)


@pytest.mark.parametrize("name,kw,tname,tkw", TORCH_CASES)
def test_torch_parity_five_steps(name, kw, tname, tkw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p0 = [rng.standard_normal((2, 3)), rng.standard_normal(3)]
    ours = [Variable(p.copy(), f"w{k}") for k, p in enumerate(p0)]
    theirs = [torch.tensor(p.copy(), dtype=torch.float64, requires_grad=True) for p in p0]
    opt = optimizers.get({"class_name": name, "config": kw})
    topt = getattr(torch.optim, tname)(theirs, **tkw)
    for t in range(5):
        for k, (v, tp) in enumerate(zip(ours, theirs)):
            v.grad[...] = _grad_fn(v.value, t, k)
            tp.grad = torch.tensor(_grad_fn(tp.detach().numpy(), t, k), dtype=torch.float64)
        opt.apply(ours)
        topt.step()
    for v, tp in zip(ours, theirs):
        np.testing.assert_allclose(v.value, tp.detach().numpy(), rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------- kernels vs twins
VARIANTS = [("sgd", {}), ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.9, "nesterov": True}),
            ("rmsprop", {}), ("rmsprop", {"momentum": 0.5}), ("rmsprop", {"centered": True}),
            ("rmsprop", {"centered": True, "momentum": 0.5}), ("adam", {}),
            ("adam", {"amsgrad": True}), ("adagrad", {}), ("adadelta", {}), ("adamax", {}),
            ("nadam", {})]


@pytest.mark.parametrize("name,kw", VARIANTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_kernels_match_numpy_twins(name, kw, dtype, monkeypatch):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(300)
    grads = [rng.standard_normal(300) * 3 for _ in range(3)]
    extra = {"learning_rate": 0.05, "weight_decay": 0.1, "clipvalue": 2.0}
    fast = _run(optimizers.get({"class_name": name, "config": {**kw, **extra}}), w0, grads, dtype)
    monkeypatch.setattr(_slots, "NUMBA_DTYPES", ())
    slow = _run(optimizers.get({"class_name": name, "config": {**kw, **extra}}), w0, grads, dtype)
    assert fast.dtype == slow.dtype == dtype
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fast, slow, rtol=tol, atol=tol)


def test_float16_uses_numpy_twin_and_stays_float16():
    grads = [[0.5, -1.0]] * 2
    out16 = _run(optimizers.Adam(0.01), [1.0, 1.0], grads, np.float16)
    out64 = _run(optimizers.Adam(0.01), [1.0, 1.0], grads, np.float64)
    assert out16.dtype == np.float16
    np.testing.assert_allclose(out16, out64, atol=2e-3)


# --------------------------------------------------------------------------- clipping, decay
def test_clipnorm_per_variable_and_grad_untouched():
    a, b = _var([0.0, 0.0], name="a"), _var([0.0], name="b")
    a.grad[...] = [3.0, 4.0]                      # norm 5 -> scaled to norm 1
    b.grad[...] = [0.5]                           # within the norm: unchanged
    optimizers.SGD(1.0, clipnorm=1.0).apply([a, b])
    np.testing.assert_allclose(a.value, [-0.6, -0.8])
    np.testing.assert_allclose(b.value, [-0.5])
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])


def test_global_clipnorm_scales_all_gradients_together():
    a, b = _var([0.0, 0.0], name="a"), _var([0.0], name="b")
    a.grad[...] = [3.0, 4.0]
    b.grad[...] = [12.0]                          # global norm 13
    optimizers.SGD(1.0, global_clipnorm=2.6).apply([a, b])
    np.testing.assert_allclose(a.value, [-0.6, -0.8])
    np.testing.assert_allclose(b.value, [-2.4])


def test_clipvalue_and_clip_with_adam_state():
    a = _var([0.0, 0.0, 0.0])
    a.grad[...] = [-5.0, 0.2, 7.0]
    optimizers.SGD(1.0, clipvalue=0.5).apply([a])
    np.testing.assert_allclose(a.value, [0.5, -0.2, -0.5])
    opt = optimizers.Adam(0.1, clipvalue=0.5)
    opt.apply([a])
    np.testing.assert_allclose(opt.get_slots(a)["momentum"], [-0.05, 0.02, 0.05])


def test_only_one_clip_option():
    with pytest.raises(ValueError, match="only one of `clipnorm`.*Received: clipnorm=1"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.SGD(clipnorm=-1.0)


def test_weight_decay_is_decoupled_and_applied_first():
    out = _run(optimizers.SGD(0.1, weight_decay=0.5), [2.0], [[1.0]])
    np.testing.assert_allclose(out, [2.0 - 0.1 * 0.5 * 2.0 - 0.1])
    # Adam with weight decay == AdamW; the decay multiplies by (1 - lr * wd) before the update.
    w = _run(optimizers.Adam(0.1, weight_decay=0.2, epsilon=0.0), [1.0], [[3.0]])
    np.testing.assert_allclose(w, [1.0 * (1 - 0.02) - 0.1])
    w2 = _run(optimizers.AdamW(0.1, weight_decay=0.2, epsilon=0.0), [1.0], [[3.0]])
    np.testing.assert_allclose(w, w2)


def test_exclude_from_weight_decay():
    opt = optimizers.SGD(0.1, weight_decay=1.0)
    k, bias, other = _var([1.0], name="k"), Variable(np.ones(1), "bias", path="dense/bias"), \
        _var([1.0], name="o")
    for v in (k, bias, other):
        v.grad[...] = 0.0
    opt.apply([k, bias, other])                   # states exist before excluding
    opt.exclude_from_weight_decay(var_list=[other], var_names=["bias"])
    opt.apply([k, bias, other])
    np.testing.assert_allclose([k.value[0], bias.value[0], other.value[0]], [0.81, 0.9, 0.9])


def test_adamw_requires_weight_decay_and_defaults():
    assert optimizers.AdamW().weight_decay == 0.004
    with pytest.raises(ValueError, match="weight_decay=None"):
        optimizers.AdamW(weight_decay=None)


def test_constraint_applied_after_step():
    v = Variable(np.array([1.0, -1.0]), "w", constraint=lambda x: np.clip(x, 0.0, None))
    v.grad[...] = [-1.0, 1.0]
    optimizers.SGD(1.0).apply([v])
    np.testing.assert_array_equal(v.value, [2.0, 0.0])


# --------------------------------------------------------------------------- in place, dtypes
@pytest.mark.parametrize("name", ALL)
def test_update_in_place_and_float32_stays_float32(name):
    v = _var(np.ones((4, 3)), np.float32)
    value, grad = v.value, v.grad
    v.grad[...] = 0.5
    opt = optimizers.get(name)
    opt.apply([v])
    opt.apply_gradients([(np.full((4, 3), 0.25, dtype=np.float64), v)])
    assert v.value is value and v.grad is grad
    assert v.value.dtype == np.float32 and np.all(v.value < 1.0)
    assert all(s.dtype == np.float32 for s in opt.get_slots(v).values())
    assert opt.iterations == 2


def test_variable_cast_between_fits_keeps_slots():
    v = _var([1.0, 2.0])
    v.grad[...] = [1.0, 1.0]
    opt = optimizers.Adam(0.1)
    opt.apply([v])
    m = opt.get_slots(v)["momentum"]
    v.cast(np.float32)
    v.grad[...] = [1.0, 1.0]
    opt.apply([v])
    slots = opt.get_slots(v)
    assert v.value.dtype == np.float32 and slots["momentum"].dtype == np.float32
    np.testing.assert_allclose(slots["momentum"], 0.9 * m + 0.1, rtol=1e-6)


def test_changing_variable_list_between_calls():
    a, b = _var([1.0, 1.0], name="a"), _var([2.0], name="b")
    solo = _var([2.0], name="b")
    opt, opt_solo = optimizers.Adam(0.1), optimizers.Adam(0.1)
    for var_list in ([a, b], [b], [a, b]):       # `a` frozen for one step
        for v in var_list:
            v.grad[...] = v.value
        solo.grad[...] = solo.value
        opt.apply(var_list)
        opt_solo.apply([solo])
    np.testing.assert_allclose(b.value, solo.value, rtol=1e-12)
    assert opt.iterations == 3


def test_apply_skips_none_and_empty_list_is_noop():
    opt = optimizers.SGD(0.1)
    opt.apply([])
    assert opt.iterations == 0
    v = _var([1.0])
    with pytest.raises(ValueError, match="no gradients"):
        opt.apply_gradients([(None, v)])
    with pytest.raises(ValueError, match=r"shape \(1,\), received shape \(2,\)"):
        opt.apply_gradients([(np.ones(2), v)])
    opt.apply_gradients(zip([np.ones(1), None], [v, _var([5.0])]))
    np.testing.assert_allclose(v.value, [0.9])


# --------------------------------------------------------------------------- learning rate
def test_learning_rate_schedule_evaluated_at_iterations_and_setter():
    sched = schedules.PiecewiseConstantDecay([1], [1.0, 0.5])
    opt = optimizers.SGD(sched)
    w = _var([0.0])
    seen = []
    for _ in range(3):
        seen.append(opt.learning_rate)
        w.grad[...] = 1.0
        opt.apply([w])
    assert seen == [1.0, 1.0, 0.5]                # steps 0 and 1 use values[0]
    np.testing.assert_allclose(w.value, [-2.5])
    with pytest.raises(TypeError, match="cannot be set"):
        opt.learning_rate = 0.1
    plain = optimizers.Adam()
    plain.learning_rate = 0.05
    assert plain.learning_rate == 0.05 and isinstance(plain.learning_rate, float)
    with pytest.raises(ValueError, match="learning_rate=-1"):
        plain.learning_rate = -1
    with pytest.raises(TypeError, match="Received: learning_rate='fast'"):
        optimizers.SGD("fast")
    assert optimizers.SGD(lambda: 0.25).learning_rate == 0.25


# --------------------------------------------------------------------------- state and config
@pytest.mark.parametrize("name", ALL)
def test_variables_for_round_trip_continues_identically(name):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal((2, 2)) for _ in range(5)]
    w0 = rng.standard_normal((2, 2))
    full = _run(optimizers.get(name), w0, grads)
    opt = optimizers.get(name)
    v = _var(w0)
    for g in grads[:3]:
        v.grad[...] = g
        opt.apply([v])
    saved = opt.variables_for([v])
    assert saved[0][0] == "iterations" and int(saved[0][1]) == 3
    assert [n for n, _ in saved[1:]] == [f"w/{s}" for s in opt.get_slots(v)]
    fresh = optimizers.deserialize(optimizers.serialize(opt))
    v2 = _var(v.value.copy())
    fresh.set_variables_for([v2], saved)
    for g in grads[3:]:
        v2.grad[...] = g
        fresh.apply([v2])
    np.testing.assert_allclose(v2.value, full, rtol=1e-12)


def test_set_slots_validates():
    opt, v = optimizers.Adam(), _var([1.0, 2.0])
    assert set(opt.get_slots(v)) == {"momentum", "velocity"}
    opt.set_slots(v, {"momentum": [1.0, 2.0], "velocity": [3.0, 4.0]})
    np.testing.assert_array_equal(opt.get_slots(v)["velocity"], [3.0, 4.0])
    with pytest.raises(ValueError, match=r"keys \['momentum', 'velocity'\]"):
        opt.set_slots(v, {"m": [1.0, 2.0]})
    with pytest.raises(ValueError, match="shape"):
        opt.set_slots(v, {"momentum": [1.0], "velocity": [3.0, 4.0]})
    with pytest.raises(ValueError, match="expected 3 arrays"):
        opt.set_variables_for([v], [np.array(0)])
    assert optimizers.Adagrad(initial_accumulator_value=0.3).get_slots(v)["accumulator"][0] == 0.3


@pytest.mark.parametrize("name", ALL)
def test_config_round_trip(name):
    opt = optimizers.get(name)
    config = opt.get_config()
    again = type(opt).from_config(config)
    assert again.get_config() == config and type(again) is type(opt)
    assert config["name"] == opt.name


def test_config_with_schedule_and_keras_keys():
    sched = schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    opt = optimizers.Adam(sched, clipnorm=1.0, amsgrad=True)
    cfg = optimizers.serialize(opt)
    assert cfg["config"]["learning_rate"] == {"class_name": "ExponentialDecay",
                                              "config": sched.get_config()}
    again = optimizers.deserialize(cfg)
    assert isinstance(again._learning_rate, schedules.ExponentialDecay) and again.amsgrad
    keras_cfg = {**optimizers.SGD().get_config(), "use_ema": False, "ema_momentum": 0.99,
                 "loss_scale_factor": None, "gradient_accumulation_steps": None}
    assert optimizers.SGD.from_config(keras_cfg).momentum == 0.0
    with pytest.raises(ValueError, match="ema_momentum"):     # use_ema itself is supported
        optimizers.SGD(use_ema=True, ema_momentum=1.5)
    with pytest.raises(TypeError, match="unexpected argument `lr`"):
        optimizers.SGD(lr=0.1)


def test_defaults_follow_keras():
    assert optimizers.SGD().learning_rate == 0.01 and optimizers.SGD().name == "SGD"
    r = optimizers.RMSprop()
    assert (r.learning_rate, r.rho, r.momentum, r.epsilon, r.centered) == (
        0.001, 0.9, 0.0, 1e-7, False)
    a = optimizers.Adam()
    assert (a.beta_1, a.beta_2, a.epsilon, a.amsgrad, a.name) == (0.9, 0.999, 1e-7, False, "adam")
    assert optimizers.Adagrad().initial_accumulator_value == 0.1
    assert optimizers.Adadelta().rho == 0.95
    assert optimizers.Nadam().beta_2 == 0.999 and optimizers.Adamax().epsilon == 1e-7


def test_hyperparameter_validation():
    with pytest.raises(ValueError, match="Received: beta_1=1.0"):
        optimizers.Adam(beta_1=1.0)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(TypeError, match="nesterov"):
        optimizers.SGD(nesterov="yes")
    with pytest.raises(ValueError, match="rho"):
        optimizers.RMSprop(rho=-0.1)


# --------------------------------------------------------------------------- get()
def test_get_identifiers_and_errors():
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("RMSProp"), optimizers.RMSprop)
    assert isinstance(optimizers.get(optimizers.Nadam), optimizers.Nadam)
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    assert optimizers.get({"class_name": "SGD", "config": {"momentum": 0.5}}).momentum == 0.5
    with pytest.raises(ValueError, match="Unknown optimizer 'rmsprp'.*Did you mean 'rmsprop'"):
        optimizers.get("rmsprp")
    with pytest.raises(TypeError, match="Received: identifier=3"):
        optimizers.get(3)
    with pytest.raises(ValueError, match="class_name"):
        optimizers.get({"config": {}})
    with pytest.raises(TypeError, match="Optimizer instance"):
        optimizers.serialize("adam")


# --------------------------------------------------------------------------- schedules
def test_exponential_and_inverse_time_decay_values():
    e = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert e(0) == 0.1 and math.isclose(e(10), 0.05) and math.isclose(e(5), 0.1 * 0.5 ** 0.5)
    es = schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert es(9) == 0.1 and math.isclose(es(19), 0.05) and math.isclose(es(20), 0.025)
    i = schedules.InverseTimeDecay(1.0, decay_steps=2, decay_rate=0.5)
    assert math.isclose(i(2), 1 / 1.5) and math.isclose(i(3), 1 / 1.75)
    assert math.isclose(schedules.InverseTimeDecay(1.0, 2, 0.5, staircase=True)(3), 1 / 1.5)


def test_piecewise_constant_decay_values():
    p = schedules.PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1])
    assert [p(s) for s in (0, 100, 101, 110, 111, 10**6)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    with pytest.raises(ValueError, match="one more entry"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])
    with pytest.raises(ValueError, match="strictly increasing"):
        schedules.PiecewiseConstantDecay([2, 1], [1.0, 0.5, 0.1])


def test_cosine_decay_values():
    c = schedules.CosineDecay(1.0, decay_steps=10, alpha=0.1)
    assert c(0) == 1.0 and math.isclose(c(5), 0.55) and math.isclose(c(10), 0.1)
    assert math.isclose(c(50), 0.1)                               # held after decay_steps
    w = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=4)
    assert [w(s) for s in (0, 2)] == [0.0, 0.5]
    assert w(4) == 1.0 and math.isclose(w(9), 0.5) and math.isclose(w(100), 0.0, abs_tol=1e-15)


def test_schedule_validation_and_config():
    with pytest.raises(ValueError, match="Received: decay_steps=0"):
        schedules.ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5)
    with pytest.raises(ValueError, match="decay_rate"):
        schedules.InverseTimeDecay(0.1, 10, decay_rate=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        schedules.CosineDecay(0.1, 10, alpha=2.0)
    with pytest.raises(ValueError, match="warmup_steps"):
        schedules.CosineDecay(0.1, 10, warmup_target=1.0, warmup_steps=-1)
    with pytest.raises(TypeError, match="staircase"):
        schedules.ExponentialDecay(0.1, 10, 0.5, staircase=1)
    for s in (schedules.ExponentialDecay(0.1, 10, 0.5), schedules.InverseTimeDecay(0.1, 5, 1.0),
              schedules.PiecewiseConstantDecay([3], [0.1, 0.01]),
              schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=3)):
        again = schedules.deserialize(schedules.serialize(s))
        assert type(again) is type(s) and again.get_config() == s.get_config()
        assert [again(k) for k in range(0, 20, 3)] == [s(k) for k in range(0, 20, 3)]


# ------------------------------------------------------------------ subnormal slots flushed
DECAYING = VARIANTS[1:9] + [("adamax", {}), ("nadam", {}), ("adadelta", {}), ("lamb", {}),
                            ("schedulefreeadamw", {})]
KEPT_SLOTS = {"velocity_hat"}                         # not decaying: a running max


@pytest.mark.parametrize("name,kw", DECAYING)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("numba", [True, False])
def test_decaying_slots_never_stay_subnormal(name, kw, dtype, numba, monkeypatch):
    """A zero gradient (a dead unit) lets a slot decay into the subnormal range, where it would
    stay (0.9 * 4 * 2^-149 rounds back) and slow every later step: the kernels and their NumPy
    twins flush it to 0. Normal slot values and the weights are as without the flush."""
    if not numba:
        monkeypatch.setattr(_slots, "NUMBA_DTYPES", ())
    opt = optimizers.get({"class_name": name, "config": kw})
    var = _var([1.0, -2.0, 0.5, 3.0], dtype)
    opt.apply([np.array([0.5, -1.0, 0.25, 2.0], dtype)], [var])
    tiny = np.finfo(dtype).tiny
    slots = opt.get_slots(var)
    # (ScheduleFreeAdamW's "momentum" slot is its iterate z, not a decaying average)
    kept = KEPT_SLOTS | ({"momentum"} if name == "schedulefreeadamw" else set())
    # the first two entries subnormal (one a smallest subnormal, which 0.9x rounds back to),
    # the other two normal but small
    seeded = {k: np.array([tiny / 8, -np.finfo(dtype).smallest_subnormal * 4, tiny * 4, 1e-3],
                          dtype) if k not in kept else a for k, a in slots.items()}
    opt.set_slots(var, seeded)
    w = var.value.copy()
    opt.apply([np.zeros(4, dtype)], [var])
    after = opt.get_slots(var)
    for k in seeded:
        if k in kept:
            continue
        a = after[k]
        assert not ((a != 0) & (np.abs(a) < tiny)).any(), (k, a)
        assert (a[:2] == 0).all(), (k, a)
        assert (a[3] != 0), (k, a)
    if name != "schedulefreeadamw":          # (its weight moves towards its average)
        np.testing.assert_array_equal(var.value[:2], w[:2])
