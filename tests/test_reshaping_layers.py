"""ZeroPadding2D, Cropping2D and UpSampling2D on the tape: values, each VJP against its exact
adjoint (crop ↔ pad, block sums), float64 central differences, one node per call and the input
returned unrecorded outside a tape."""
import numpy as np
import pytest

from kerasnp.autodiff import GradientTape
from kerasnp.autodiff.tape import Tensor, unwrap
from kerasnp.layers.reshaping import Cropping2D, UpSampling2D, ZeroPadding2D

from _tape_check import tape_gradient_errors, tape_gradients


def _dx(layer, x, dy):
    (dx,), _ = tape_gradients(layer, x, dy)
    return dx


def test_zero_padding_backward_crops_dy():
    x = np.arange(6, dtype="float32").reshape(1, 2, 3, 1)
    layer = ZeroPadding2D(((1, 0), (0, 2)))
    dy = np.arange(15, dtype="float32").reshape(1, 3, 5, 1)
    dx = _dx(layer, x, dy)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[5, 6, 7], [10, 11, 12]])
    assert dx.dtype == np.float32 and dx.flags.c_contiguous


def test_cropping_backward_pads_dy_with_zeros():
    x = np.arange(20, dtype="float64").reshape(1, 4, 5, 1)
    layer = Cropping2D(((1, 0), (2, 1)))
    y = layer(x)
    dx = _dx(layer, x, np.ones_like(y))
    assert dx.sum() == y.size and dx[0, 0].sum() == 0 and dx[0, :, :2].sum() == 0
    assert dx[0, :, 4].sum() == 0


def test_upsampling_backward_sums_each_block():
    x = np.arange(4, dtype="float32").reshape(1, 2, 2, 1)
    layer = UpSampling2D((2, 3))
    dy = np.ones((1, 4, 6, 1), "float32")
    np.testing.assert_array_equal(_dx(layer, x, dy), np.full(x.shape, 6.0))


@pytest.mark.parametrize("make", [lambda: ZeroPadding2D(((2, 1), (0, 3))),
                                  lambda: Cropping2D(((1, 2), (1, 0))),
                                  lambda: UpSampling2D((3, 2))],
                         ids=["zero_padding", "cropping", "upsampling"])
def test_one_node_adjoint_and_finite_differences(make, float64):
    layer = make()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5, 3))
    assert type(layer(x)) is np.ndarray                # outside a tape: plain NumPy
    with GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
    assert type(y) is Tensor and len(tape._nodes) == 1
    dy = rng.standard_normal(y.shape)
    dx = tape.gradient(y, x, output_gradients=dy)
    np.testing.assert_allclose(np.sum(unwrap(y) * dy), np.sum(x * dx), rtol=1e-12)   # <Sx, dy>
    assert tape_gradient_errors(layer, x)["input"] < 1e-7
