"""Element-wise math, integer ops and windows of `ops` beyond the first set: values against
NumPy (and torch for erfc/erfinv/i0), float64 central-difference gradients, dtype rules and
errors."""
import math

import numpy as np
import pytest

from kerasnp import ops
from kerasnp.autodiff import GradientTape

from _ops_check import check_grad

rng = np.random.default_rng(3)
UNARY_REF = {"cbrt": np.cbrt, "exp2": np.exp2, "deg2rad": np.deg2rad, "rad2deg": np.rad2deg,
             "fabs": np.fabs, "sinc": np.sinc, "i0": np.i0, "trunc": np.trunc,
             "signbit": np.signbit, "nan_to_num": np.nan_to_num}
BINARY_REF = {"hypot": np.hypot, "fmax": np.fmax, "fmin": np.fmin, "fmod": np.fmod,
              "heaviside": np.heaviside, "nextafter": np.nextafter,
              "logaddexp2": np.logaddexp2, "isclose": np.isclose}
UNARY_GRAD = ["cbrt", "exp2", "deg2rad", "rad2deg", "fabs", "sinc", "erfc", "erfinv", "i0",
              "nan_to_num"]
BINARY_GRAD = ["hypot", "fmax", "fmin", "fmod", "logaddexp2", "divide_no_nan"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY_REF))
def test_unary_values_match_numpy(name, dtype):
    x = rng.uniform(-2, 2, (3, 4)).astype(dtype)
    y = getattr(ops, name)(x)
    want = UNARY_REF[name](x)
    assert y.dtype == want.dtype
    np.testing.assert_allclose(y, want, rtol=1e-6 if dtype == "float32" else 1e-13)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(BINARY_REF))
def test_binary_values_match_numpy_with_broadcasting(name, dtype):
    a = rng.uniform(-2, 2, (3, 4)).astype(dtype)
    b = rng.uniform(0.5, 2, (4,)).astype(dtype)
    a[0, 0] = 0.0
    np.testing.assert_allclose(getattr(ops, name)(a, b), BINARY_REF[name](a, b), rtol=1e-6)


def test_erfc_erfinv_i0_match_torch():
    torch = pytest.importorskip("torch")
    x = np.array([-7.0, -3, -0.5, 0, 0.3, 1, 2.5, 5.9, 6.2, 9, 20])
    t = torch.tensor(x)
    np.testing.assert_allclose(ops.erfc(x), torch.special.erfc(t).numpy(), rtol=1e-12)
    np.testing.assert_allclose(ops.i0(x), torch.special.i0(t).numpy(), rtol=1e-12)
    p = np.array([-0.999999, -0.7, -0.1, 0, 0.2, 0.5, 0.51, 0.9, 1 - 1e-12])
    np.testing.assert_allclose(ops.erfinv(p), torch.special.erfinv(torch.tensor(p)).numpy(),
                               rtol=1e-12, atol=1e-15)
    assert ops.erfinv(np.array([1.0]))[0] == np.inf and np.isnan(ops.erfinv(np.array([1.5]))[0])


@pytest.mark.parametrize("name", UNARY_GRAD)
def test_unary_gradients(name):
    x = rng.uniform(0.2, 1.4, (2, 3))
    if name == "erfinv":
        x = x / 1.6
    if name in ("fabs", "sinc"):
        x[0] = -x[0]
    check_grad(getattr(ops, name), x)


@pytest.mark.parametrize("name", BINARY_GRAD)
def test_binary_gradients_under_broadcasting(name):
    a, b = rng.uniform(0.5, 1.5, (3, 4)), rng.uniform(2.0, 3.0, (4,))
    if name == "fmod":
        a = a * 4                     # several jumps apart: trunc(a/b) is 0 or 1
    check_grad(getattr(ops, name), a, b)


def test_ldexp_gradient_and_integer_exponent_rule():
    e = np.array([1, -2, 3])
    check_grad(lambda a: ops.ldexp(a, e), rng.uniform(-1, 1, 3))
    np.testing.assert_array_equal(ops.ldexp(np.array([3.0, 1.0]), np.array([2, -1])), [12, 0.5])
    with pytest.raises(TypeError, match="ldexp.*integers"):
        ops.ldexp(np.ones(2), np.ones(2))


def test_divide_no_nan_gives_zero_and_no_nan_gradient_at_zero_divisor():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 0.0, -1.0])
    with GradientTape() as tape:
        tape.watch([a, b])
        y = ops.divide_no_nan(a, b)
        s = ops.sum(y)
    np.testing.assert_array_equal(y.value, [0.5, 0.0, -3.0])
    da, db = tape.gradient(s, [a, b])
    np.testing.assert_allclose(da, [0.5, 0, -1])
    np.testing.assert_allclose(db, [-0.25, 0, -3])


def test_fmax_ignores_nan_in_value_and_gradient():
    a, b = np.array([np.nan, 1.0, 2.0]), np.array([1.0, np.nan, 2.0])
    with GradientTape() as tape:
        tape.watch([a, b])
        s = ops.sum(ops.fmax(a, b))
    np.testing.assert_array_equal(ops.fmax(a, b), [1.0, 1.0, 2.0])
    da, db = tape.gradient(s, [a, b])
    np.testing.assert_allclose(da, [0, 1, 0.5])
    np.testing.assert_allclose(db, [1, 0, 0.5])


def test_integer_inputs_follow_keras_dtype_rules():
    i = np.array([1, 2, 3], dtype="int32")
    f = np.array([1.5, -2.0, 0.0], dtype="float32")
    for name in ("cbrt", "exp2", "fabs", "sinc", "i0", "erfc"):
        assert getattr(ops, name)(i).dtype == np.float32, name
    assert ops.trunc(i).dtype == np.int32
    assert ops.hypot(i, i).dtype == np.float32
    assert ops.hypot(f, i).dtype == np.float32              # NumPy alone would give float64
    assert ops.fmax(i, i).dtype == np.int32
    assert ops.heaviside(i, i).dtype == np.float32
    assert ops.isclose(f, f).dtype == bool and bool(ops.allclose(f, f + 1e-9))


def test_nan_to_num_replaces_and_blocks_gradient_at_non_finite():
    x = np.array([np.nan, np.inf, -np.inf, 2.0])
    np.testing.assert_array_equal(ops.nan_to_num(x, nan=1.0, posinf=5.0, neginf=-5.0),
                                  [1, 5, -5, 2])
    with GradientTape() as tape:
        tape.watch(x)
        s = ops.sum(ops.nan_to_num(x))
    np.testing.assert_array_equal(tape.gradient(s, x), [0, 0, 0, 1])


def test_isposinf_isneginf_signbit():
    x = np.array([-np.inf, -0.0, 0.0, np.inf, np.nan])
    np.testing.assert_array_equal(ops.isposinf(x), [0, 0, 0, 1, 0])
    np.testing.assert_array_equal(ops.isneginf(x), [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(ops.signbit(x), [1, 1, 0, 0, 0])


BITWISE = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
           "bitwise_xor": np.bitwise_xor, "bitwise_left_shift": np.left_shift,
           "bitwise_right_shift": np.right_shift, "left_shift": np.left_shift,
           "right_shift": np.right_shift, "gcd": np.gcd, "lcm": np.lcm}


@pytest.mark.parametrize("name", sorted(BITWISE))
def test_integer_binary_ops_match_numpy_and_refuse_floats(name):
    a = np.array([[12, -7, 5], [0, 9, 30]], dtype="int32")
    b = np.array([3, 2, 1], dtype="int32")
    y = getattr(ops, name)(a, b)
    np.testing.assert_array_equal(y, BITWISE[name](a, b))
    assert y.dtype == np.int32
    with pytest.raises(TypeError, match=f"{name} expects integer"):
        getattr(ops, name)(a.astype("float32"), b)


@pytest.mark.parametrize("name", ["bitwise_not", "bitwise_invert"])
def test_bitwise_not(name):
    np.testing.assert_array_equal(getattr(ops, name)(np.array([0, 5, -3])), [-1, -6, 2])
    np.testing.assert_array_equal(getattr(ops, name)(np.array([True, False])), [False, True])
    with pytest.raises(TypeError, match=name):
        getattr(ops, name)(np.ones(2))


@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
def test_windows_match_numpy_in_floatx(name):
    for n in (0, 1, 6, 7):
        y = getattr(ops, name)(n)
        assert y.dtype == np.float32
        np.testing.assert_allclose(y, getattr(np, name)(n), atol=1e-7)
    with pytest.raises(TypeError, match=name):
        getattr(ops, name)(2.5)


def test_kaiser():
    np.testing.assert_allclose(ops.kaiser(7, 2.5), np.kaiser(7, 2.5), rtol=1e-6)
    assert math.isclose(float(ops.kaiser(3, 0.0)[0]), 1.0)
