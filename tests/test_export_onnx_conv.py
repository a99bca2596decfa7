"""ONNX export of convolutions, pooling, normalization and spatial reshaping: onnxruntime equals
kerasnp's `predict` to 1e-5 for padding "same"/"valid"/"causal", strides, dilation, groups and
unknown spatial sizes, BatchNormalization with non-trivial moving statistics, an MNIST-style CNN
after a little training, and a ResNet-style block."""
import numpy as np
import pytest

import kerasnp as keras
from kerasnp import layers
from test_export_onnx import rand, run_onnx

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _randomize_bn(model, seed=0):
    """Moving statistics, gamma and beta far from their initial values."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            n = layer.moving_mean.value.shape
            layer.moving_mean.assign(rng.normal(0, 1, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.2, 3.0, n).astype("float32"))
            if layer.gamma is not None:
                layer.gamma.assign(rng.uniform(0.5, 2.0, n).astype("float32"))
            if layer.beta is not None:
                layer.beta.assign(rng.normal(0, 1, n).astype("float32"))


def test_mnist_cnn_after_training(tmp_path):
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),                      # channels-last order: the Dense weights fit
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax")])
    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, 64)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    run_onnx(model, x[:9], tmp_path)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides,dilation", [(1, 1), (2, 1), ((2, 3), 1), (1, (2, 3))])
def test_conv2d_geometry(padding, strides, dilation, tmp_path):
    model = keras.Sequential([keras.Input((11, 10, 3)),
                              layers.Conv2D(4, (3, 4), strides=strides, padding=padding,
                                            dilation_rate=dilation, activation="tanh")])
    run_onnx(model, rand(2, 11, 10, 3), tmp_path)


def test_conv_groups_no_bias_and_unknown_spatial_size(tmp_path):
    x = keras.Input((None, None, 4))
    y = layers.Conv2D(6, 3, padding="same", groups=2, use_bias=False)(x)
    y = layers.Conv2D(4, 3, strides=2, padding="same")(y)
    y = layers.MaxPooling2D(3, strides=2, padding="same")(y)
    y = layers.AveragePooling2D(2, padding="same")(y)
    model = keras.Model(x, layers.GlobalAveragePooling2D()(y))
    run_onnx(model, rand(2, 13, 9, 4), tmp_path)
    sess = ort.InferenceSession(str(tmp_path / "model.onnx"))
    other = rand(3, 8, 16, 4, seed=5)                  # another image size, same file
    np.testing.assert_allclose(sess.run(None, {"input_layer": other})[0],
                               model.predict(other, verbose=0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_and_1d_pooling(padding, tmp_path):
    model = keras.Sequential([
        keras.Input((17, 3)),
        layers.Conv1D(5, 4, padding=padding, dilation_rate=2, activation="relu"),
        layers.Conv1D(4, 3, strides=2, padding="same" if padding != "causal" else "causal",
                      groups=1),
        layers.MaxPooling1D(2, padding="same"), layers.AveragePooling1D(2, strides=1),
        layers.MinPooling1D(2, padding="same")])
    run_onnx(model, rand(3, 17, 3), tmp_path)


def test_depthwise_and_separable(tmp_path):
    x = keras.Input((9, 10, 3))
    y = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu")(x)
    y = layers.DepthwiseConv2D((2, 3), strides=2, use_bias=False)(y)
    y = layers.SeparableConv2D(5, 3, padding="same", depth_multiplier=3,
                               bias_initializer="random_normal")(y)
    y = layers.SeparableConv2D(4, 2, dilation_rate=2, use_bias=False, activation="elu")(y)
    run_onnx(keras.Model(x, y), rand(2, 9, 10, 3), tmp_path)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides,output_padding,dilation",
                         [(1, None, 1), (2, None, 1), (3, None, 1), (2, 1, 1), (3, (2, 1), 1),
                          (1, None, 2)])
def test_conv2d_transpose(padding, strides, output_padding, dilation, tmp_path):
    model = keras.Sequential([keras.Input((5, 6, 3)),
                              layers.Conv2DTranspose(4, (3, 2), strides=strides,
                                                     padding=padding, dilation_rate=dilation,
                                                     output_padding=output_padding,
                                                     bias_initializer="random_normal")])
    run_onnx(model, rand(2, 5, 6, 3), tmp_path)


@pytest.mark.parametrize("padding,strides,output_padding", [("valid", 2, None), ("same", 3, None),
                                                            ("same", 2, 1), ("valid", 1, None)])
def test_conv1d_transpose(padding, strides, output_padding, tmp_path):
    model = keras.Sequential([keras.Input((7, 3)),
                              layers.Conv1DTranspose(4, 3, strides=strides, padding=padding,
                                                     output_padding=output_padding)])
    run_onnx(model, rand(2, 7, 3), tmp_path)


def test_pooling_and_global_pooling(tmp_path):
    x = keras.Input((9, 11, 3))
    outs = [layers.MaxPooling2D((2, 3), strides=(1, 2))(x),
            layers.AveragePooling2D(3, strides=2, padding="same")(x),
            layers.MinPooling2D(2, padding="same")(x),
            layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D(keepdims=True)(x)]
    seq = layers.Reshape((99, 3))(x)
    outs += [layers.GlobalAveragePooling1D()(seq), layers.GlobalMaxPooling1D(keepdims=True)(seq),
             layers.AdaptiveAveragePooling1D(7)(seq), layers.AdaptiveMaxPooling1D(5)(seq)]
    run_onnx(keras.Model(x, outs), rand(2, 9, 11, 3), tmp_path)


def test_batch_normalization_uses_the_moving_statistics(tmp_path):
    x = keras.Input((6, 5, 4))
    y = layers.BatchNormalization()(x)
    y = layers.BatchNormalization(axis=1, center=False)(y)
    y = layers.BatchNormalization(axis=2, scale=False)(y)
    seq = layers.Reshape((30, 4))(y)
    model = keras.Model(x, [y, layers.BatchNormalization(axis=1)(seq)])
    _randomize_bn(model)
    got = run_onnx(model, rand(3, 6, 5, 4), tmp_path)
    assert np.abs(got[0] - rand(3, 6, 5, 4)).max() > 0.5      # the statistics did act


def test_layer_normalization_rescaling_normalization(tmp_path):
    x = keras.Input((4, 6))
    ln = layers.LayerNormalization(gamma_initializer="random_normal",
                                   beta_initializer="random_normal")
    norm = layers.Normalization(axis=-1)
    norm.adapt(rand(50, 4, 6, scale=3.0, seed=3) + 2)
    outs = [ln(x), layers.LayerNormalization(axis=[1, 2], epsilon=1e-5)(x),
            layers.LayerNormalization(axis=1, center=False)(x),
            layers.LayerNormalization(axis=1, scale=False)(x),
            layers.Rescaling(1 / 255.0, offset=-0.5)(x),
            layers.Rescaling([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], offset=[0.5] * 6)(x),
            norm(x), layers.Normalization(mean=2.0, variance=4.0, invert=True)(x),
            layers.Normalization(axis=(1, 2), mean=np.ones((4, 6)),
                                 variance=np.full((4, 6), 9.0))(x)]
    run_onnx(keras.Model(x, outs), rand(3, 4, 6, scale=2.0), tmp_path)


def test_resnet_block_with_add(tmp_path):
    x = keras.Input((12, 12, 8))
    h = layers.Conv2D(8, 3, padding="same", use_bias=False)(x)
    h = layers.BatchNormalization()(h)
    h = layers.Activation("relu")(h)
    h = layers.Conv2D(8, 3, padding="same", use_bias=False)(h)
    h = layers.BatchNormalization()(h)
    h = layers.ReLU()(layers.Add()([x, h]))
    shortcut = layers.BatchNormalization()(layers.Conv2D(16, 1, strides=2)(h))
    h2 = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(h)
    h2 = layers.Add()([shortcut, h2])
    y = layers.Dense(5, activation="softmax")(layers.GlobalAveragePooling2D()(h2))
    model = keras.Model(x, y)
    _randomize_bn(model)
    run_onnx(model, rand(4, 12, 12, 8), tmp_path)


def test_spatial_reshaping(tmp_path):
    x = keras.Input((5, 6, 2))
    outs = [layers.ZeroPadding2D(((1, 2), (0, 3)))(x), layers.ZeroPadding2D(1)(x),
            layers.Cropping2D(((1, 0), (2, 1)))(x), layers.Cropping2D(1)(x),
            layers.UpSampling2D((2, 3))(x), layers.UpSampling2D(2)(x)]
    seq = keras.Input((7, 3))
    outs += [layers.ZeroPadding1D((2, 1))(seq), layers.Cropping1D((0, 2))(seq),
             layers.Cropping1D(1)(seq), layers.UpSampling1D(3)(seq)]
    run_onnx(keras.Model([x, seq], outs), [rand(2, 5, 6, 2), rand(2, 7, 3, seed=1)], tmp_path)
