"""ResNet models: Keras's ResNet50/101/152 layer for layer, plus ResNet18/34.

`ResNet50`, `ResNet101`, `ResNet152` rebuild `keras.applications.resnet` (the v1 "ResNet" family
with bottleneck blocks, the stride on the first 1x1 convolution, biased convolutions and
BatchNormalization epsilon 1.001e-5), with the same layer names, so layer and parameter counts
equal Keras's. `ResNet18` and `ResNet34` are kerasnp's own: torchvision's basic-block networks
(no convolution bias before BatchNormalization, epsilon 1e-5, torch's BN momentum 0.1 = Keras 0.9,
strided 3x3 convolutions padded by one pixel on each side), with Keras-style layer names.
No pretrained weights ship with kerasnp: `weights` must be None.
"""
import warnings

import numpy as np

from .. import _validate
from .. import layers as L
from ..models import Model
from ..models.graph import KerasTensor

POOLINGS = (None, "avg", "max")
_MIN_SIZE = 32           # Keras's smallest height/width for the ResNet family
_DEFAULT_SIZE = 224
_CAFFE_MEAN = np.array([103.939, 116.779, 123.68])     # ImageNet BGR means (Keras "caffe" mode)


# -- blocks ----------------------------------------------------------------------------------
def _bn(name, epsilon=1.001e-5, momentum=0.99):
    return L.BatchNormalization(axis=-1, epsilon=epsilon, momentum=momentum, name=name)


def bottleneck_block(x, filters, stride=1, conv_shortcut=True, name=None):
    """Keras's ResNet v1 bottleneck block: 1x1 (stride) -> 3x3 -> 1x1 (4·filters), plus shortcut.

    Args:
        x: input `KerasTensor` (batch, height, width, channels).
        filters: filters of the first two convolutions; the block outputs `4 * filters`.
        stride: stride of the first 1x1 convolution (and of the projection shortcut).
        conv_shortcut: project the shortcut with a 1x1 convolution + BatchNormalization
            (True) or pass the input through unchanged (False: needs matching shapes).
        name: prefix of the layer names (`<name>_1_conv`, ..., `<name>_add`, `<name>_out`).
    Returns:
        The block's output tensor.
    """
    if conv_shortcut:
        shortcut = L.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = L.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = _bn(f"{name}_1_bn")(x)
    x = L.Activation("relu", name=f"{name}_1_relu")(x)
    x = L.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = _bn(f"{name}_2_bn")(x)
    x = L.Activation("relu", name=f"{name}_2_relu")(x)
    x = L.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = _bn(f"{name}_3_bn")(x)
    x = L.Add(name=f"{name}_add")([shortcut, x])                     # y = relu(shortcut + F(x))
    return L.Activation("relu", name=f"{name}_out")(x)


def basic_block(x, filters, stride=1, name=None):
    """torchvision's basic block: 3x3 (stride) -> 3x3, plus a shortcut, without conv biases.

    The shortcut is a 1x1 convolution + BatchNormalization when the stride or the channel count
    changes, the identity otherwise. A strided 3x3 convolution is preceded by a one-pixel
    ZeroPadding2D on every side (torch's `padding=1`), so its sampling grid lines up with the
    1x1 shortcut's; unstrided ones use `padding="same"`, which is the same thing.

    Args:
        x: input `KerasTensor` (batch, height, width, channels).
        filters: filters of both convolutions (the block outputs `filters` channels).
        stride: stride of the first 3x3 convolution and of the projection shortcut.
        name: prefix of the layer names.
    Returns:
        The block's output tensor.
    """
    bn = lambda n: _bn(n, epsilon=1e-5, momentum=0.9)                # noqa: E731 (torch BN)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = L.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_0_conv")(x)
        shortcut = bn(f"{name}_0_bn")(shortcut)
    if stride != 1:
        x = L.ZeroPadding2D(1, name=f"{name}_1_pad")(x)
        x = L.Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_1_conv")(x)
    else:
        x = L.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_1_conv")(x)
    x = bn(f"{name}_1_bn")(x)
    x = L.Activation("relu", name=f"{name}_1_relu")(x)
    x = L.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x)
    x = bn(f"{name}_2_bn")(x)
    x = L.Add(name=f"{name}_add")([shortcut, x])                     # y = relu(shortcut + F(x))
    return L.Activation("relu", name=f"{name}_out")(x)


def _bottleneck_stacks(sizes):
    def stacks(x):
        for i, (filters, blocks) in enumerate(zip((64, 128, 256, 512), sizes)):
            stage = f"conv{i + 2}"
            x = bottleneck_block(x, filters, stride=1 if i == 0 else 2, name=f"{stage}_block1")
            for b in range(2, blocks + 1):
                x = bottleneck_block(x, filters, conv_shortcut=False, name=f"{stage}_block{b}")
        return x
    return stacks


def _basic_stacks(sizes):
    def stacks(x):
        for i, (filters, blocks) in enumerate(zip((64, 128, 256, 512), sizes)):
            for b in range(1, blocks + 1):
                stride = 2 if i > 0 and b == 1 else 1
                x = basic_block(x, filters, stride=stride, name=f"conv{i + 2}_block{b}")
        return x
    return stacks


# -- argument checks (Keras's imagenet_utils.obtain_input_shape, channels-last) ---------------
def _input_shape(input_shape, include_top, fname):
    if input_shape is None:
        # Keras: the ImageNet size with a classifier, any size (3 channels) without one.
        return (_DEFAULT_SIZE, _DEFAULT_SIZE, 3) if include_top else (None, None, 3)
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = None
    if (shape is None or len(shape) != 3 or any(
            d is not None and (isinstance(d, bool) or not isinstance(d, (int, np.integer))
                               or d <= 0) for d in shape)):
        raise ValueError(f"{fname}: `input_shape` must be a tuple of three positive integers "
                         f"(height, width, channels), channels last. Received: "
                         f"input_shape={input_shape!r}")
    shape = tuple(None if d is None else int(d) for d in shape)
    if any(d is not None and d < _MIN_SIZE for d in shape[:2]):
        raise ValueError(f"{fname}: input size must be at least {_MIN_SIZE}x{_MIN_SIZE} "
                         f"(height, width, channels-last). Received: input_shape={input_shape!r}")
    if shape[-1] is None:
        raise ValueError(f"{fname}: the channel axis of `input_shape` must be known. "
                         f"Received: input_shape={input_shape!r}")
    if shape[-1] not in (1, 3):
        warnings.warn(f"{fname}: this model usually expects 1 or 3 input channels; "
                      f"input_shape={shape} has {shape[-1]}.", stacklevel=3)
    if include_top and None in shape:
        raise ValueError(f"{fname}: with `include_top=True` the input shape must be fully known. "
                         f"Received: input_shape={input_shape!r}")
    return shape


def _source_inputs(tensor):
    """The `Input` tensors that `tensor` was computed from (Keras's get_source_inputs)."""
    out, seen, todo = [], set(), [tensor]
    while todo:
        t = todo.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t._inputs:
            todo.extend(reversed(t._inputs))
        else:
            out.append(t)
    return out[0] if len(out) == 1 else out


def _check(fname, include_top, weights, input_tensor, input_shape, pooling, classes):
    if weights is not None:
        raise ValueError(f"{fname}: pretrained weights are not available in kerasnp; use "
                         f"weights=None (random initialization), then `model.load_weights(path)` "
                         f"for weights you saved. Received: weights={weights!r}")
    _validate.boolean(include_top, "include_top", fname)
    if pooling not in POOLINGS:
        raise ValueError(f"{fname}: argument `pooling` must be one of None, 'avg', 'max'. "
                         f"Received: pooling={pooling!r}")
    _validate.positive_int(classes, "classes", fname)
    if input_tensor is not None and not isinstance(input_tensor, KerasTensor):
        raise TypeError(f"{fname}: `input_tensor` must be a symbolic tensor from "
                        f"`kerasnp.Input(...)` (or computed from one). "
                        f"Received: input_tensor={input_tensor!r}")
    if input_tensor is not None:
        if len(input_tensor.shape) != 4:
            raise ValueError(f"{fname}: `input_tensor` must have shape (batch, height, width, "
                             f"channels). Received: input_tensor.shape={input_tensor.shape}")
        if input_shape is None:
            input_shape = input_tensor.shape[1:]
    return _input_shape(input_shape, include_top, fname)


# -- the network ----------------------------------------------------------------------------
def _resnet(stacks, basic, fname, include_top, weights, input_tensor, input_shape, pooling,
            classes, classifier_activation, name):
    shape = _check(fname, include_top, weights, input_tensor, input_shape, pooling, classes)
    img_input = L.Input(shape=shape) if input_tensor is None else input_tensor
    bias, bn_args = (False, dict(epsilon=1e-5, momentum=0.9)) if basic else (True, {})
    x = L.ZeroPadding2D(3, name="conv1_pad")(img_input)
    x = L.Conv2D(64, 7, strides=2, use_bias=bias, name="conv1_conv")(x)
    x = _bn("conv1_bn", **bn_args)(x)
    x = L.Activation("relu", name="conv1_relu")(x)
    x = L.ZeroPadding2D(1, name="pool1_pad")(x)
    x = L.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stacks(x)
    if include_top:
        x = L.GlobalAveragePooling2D(name="avg_pool")(x)
        x = L.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = L.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = L.GlobalMaxPooling2D(name="max_pool")(x)
    inputs = img_input if input_tensor is None else _source_inputs(input_tensor)
    return Model(inputs, x, name=name)


_ARGS_DOC = """
    Args:
        include_top: whether to end with global average pooling and a `Dense(classes)`
            classifier named "predictions".
        weights: must be None (random initialization): kerasnp ships no pretrained weights.
            (Keras's default is "imagenet".)
        input_tensor: optional symbolic tensor (`kerasnp.Input(...)` or a layer output) to use
            as the image input; the model's inputs are the `Input`s it was computed from.
        input_shape: `(height, width, channels)`, channels last, height and width at least 32.
            Defaults to (224, 224, 3) with `include_top`, else (None, None, 3).
        pooling: with `include_top=False`: None (the 4-D output of the last block), "avg" or
            "max" (global average / max pooling to a 2-D output).
        classes: number of classes of the classifier (with `include_top`).
        classifier_activation: activation of the classifier (name, callable or None).
        name: the model's name.
    Returns:
        A functional `kerasnp.Model`.
"""


def _public(stacks, basic, fname, default_name, summary):
    def build(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
              classes=1000, classifier_activation="softmax", name=default_name):
        return _resnet(stacks, basic, fname, include_top, weights, input_tensor, input_shape,
                       pooling, classes, classifier_activation, name)
    build.__name__ = build.__qualname__ = fname
    build.__doc__ = summary + "\n" + _ARGS_DOC
    return build


ResNet50 = _public(_bottleneck_stacks((3, 4, 6, 3)), False, "ResNet50", "resnet50", """\
    Keras's ResNet50: bottleneck stacks of 3, 4, 6, 3 blocks (filters 64, 128, 256, 512).

    177 layers with `include_top`; 25,636,712 weights (23,587,712 without the top) on
    224x224x3 images with 1000 classes, as in Keras.

    Example:
        >>> import kerasnp as keras
        >>> from kerasnp.applications import ResNet50
        >>> ResNet50(input_shape=(32, 32, 3), classes=10).count_params()
        23608202""")

ResNet101 = _public(_bottleneck_stacks((3, 4, 23, 3)), False, "ResNet101", "resnet101", """\
    Keras's ResNet101: bottleneck stacks of 3, 4, 23, 3 blocks.

    347 layers with `include_top`; 44,707,176 weights with 1000 classes, as in Keras.""")

ResNet152 = _public(_bottleneck_stacks((3, 8, 36, 3)), False, "ResNet152", "resnet152", """\
    Keras's ResNet152: bottleneck stacks of 3, 8, 36, 3 blocks.

    517 layers with `include_top`; 60,419,944 weights with 1000 classes, as in Keras.""")

ResNet18 = _public(_basic_stacks((2, 2, 2, 2)), True, "ResNet18", "resnet18", """\
    ResNet18 (kerasnp's own, torchvision's architecture): basic blocks, stacks of 2, 2, 2, 2.

    With 1000 classes: 11,689,512 trainable weights (torchvision's parameter count) plus
    9,600 BatchNormalization moving statistics: `count_params()` is 11,699,112.""")

ResNet34 = _public(_basic_stacks((3, 4, 6, 3)), True, "ResNet34", "resnet34", """\
    ResNet34 (kerasnp's own, torchvision's architecture): basic blocks, stacks of 3, 4, 6, 3.

    With 1000 classes: 21,797,672 trainable weights (torchvision's parameter count) plus
    17,024 BatchNormalization moving statistics: `count_params()` is 21,814,696.""")


def preprocess_input(x, data_format=None):
    """Keras's ResNet preprocessing ("caffe" mode): RGB -> BGR, minus the ImageNet channel means.

    Args:
        x: array of RGB images in [0, 255], channels last, shape (..., 3).
        data_format: None or "channels_last".
    Returns:
        A new float array (float32 unless `x` is float64), no scaling.
    """
    if data_format not in (None, "channels_last"):
        raise ValueError("preprocess_input: only data_format='channels_last' is supported. "
                         f"Received: data_format={data_format!r}")
    x = np.asarray(x)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError("preprocess_input expects RGB images with 3 channels last. "
                         f"Received: x.shape={x.shape}")
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
    return x[..., ::-1].astype(dtype) - _CAFFE_MEAN.astype(dtype)
