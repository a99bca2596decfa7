"""NaN-ignoring reductions and scans, ptp and quantiles of `ops`: values against NumPy (NaN
entries and all-NaN slices included), float64 central-difference gradients, Keras's dtypes and
errors."""
import numpy as np
import pytest

from kerasnp import ops
from kerasnp.autodiff import GradientTape

from _ops_check import check_grad

rng = np.random.default_rng(7)
NAN_REDUCE = ["nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanprod",
              "nanargmax", "nanargmin", "ptp", "median", "nanmedian"]
AXES = [None, 1, (0, 2), -1]


def _with_nan(dtype="float64"):
    x = rng.standard_normal((3, 4, 5)).astype(dtype)
    x[0, 1, 2] = x[2, 3, 0] = np.nan
    return x


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", NAN_REDUCE)
def test_reductions_match_numpy(name, axis):
    for dtype in ("float32", "float64"):
        x = _with_nan(dtype) if name.startswith("nan") else rng.standard_normal((3, 4, 5))
        x = x.astype(dtype)
        if name.startswith("nanarg") and isinstance(axis, tuple):
            continue
        for keepdims in (False, True):
            y = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
            want = getattr(np, name)(x, axis=axis, keepdims=keepdims)
            assert np.shape(y) == np.shape(want)
            np.testing.assert_allclose(y, want, rtol=2e-5 if dtype == "float32" else 1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["nancumsum", "nancumprod"])
def test_scans_match_numpy(name):
    x = _with_nan()
    for axis in (None, 0, 2):
        np.testing.assert_allclose(getattr(ops, name)(x, axis=axis),
                                   getattr(np, name)(x, axis=axis), rtol=1e-12)


GRAD_NAMES = ["nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanprod", "ptp",
              "median", "nanmedian", "nancumsum", "nancumprod"]


@pytest.mark.parametrize("axis", [None, 1], ids=str)
@pytest.mark.parametrize("name", GRAD_NAMES)
def test_gradients_with_nan_entries_getting_zero(name, axis):
    x = rng.standard_normal((3, 4))
    nan_ok = name.startswith("nan")
    if nan_ok:
        x[1, 2] = np.nan
    f = getattr(ops, name)
    check_grad(lambda a: f(a, axis=axis), np.where(np.isnan(x), 0.3, x))   # smooth part
    if nan_ok:
        with GradientTape() as tape:
            tape.watch(x)
            s = ops.sum(ops.nan_to_num(f(x, axis=axis)))
        g = tape.gradient(s, x)
        assert g[1, 2] == 0 and np.all(np.isfinite(g))


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("name", ["quantile", "nanquantile", "percentile", "nanpercentile"])
def test_quantiles_match_numpy(name, method):
    x = _with_nan() if name.startswith("nan") else rng.standard_normal((3, 4, 5))
    scale = 100 if "percentile" in name else 1
    for q, axis in ((0.37, None), ([0.1, 0.5, 1.0], (0, 2)), (0.5, -1)):
        qq = np.asarray(q) * scale
        for keepdims in (False, True):
            y = getattr(ops, name)(x, qq, axis=axis, method=method, keepdims=keepdims)
            want = getattr(np, name)(x, qq, axis=axis, method=method, keepdims=keepdims)
            assert np.shape(y) == np.shape(want)
            np.testing.assert_allclose(y, want, rtol=1e-12)


@pytest.mark.parametrize("method", ["linear", "midpoint", "nearest"])
def test_quantile_gradients(method):
    x = rng.standard_normal((4, 5))
    check_grad(lambda a: ops.quantile(a, [0.2, 0.65], axis=1, method=method), x)
    check_grad(lambda a: ops.nanpercentile(a, 40.0, axis=0, keepdims=True, method=method), x)


def test_all_nan_slices_and_keras_dtypes():
    x = np.array([[1.5, np.nan, 0.0], [np.nan] * 3], dtype="float32")
    np.testing.assert_array_equal(ops.nanargmax(x, axis=1), [0, -1])
    np.testing.assert_array_equal(ops.nanargmin(x, axis=1), [2, -1])
    assert ops.nanargmax(x, axis=1).dtype == np.int32
    assert np.isnan(ops.nanmax(x, axis=1)[1]) and np.isnan(ops.nanmedian(x, axis=1)[1])
    np.testing.assert_allclose(ops.nanmean(x, axis=1), [0.75, np.nan])
    i = np.array([[1, 2, 3], [4, 5, 7]], dtype="int32")
    assert ops.nansum(i).dtype == np.int32 and ops.ptp(i).dtype == np.int32
    assert ops.nanprod(i, axis=1).tolist() == [6, 140] and ops.nancumsum(i).dtype == np.int32
    assert ops.nanmean(i).dtype == np.float32 and ops.median(i).dtype == np.float32
    assert ops.quantile(i, 0.5).dtype == np.float32
    assert np.isnan(ops.quantile(x, 0.5, axis=1)[0])          # NaN propagates without nan*


def test_errors():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="quantile: q must be.*within \\[0, 1\\]"):
        ops.quantile(x, 1.5)
    with pytest.raises(ValueError, match="percentile: q must be.*100"):
        ops.percentile(x, 101)
    with pytest.raises(ValueError, match="method must be one of linear"):
        ops.quantile(x, 0.5, method="cubic")
    with pytest.raises(ValueError, match="nanmean: axis 2 is out of bounds"):
        ops.nanmean(x, axis=2)
    with pytest.raises(ValueError, match="median: axis"):
        ops.median(x, axis=-3)
