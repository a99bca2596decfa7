"""Lion, Lamb, Ftrl, Adafactor and ScheduleFreeAdamW: steps against NumPy references of the
published rules written here, Adafactor against torch, Numba kernels against their NumPy twins,
Keras's config keys and names, and exact resume from saved state (slots, iterations)."""
import math

import numpy as np
import pytest

import kerasnp
from kerasnp import optimizers
from kerasnp.optimizers import _slots
from kerasnp.variables import Variable

NEW = ["lion", "lamb", "ftrl", "adafactor", "schedulefreeadamw"]
rng = np.random.default_rng(0)
W0 = [rng.normal(size=(3, 4)), rng.normal(size=(4,)), rng.normal(size=(2, 3, 2))]
GRADS = [[rng.normal(size=w.shape) for w in W0] for _ in range(4)]


def _apply(opt, dtype=np.float64, grads=GRADS, w0=W0):
    vs = [Variable(w.astype(dtype), f"w{i}") for i, w in enumerate(w0)]
    for gs in grads:
        opt.apply([g.astype(dtype) for g in gs], vs)
    return vs


# ------------------------------------------------------------------- NumPy references (per weight)
def ref_lion(w, grads, lr, b1=0.9, b2=0.99, wd=0.0):
    m = np.zeros_like(w)
    for g in grads:
        w = w * (1 - lr * wd) - lr * np.sign(b1 * m + (1 - b1) * g)
        m = b2 * m + (1 - b2) * g
    return w


def ref_lamb(w, grads, lr, b1=0.9, b2=0.999, eps=1e-7, wd=0.0):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        w = w * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        r = m / (1 - b1 ** t) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        ratio = np.linalg.norm(w) / np.linalg.norm(r)
        w = w - lr * ratio * r
    return w


def ref_ftrl(w, grads, lr, power=-0.5, n0=0.1, l1=0.0, l2=0.0, shrink=0.0, beta=0.0):
    n, z = np.full_like(w, n0), np.zeros_like(w)
    for g in grads:
        n_new = n + g * g
        sigma = (n_new ** -power - n ** -power) / lr
        z = z + g + 2 * shrink * w - sigma * w
        n = n_new
        w = np.where(np.abs(z) <= l1, 0.0,
                     -(z - np.sign(z) * l1) / (n ** -power / lr + 2 * (l2 + beta / (2 * lr))))
    return w


def ref_adafactor(w, grads, lr, decay=-0.8, eps1=1e-30, eps2=1e-3, d=1.0):
    rms = lambda x: np.sqrt(np.mean(x * x))                                 # noqa: E731
    r = c = v = None
    for t, g in enumerate(grads, 1):
        b = 1 - t ** decay
        sq = g * g + eps1
        if w.ndim >= 2:
            r = sq.mean(-1) * (1 - b) + (0 if r is None else b * r)
            c = sq.mean(-2) * (1 - b) + (0 if c is None else b * c)
            v = (r / r.mean(-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v = sq * (1 - b) + (0 if v is None else b * v)
        u = g / np.sqrt(v)
        u = u / max(1.0, rms(u) / d)
        w = w - max(eps2, rms(w)) * min(lr, 1 / math.sqrt(t)) * u
    return w


def ref_schedule_free(w, grads, lr, b1=0.9, b2=0.999, eps=1e-8, warmup=0):
    z, x, v = w.copy(), w.copy(), np.zeros_like(w)
    for t, g in enumerate(grads, 1):       # g is the gradient at y, the weights the model holds
        lr_t = lr * min(t / warmup, 1.0) if warmup else lr
        v = b2 * v + (1 - b2) * g * g
        z = z - lr_t * g / (np.sqrt(v / (1 - b2 ** t)) + eps)
        x = (1 - 1 / t) * x + z / t
        w = (1 - b1) * z + b1 * x
    return w


REFERENCES = [
    (optimizers.Lion(0.01), lambda w, gs: ref_lion(w, gs, 0.01)),
    (optimizers.Lion(0.02, beta_1=0.8, beta_2=0.9, weight_decay=0.1),
     lambda w, gs: ref_lion(w, gs, 0.02, 0.8, 0.9, 0.1)),
    (optimizers.Lamb(0.01), lambda w, gs: ref_lamb(w, gs, 0.01)),
    (optimizers.Lamb(0.01, weight_decay=0.1), lambda w, gs: ref_lamb(w, gs, 0.01, wd=0.1)),
    (optimizers.Ftrl(0.1), lambda w, gs: ref_ftrl(w, gs, 0.1)),
    (optimizers.Ftrl(0.1, learning_rate_power=-0.7, initial_accumulator_value=0.5,
                     l1_regularization_strength=0.05, l2_regularization_strength=0.02,
                     l2_shrinkage_regularization_strength=0.03, beta=0.1),
     lambda w, gs: ref_ftrl(w, gs, 0.1, -0.7, 0.5, 0.05, 0.02, 0.03, 0.1)),
    (optimizers.Adafactor(0.1), lambda w, gs: ref_adafactor(w, gs, 0.1)),
    (optimizers.Adafactor(0.5, beta_2_decay=-0.5, epsilon_2=0.01, clip_threshold=0.5),
     lambda w, gs: ref_adafactor(w, gs, 0.5, -0.5, 1e-30, 0.01, 0.5)),
    (optimizers.ScheduleFreeAdamW(0.01), lambda w, gs: ref_schedule_free(w, gs, 0.01)),
    (optimizers.ScheduleFreeAdamW(0.01, beta_1=0.8, warmup_steps=3),
     lambda w, gs: ref_schedule_free(w, gs, 0.01, b1=0.8, warmup=3)),
]


@pytest.mark.parametrize("opt,ref", REFERENCES, ids=lambda o: type(o).__name__)
def test_steps_match_numpy_reference(opt, ref):
    opt = optimizers.deserialize(optimizers.serialize(opt))       # a fresh one each run
    vs = _apply(opt)
    assert opt.iterations == len(GRADS)
    for v, w0, i in zip(vs, W0, range(3)):
        np.testing.assert_allclose(v.value, ref(w0, [gs[i] for gs in GRADS]), rtol=1e-10,
                                   atol=1e-12)


def test_ftrl_l1_gives_exact_zeros():
    vs = _apply(optimizers.Ftrl(0.1, l1_regularization_strength=50.0))
    assert all(np.count_nonzero(v.value) == 0 for v in vs)      # |z| <= l1 everywhere
    vs = _apply(optimizers.Ftrl(0.1, l1_regularization_strength=1.0))
    assert 0 < sum(np.count_nonzero(v.value == 0) for v in vs) < sum(v.value.size for v in vs)


@pytest.mark.parametrize("name", ["lion", "lamb", "ftrl", "schedulefreeadamw"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_kernels_match_numpy_twins(name, dtype, monkeypatch):
    cfg = {"class_name": name, "config": {"learning_rate": 0.05, "weight_decay": 0.1,
                                          "clipvalue": 1.0}}
    fast = _apply(optimizers.get(cfg), dtype)
    monkeypatch.setattr(_slots, "NUMBA_DTYPES", ())
    slow = _apply(optimizers.get(cfg), dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fast, slow):
        assert a.value.dtype == b.value.dtype == dtype
        np.testing.assert_allclose(a.value, b.value, rtol=tol, atol=tol)


def test_adafactor_matches_torch():
    torch = pytest.importorskip("torch")
    if not hasattr(torch.optim, "Adafactor"):
        pytest.skip("torch.optim.Adafactor needs torch >= 2.5")
    # torch clamps the factored estimate at eps1² where Keras adds eps1 to g²: with eps1 ~ 0
    # both are the same rule; torch's `d` is Keras's clip_threshold.
    opt = optimizers.Adafactor(0.05, clip_threshold=1.0)
    vs = _apply(opt)
    ps = [torch.tensor(w, requires_grad=True) for w in W0]
    topt = torch.optim.Adafactor(ps, lr=0.05, beta2_decay=-0.8, eps=(1e-30, 1e-3), d=1.0,
                                 weight_decay=0.0)
    for gs in GRADS:
        for p, g in zip(ps, gs):
            p.grad = torch.tensor(g)
        topt.step()
    for v, p in zip(vs, ps):
        np.testing.assert_allclose(v.value, p.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_adafactor_factored_slot_shapes():
    opt = optimizers.Adafactor()
    vs = _apply(opt, grads=GRADS[:1])
    shapes = [{k: a.shape for k, a in opt.get_slots(v).items()} for v in vs]
    assert shapes[0] == {"r": (3,), "c": (4,), "velocity": (3, 4)}
    assert shapes[1] == {"r": (), "c": (), "velocity": (4,)}
    assert shapes[2] == {"r": (2, 3), "c": (2, 2), "velocity": (2, 3, 2)}


KERAS_CONFIGS = {   # Keras 3.15 get_config() without its inert loss_scale_factor and
    # gradient_accumulation_steps keys
    "Lion": {"name": "lion", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.99},
    "Lamb": {"name": "lamb", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
             "epsilon": 1e-07},
    "Ftrl": {"name": "ftrl", "learning_rate": 0.001, "learning_rate_power": -0.5,
             "initial_accumulator_value": 0.1, "l1_regularization_strength": 0.0,
             "l2_regularization_strength": 0.0, "l2_shrinkage_regularization_strength": 0.0,
             "beta": 0.0},
    "Adafactor": {"name": "adafactor", "learning_rate": 0.001, "beta_2_decay": -0.8,
                  "epsilon_1": 1e-30, "epsilon_2": 0.001, "clip_threshold": 1.0,
                  "relative_step": True},
    "ScheduleFreeAdamW": {"name": "schedule_free_adam_w", "learning_rate": 0.0025,
                          "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-08, "warmup_steps": 0},
}
BASE = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
        "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None}


@pytest.mark.parametrize("cls", sorted(KERAS_CONFIGS))
def test_keras_config_names_and_round_trip(cls):
    opt = getattr(optimizers, cls)()
    assert opt.get_config() == {**BASE, **KERAS_CONFIGS[cls]}
    keras_written = {**opt.get_config(), "loss_scale_factor": None,
                     "gradient_accumulation_steps": None}
    again = optimizers.deserialize({"class_name": cls, "config": keras_written})
    assert type(again) is type(opt) and again.get_config() == opt.get_config()
    assert type(optimizers.get(cls.lower())) is type(opt)


def test_argument_errors_name_the_argument():
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="learning_rate_power"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="beta_2_decay"):
        optimizers.Adafactor(beta_2_decay=0.5)
    with pytest.raises(ValueError, match="warmup_steps"):
        optimizers.ScheduleFreeAdamW(warmup_steps=-1)


@pytest.mark.parametrize("name", NEW)
@pytest.mark.parametrize("ema", [False, True])
def test_variables_for_round_trip_continues_identically(name, ema):
    cfg = {"class_name": name, "config": {"learning_rate": 0.01, "use_ema": ema}}
    full = _apply(optimizers.get(cfg))
    opt = optimizers.get(cfg)
    vs = _apply(opt, grads=GRADS[:2])
    saved = opt.variables_for(vs)
    fresh = optimizers.get(cfg)
    vs2 = [Variable(v.value.copy(), v.path) for v in vs]
    fresh.set_variables_for(vs2, saved)
    for gs in GRADS[2:]:
        fresh.apply(gs, vs2)
    for a, b in zip(vs2, full):
        np.testing.assert_array_equal(a.value, b.value)
    if ema:
        assert "average" in fresh.get_slots(vs2[0])


@pytest.mark.parametrize("name", ["lion", "lamb", "ftrl", "schedulefreeadamw", "muon"])
def test_model_save_load_resumes_exactly(name, tmp_path):
    x = rng.normal(size=(32, 4))
    y = x @ rng.normal(size=(4, 2))

    def model():
        kerasnp.utils.set_random_seed(1)
        m = kerasnp.Sequential([kerasnp.layers.Input((4,)), kerasnp.layers.Dense(8, "tanh"),
                                kerasnp.layers.Dense(2)])
        m.compile(optimizer=optimizers.get({"class_name": name,
                                            "config": {"learning_rate": 0.01,
                                                       "use_ema": True}}), loss="mse")
        return m
    ref = model()
    # Two fits, as the saved run: each fit ends by putting the moving averages in the model
    # (finalize_variable_values, as Keras), so one fit of 4 epochs would differ.
    ref.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    ref.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    m = model()
    m.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    m.save(tmp_path / "m.kerasnp")
    loaded = kerasnp.models.load_model(tmp_path / "m.kerasnp")
    assert type(loaded.optimizer).__name__ == type(ref.optimizer).__name__
    loaded.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(loaded.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_adafactor_model_save_load(tmp_path):
    m = kerasnp.Sequential([kerasnp.layers.Input((4,)), kerasnp.layers.Dense(3)])
    m.compile(optimizer="adafactor", loss="mse")
    m.fit(rng.normal(size=(8, 4)), rng.normal(size=(8, 3)), epochs=1, verbose=0)
    m.save(tmp_path / "m.kerasnp")
    loaded = kerasnp.models.load_model(tmp_path / "m.kerasnp")
    for a, b in zip(loaded.optimizer.variables_for(loaded.trainable_weights),
                    m.optimizer.variables_for(m.trainable_weights)):
        np.testing.assert_array_equal(a[1], b[1])



def test_adafactor_file_with_wrong_factored_shape_is_refused(tmp_path):
    import io
    import zipfile
    m = kerasnp.Sequential([kerasnp.layers.Input((4,)), kerasnp.layers.Dense(3)])
    m.compile(optimizer="adafactor", loss="mse")
    m.fit(rng.normal(size=(8, 4)), rng.normal(size=(8, 3)), epochs=1, verbose=0)
    m.save(tmp_path / "m.kerasnp")
    # Rewrite the kernel's row slot `r` (shape (4,)) with the weight's shape (4, 3).
    bad = tmp_path / "bad.kerasnp"
    with zipfile.ZipFile(tmp_path / "m.kerasnp") as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "optimizer/00001.npy":
                buf = io.BytesIO()
                np.save(buf, np.zeros((4, 3), np.float32))
                data = buf.getvalue()
            dst.writestr(info, data)
    with pytest.raises(kerasnp.saving.ModelFileError, match=r"slot 'r'.*\(4, 3\).*\(4,\)"):
        kerasnp.models.load_model(bad)
