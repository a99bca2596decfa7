"""EinsumDense: values against np.einsum, float64 gradients against finite differences, Keras 3
weight/bias shapes, config keys and parameter counts (checked with Keras 3.15)."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers as L
from kerasnp.utils.gradient_check import layer_gradient_errors

RNG = np.random.default_rng(2)

# equation, output_shape, bias_axes, input shape (no batch), Keras 3.15 kernel and bias shapes
CASES = [
    ("ab,bc->ac", 6, "c", (5,), (5, 6), (6,)),
    ("abc,cd->abd", (None, 6), "d", (3, 5), (5, 6), (6,)),
    ("abc,cde->abde", (None, 2, 3), "de", (3, 5), (5, 2, 3), (2, 3)),
    ("...b,bc->...c", 6, "c", (3, 5), (5, 6), (6,)),
    ("ab...,bc->ac...", (6,), "c", (5, 3, 2), (5, 6), (6, 1, 1)),
    ("abc,cd->ad", (6,), "d", (3, 5), (5, 6), (6,)),
    ("...bc,cd->...bd", (3, 6), "b", (4, 3, 5), (5, 6), (3, 1)),
    ("abc,cd->abd", (None, 6), None, (3, 5), (5, 6), None),
]


@pytest.mark.parametrize("eq,out,bias_axes,shape,kshape,bshape", CASES)
def test_einsum_dense_shapes_values_and_gradients(eq, out, bias_axes, shape, kshape, bshape):
    layer = L.EinsumDense(eq, output_shape=out, bias_axes=bias_axes, activation="tanh",
                          bias_initializer="random_normal", dtype="float64")
    x = RNG.standard_normal((2,) + shape)
    y = np.asarray(layer(x))
    assert layer.kernel.shape == kshape
    assert (layer.bias.shape if layer.bias is not None else None) == bshape
    ref = np.einsum(eq, x, layer.kernel.numpy())
    if bshape is not None:
        ref = ref + layer.bias.numpy()
    np.testing.assert_allclose(y, np.tanh(ref), atol=1e-12)
    assert layer.compute_output_shape((None,) + shape)[1:] == y.shape[1:]
    errors = layer_gradient_errors(layer, x)
    assert max(errors.values()) < 1e-6, errors


def test_einsum_dense_config_and_params():
    layer = L.EinsumDense("abc,cde->abde", output_shape=(None, 4, 8), bias_axes="de")
    model = keras.Sequential([keras.Input((7, 32)), layer])
    assert model.count_params() == 32 * 4 * 8 + 32            # Keras 3.15: 1056
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    cfg = layer.get_config()
    assert cfg["output_shape"] == [None, 4, 8] and cfg["equation"] == "abc,cde->abde"
    assert cfg["bias_axes"] == "de" and cfg["activation"] == "linear"
    for key in ("kernel_initializer", "bias_initializer", "kernel_regularizer",
                "bias_regularizer", "kernel_constraint", "bias_constraint"):
        assert key in cfg
    clone = L.EinsumDense.from_config(cfg)
    assert clone.get_config() == cfg
    model.compile("sgd", "mse")
    model.fit(RNG.standard_normal((4, 7, 32)), np.zeros((4, 7, 4, 8)), epochs=1, verbose=0)


def test_einsum_dense_errors():
    with pytest.raises(ValueError, match="EinsumDense.*equation"):
        L.EinsumDense("ab->b", 3)
    with pytest.raises(ValueError, match="EinsumDense.*'b'.*7 vs 5"):
        L.EinsumDense("abc,cd->abd", output_shape=(5, 64)).build((None, 7, 32))
    with pytest.raises(ValueError, match="EinsumDense.*bias axes.*'x'"):
        L.EinsumDense("ab,bc->ac", 3, bias_axes="x").build((None, 4))
    with pytest.raises(ValueError, match="EinsumDense.*output axis 'c'"):
        L.EinsumDense("ab,be->ac", 3).build((None, 4))
    with pytest.raises(ValueError, match="EinsumDense.*weight axis 'e'"):
        L.EinsumDense("ab,bec->ac", 3).build((None, 4))
    with pytest.raises(ValueError, match="lora_rank"):
        L.EinsumDense("ab,bc->ac", 3, lora_rank=2)
