"""Regularizers (penalties, float64 finite-difference gradients) and constraints (projections)."""
import numpy as np
import pytest

from kerasnp import constraints as C
from kerasnp import regularizers as R


def numeric_grad(f, w, h=1e-6):
    """Central differences of the scalar f at w (float64)."""
    g = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        old = w[i]
        w[i] = old + h
        up = f(w)
        w[i] = old - h
        down = f(w)
        w[i] = old
        g[i] = (up - down) / (2 * h)
    return g


def weights(shape=(5, 4), seed=0):
    w = np.random.default_rng(seed).standard_normal(shape)
    w[np.abs(w) < 0.05] += 0.2  # keep L1 away from its kink at 0
    return w


# ---------------------------------------------------------------------------- regularizers
def test_penalty_formulas():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert R.L1(0.1)(w) == pytest.approx(0.1 * 3.5)
    assert R.L2(0.5)(w) == pytest.approx(0.5 * 5.25)  # l2·Σw², no 1/2
    assert R.L1L2(0.1, 0.5)(w) == pytest.approx(0.35 + 2.625)
    assert R.L1L2()(w) == 0.0
    assert isinstance(R.L2()(w.astype(np.float32)), float)


def test_keras_defaults():
    assert R.L1().get_config() == {"l1": 0.01}
    assert R.L2().get_config() == {"l2": 0.01}
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert R.OrthogonalRegularizer().get_config() == {"factor": 0.01, "mode": "rows"}
    # Keras documents the string "l1_l2" as l1=0.01, l2=0.01.
    assert R.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}


@pytest.mark.parametrize("reg", [R.L1(0.3), R.L2(0.7), R.L1L2(0.2, 0.05), R.L1L2(0.2, 0.0),
                                 R.L1L2(0.0, 0.3), R.OrthogonalRegularizer(0.5, "rows"),
                                 R.OrthogonalRegularizer(0.5, "columns")],
                         ids=repr)
@pytest.mark.parametrize("shape", [(5, 4), (3, 6)])
def test_gradient_matches_central_differences(reg, shape):
    w = weights(shape)
    np.testing.assert_allclose(reg.gradient(w), numeric_grad(reg, w), rtol=1e-5, atol=1e-8)


def test_gradient_on_conv_kernel():
    w = weights((3, 3, 2, 4))
    reg = R.L1L2(0.01, 0.02)
    np.testing.assert_allclose(reg.gradient(w), numeric_grad(reg, w), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("reg", [R.L1(), R.L2(), R.L1L2(0.1, 0.1), R.L1L2(),
                                 R.OrthogonalRegularizer(),
                                 R.OrthogonalRegularizer(mode="columns")],
                         ids=repr)
def test_gradient_keeps_float32(reg):
    w = weights((6, 4)).astype(np.float32)
    g = reg.gradient(w)
    assert g.dtype == np.float32 and g.shape == w.shape
    np.testing.assert_allclose(g, reg.gradient(w.astype(np.float64)), rtol=1e-4, atol=1e-6)


def test_l1_gradient_is_l1_sign():
    w = np.array([-3.0, 0.0, 2.0])
    np.testing.assert_array_equal(R.L1(0.5).gradient(w), [-0.5, 0.0, 0.5])
    np.testing.assert_array_equal(R.L2(0.5).gradient(w), [-3.0, 0.0, 2.0])


def test_orthogonal_regularizer_values():
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((6, 4)))
    assert R.OrthogonalRegularizer(1.0, "columns")(q) == pytest.approx(0.0, abs=1e-12)
    same = np.tile([[1.0, 2.0, -1.0]], (4, 1))
    assert R.OrthogonalRegularizer(0.3, "rows")(same) == pytest.approx(0.3)  # mean |cos| = 1
    assert R.OrthogonalRegularizer(0.3, "rows")(np.ones((1, 3))) == 0.0
    with pytest.raises(ValueError, match="2-D.*shape=\\(2, 2, 2\\)"):
        R.OrthogonalRegularizer()(np.ones((2, 2, 2)))


@pytest.mark.parametrize("ctor, match", [
    (lambda: R.L1(-0.1), "l1=-0.1"), (lambda: R.L2(float("inf")), "l2=inf"),
    (lambda: R.L1L2(l2="x"), "l2='x'"), (lambda: R.OrthogonalRegularizer(mode="diag"),
                                          "'rows', 'columns'.*mode='diag'"),
])
def test_regularizer_validation(ctor, match):
    with pytest.raises(ValueError, match=match):
        ctor()


@pytest.mark.parametrize("name, cls", [("l1", R.L1), ("l2", R.L2), ("l1_l2", R.L1L2),
                                       ("L1", R.L1), ("L2", R.L2), ("L1L2", R.L1L2),
                                       ("orthogonal_regularizer", R.OrthogonalRegularizer)])
def test_regularizer_get_by_name(name, cls):
    assert type(R.get(name)) is cls


@pytest.mark.parametrize("reg", [R.L1(0.2), R.L2(0.3), R.L1L2(0.1, 0.4),
                                 R.OrthogonalRegularizer(0.2, "columns")], ids=repr)
def test_regularizer_config_round_trip(reg):
    again = R.deserialize(R.serialize(reg))
    assert type(again) is type(reg) and again.get_config() == reg.get_config()
    w = weights()
    assert again(w) == reg(w)


def test_regularizer_get_passthrough_and_errors():
    assert R.get(None) is None
    reg = R.L2()
    assert R.get(reg) is reg
    fn = lambda w: 0.0  # noqa: E731
    assert R.get(fn) is fn
    assert type(R.get(R.L1)) is R.L1
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'. Valid: .*l1, l1_l2, l2"):
        R.get("l3")
    with pytest.raises(ValueError, match="Valid names: .*identifier=0.1"):
        R.get(0.1)


# ----------------------------------------------------------------------------- constraints
def col_norms(w, axis=0):
    return np.sqrt(np.sum(w.astype(np.float64) ** 2, axis=axis))


def test_max_norm_caps_large_columns_and_keeps_small_ones():
    w = np.random.default_rng(0).standard_normal((20, 8))
    w[:, :4] *= 0.05  # norms ~0.2, below the cap
    out = C.MaxNorm(max_value=1.5)(w)
    norms = col_norms(out)
    assert (norms <= 1.5 + 1e-9).all()
    np.testing.assert_allclose(norms[4:], 1.5, rtol=1e-6)
    np.testing.assert_allclose(out[:, :4], w[:, :4], rtol=1e-6)
    # direction is kept
    np.testing.assert_allclose(out[:, 4:] / norms[4:], w[:, 4:] / col_norms(w)[4:], rtol=1e-6)


def test_max_norm_conv_kernel_axes():
    w = np.random.default_rng(1).standard_normal((3, 3, 4, 5)).astype(np.float32)
    out = C.MaxNorm(2.0, axis=[0, 1, 2])(w)
    assert out.dtype == np.float32
    norms = np.sqrt((out.astype(np.float64) ** 2).sum(axis=(0, 1, 2)))
    np.testing.assert_allclose(norms, 2.0, rtol=1e-5)


def test_non_neg():
    w = np.array([[-1.0, 2.0], [0.5, -0.0]], dtype=np.float32)
    out = C.NonNeg()(w)
    assert (out >= 0).all() and out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0.0, 2.0], [0.5, 0.0]])


@pytest.mark.parametrize("axis", [0, 1, (0, 1)])
def test_unit_norm(axis):
    w = np.random.default_rng(2).standard_normal((6, 5)) * 3
    out = C.UnitNorm(axis=axis)(w)
    np.testing.assert_allclose(col_norms(out, axis), 1.0, rtol=1e-6)
    assert out.shape == w.shape


def test_min_max_norm_strict_and_rate():
    w = np.zeros((3, 3))
    w[:, 0] = [0.1, 0.0, 0.0]   # norm 0.1
    w[:, 1] = [0.0, 1.5, 0.0]   # norm 1.5
    w[:, 2] = [3.0, 4.0, 0.0]   # norm 5
    strict = C.MinMaxNorm(min_value=0.5, max_value=2.0)(w)
    np.testing.assert_allclose(col_norms(strict), [0.5, 1.5, 2.0], rtol=1e-6)
    half = C.MinMaxNorm(min_value=0.5, max_value=2.0, rate=0.5)(w)
    np.testing.assert_allclose(col_norms(half), [0.3, 1.5, 3.5], rtol=1e-6)


def test_epsilon_guards_zero_vectors():
    w = np.zeros((4, 2), dtype=np.float32)
    for c in (C.MaxNorm(), C.UnitNorm(), C.MinMaxNorm()):
        out = c(w)
        assert np.isfinite(out).all() and not out.any()


@pytest.mark.parametrize("ctor, match", [
    (lambda: C.MaxNorm(-1), "max_value=-1"), (lambda: C.UnitNorm(axis="x"), "axis='x'"),
    (lambda: C.MaxNorm(axis=()), "axis=\\(\\)"), (lambda: C.MinMaxNorm(rate=1.5), "rate=1.5"),
    (lambda: C.MinMaxNorm(min_value=2.0, max_value=1.0), "max_value=1.0"),
])
def test_constraint_validation(ctor, match):
    with pytest.raises(ValueError, match=match):
        ctor()


@pytest.mark.parametrize("name, cls", [("max_norm", C.MaxNorm), ("non_neg", C.NonNeg),
                                       ("unit_norm", C.UnitNorm), ("min_max_norm", C.MinMaxNorm),
                                       ("MaxNorm", C.MaxNorm), ("NonNeg", C.NonNeg)])
def test_constraint_get_by_name(name, cls):
    assert type(C.get(name)) is cls


@pytest.mark.parametrize("c", [C.MaxNorm(3, axis=(0, 1)), C.NonNeg(), C.UnitNorm(1),
                               C.MinMaxNorm(0.1, 0.9, 0.5, axis=[0, 1, 2])], ids=repr)
def test_constraint_config_round_trip(c):
    again = C.deserialize(C.serialize(c))
    assert type(again) is type(c) and again.get_config() == c.get_config()
    w = np.random.default_rng(3).standard_normal((3, 3, 2))
    np.testing.assert_array_equal(again(w), c(w))


def test_constraint_get_passthrough_and_errors():
    assert C.get(None) is None
    c = C.UnitNorm()
    assert C.get(c) is c
    fn = np.abs
    assert C.get(fn) is fn
    with pytest.raises(ValueError, match="Unknown constraint 'maxnorm'.*max_norm.*Did you mean"):
        C.get("maxnorm")
    with pytest.raises(ValueError, match="Valid names: .*non_neg"):
        C.get(5)
