"""Muon: its two update rules (Newton-Schulz orthogonalised momentum for 2-D weights, AdamW for
the others) against NumPy references written here, Keras's config keys, exact resume."""
import numpy as np
import pytest

from kerasnp import optimizers
from kerasnp.variables import Variable

from test_optimizers_extra import BASE, GRADS, _apply

rng = np.random.default_rng(5)

def ref_muon(w, grads, lr, mom=0.95, wd=0.004, steps=5, nesterov=True, rms=0.2,
             abc=(3.4445, -4.775, 2.0315)):
    a, b, c = abc
    m = np.zeros_like(w)
    for g in grads:
        w = w * (1 - lr * wd)
        m = mom * m + g
        u = g + mom * m if nesterov else m
        x = u.T if u.shape[0] > u.shape[1] else u
        x = x / (np.sqrt((x * x).sum()) + 1e-7)
        for _ in range(steps):
            s = x @ x.T
            x = a * x + (b * s + c * s @ s) @ x
        x = x.T if u.shape[0] > u.shape[1] else x
        w = w - lr * x * np.sqrt(max(w.shape)) * rms
    return w


def ref_adamw(w, grads, lr, b1=0.9, b2=0.999, eps=1e-7, wd=0.004, ratio=1.0):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        w = w * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr * ratio * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
    return w


def test_muon_matches_reference_per_kind_of_weight():
    shapes = {"dense/kernel": (3, 4), "tall/kernel": (5, 2), "dense/bias": (4,),
              "embedding/embeddings": (6, 3), "head/kernel": (4, 2)}
    vs = [Variable(rng.normal(size=s), p) for p, s in shapes.items()]
    w0 = [v.value.copy() for v in vs]
    grads = [[rng.normal(size=s) for s in shapes.values()] for _ in range(3)]
    opt = optimizers.Muon(0.02, exclude_layers=["^head"], adam_lr_ratio=0.5,
                          adam_weight_decay=0.01, weight_decay=0.05)
    for gs in grads:
        opt.apply(gs, vs)
    for i, (v, w) in enumerate(zip(vs, w0)):
        gi = [gs[i] for gs in grads]
        if v.path in ("dense/kernel", "tall/kernel"):
            ref = ref_muon(w, gi, 0.02, wd=0.05)
        else:                                   # 1-D, embedding, excluded: AdamW
            ref = ref_adamw(w, gi, 0.02, wd=0.01, ratio=0.5)
        np.testing.assert_allclose(v.value, ref, rtol=1e-10, atol=1e-12, err_msg=v.path)


def test_muon_update_is_nearly_orthogonal():
    from kerasnp.optimizers.muon import _newton_schulz
    u = rng.normal(size=(6, 4))
    s = np.linalg.svd(_newton_schulz(u, 5, 3.4445, -4.775, 2.0315), compute_uv=False)
    assert np.all((s > 0.6) & (s < 1.25))       # the quintic's band around 1


def test_muon_config_and_resume():
    opt = optimizers.Muon()
    assert opt.get_config() == {
        **BASE, "name": "muon", "learning_rate": 0.001, "weight_decay": 0.004,
        "adam_beta_1": 0.9, "adam_beta_2": 0.999, "epsilon": 1e-07, "exclude_layers": [],
        "muon_a": 3.4445, "muon_b": -4.775, "muon_c": 2.0315, "adam_lr_ratio": 1,
        "momentum": 0.95, "ns_steps": 5, "nesterov": True, "exclude_embeddings": True,
        "adam_weight_decay": 0.004, "rms_rate": 0.2}       # Keras 3.15, less its inert keys
    assert type(optimizers.get("muon")) is optimizers.Muon
    with pytest.raises(TypeError, match="exclude_layers"):
        optimizers.Muon(exclude_layers="head")
    full = _apply(optimizers.Muon(0.01))
    opt = optimizers.Muon(0.01)
    vs = _apply(opt, grads=GRADS[:2])
    fresh = optimizers.deserialize(optimizers.serialize(opt))
    vs2 = [Variable(v.value.copy(), v.path) for v in vs]
    fresh.set_variables_for(vs2, opt.variables_for(vs))
    for gs in GRADS[2:]:
        fresh.apply(gs, vs2)
    for a, b in zip(vs2, full):
        np.testing.assert_array_equal(a.value, b.value)
