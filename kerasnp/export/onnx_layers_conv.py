"""ONNX converters of the convolutions: Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D,
Conv1DTranspose and Conv2DTranspose.

kerasnp's tensors are channels-last; ONNX's Conv is channels-first. Each converter transposes its
input to NC(H)W, runs the ONNX op with the kernel rearranged to ONNX's layout, and transposes
back (onnxruntime's optimizer removes a transpose pair that meets between two convolutions).
Padding is written as explicit amounts, the ones kerasnp's kernels use (TensorFlow's placement
for "same": the extra row/column at the end); with an unknown spatial size "same" becomes ONNX's
`SAME_UPPER`, the same rule.
"""
from ..layers.conv import Conv1D, Conv2D
from ..layers.conv_depthwise import DepthwiseConv2D, SeparableConv2D
from ..layers.conv_transpose import Conv1DTranspose, Conv2DTranspose
from ..ops._conv_padding import pad_amounts
from .onnx_activations import activation
from .onnx_registry import converts, unsupported


def to_channels_first(b, x, rank):
    return b.transpose(x, [0, rank + 1] + list(range(1, rank + 1)))


def to_channels_last(b, y, rank):
    return b.transpose(y, [0] + list(range(2, rank + 2)) + [1])


def padding_attrs(spatial, kernel, strides, padding, dilation=None):
    """`{"pads": [...]}` (all befores, then all afters) for the channels-last `spatial` sizes,
    or `{"auto_pad": "SAME_UPPER"}` when a size is unknown and the padding depends on it."""
    dilation = dilation or (1,) * len(spatial)
    if padding == "same" and any(d is None for d in spatial):
        return {"auto_pad": "SAME_UPPER"}
    amounts = [pad_amounts(n or 1, k, s, padding, d)
               for n, k, s, d in zip(spatial, kernel, strides, dilation)]
    return {"pads": [a for a, _ in amounts] + [z for _, z in amounts]}


def _kernel_perm(rank):
    """Keras kernel (k1.., in, out) -> ONNX (out, in, k1..)."""
    return (rank + 1, rank) + tuple(range(rank))


def _conv(b, layer, inputs, weight, bias, group):
    """The ONNX Conv of the channels-last `inputs`, output channels-first."""
    rank = len(layer.kernel_size)
    spatial = b.shape(inputs)[1:1 + rank]
    attrs = padding_attrs(spatial, layer.kernel_size, layer.strides, layer.padding,
                          layer.dilation_rate)
    x = to_channels_first(b, inputs, rank)
    ins = [x, weight] + ([bias] if bias is not None else [])
    return b.op("Conv", ins, kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
                dilations=list(layer.dilation_rate), group=group, **attrs)


def _bias(b, layer):
    return None if layer.bias is None else b.weight(layer.bias, "bias")


@converts(Conv1D, Conv2D)
def _convolution(b, layer, inputs):
    rank = layer.rank
    perm = _kernel_perm(rank)
    w = b.weight(layer.kernel, "kernel", lambda k: k.transpose(perm))
    y = _conv(b, layer, inputs, w, _bias(b, layer), layer.groups)
    return activation(b, layer.activation, to_channels_last(b, y, rank), layer)


def _depthwise_weight(b, layer):
    def rearrange(k):            # (kh, kw, c, m) -> (c·m, 1, kh, kw); output c·m + j from c
        kh, kw, c, m = k.shape
        return k.reshape(kh, kw, c * m).transpose(2, 0, 1).reshape(c * m, 1, kh, kw)
    return b.weight(layer.depthwise_kernel, "depthwise_kernel", rearrange)


@converts(DepthwiseConv2D)
def _depthwise(b, layer, inputs):
    channels = b.shape(inputs)[-1]
    y = _conv(b, layer, inputs, _depthwise_weight(b, layer), _bias(b, layer), channels)
    return activation(b, layer.activation, to_channels_last(b, y, 2), layer)


@converts(SeparableConv2D)
def _separable(b, layer, inputs):
    channels = b.shape(inputs)[-1]
    h = _conv(b, layer, inputs, _depthwise_weight(b, layer), None, channels)
    pw = b.weight(layer.pointwise_kernel, "pointwise_kernel", lambda k: k.transpose(3, 2, 0, 1))
    ins = [h, pw] + ([_bias(b, layer)] if layer.bias is not None else [])
    y = b.op("Conv", ins, kernel_shape=[1, 1])
    return activation(b, layer.activation, to_channels_last(b, y, 2), layer)


@converts(Conv1DTranspose, Conv2DTranspose)
def _conv_transpose(b, layer, inputs):
    rank = layer.rank
    shape = b.shape(inputs)
    if any(d is None for d in shape[1:1 + rank]):
        unsupported(layer, f"its input's spatial size is unknown ({shape}); a transposed "
                    "convolution exports for a known size (give the Input its full shape).")
    out_hw, _, pads, _ = layer._geometry(shape if rank == 2 else (shape[0], shape[1]))
    out_sizes = list(out_hw)[-rank:]
    befores = list(pads[0::2])[-rank:]            # pads: (top, bottom, left, right)
    begin, end, extra = [], [], []
    for n, o, k, s, d, lo in zip(shape[1:1 + rank], out_sizes, layer.kernel_size, layer.strides,
                                 layer.dilation_rate, befores):
        # ONNX: out = s·(n - 1) + output_padding + k_eff - begin - end; the rows past what the
        # kernel reaches (kerasnp's output_padding) come from ONNX's output_padding.
        full = s * (n - 1) + (k - 1) * d + 1
        cut = full - lo - o
        begin.append(lo)
        end.append(max(cut, 0))
        extra.append(max(-cut, 0))
    perm = _kernel_perm(rank)         # Keras (k.., out, in) -> ONNX (in, out, k..): same perm
    w = b.weight(layer.kernel, "kernel", lambda k: k.transpose(perm))
    x = to_channels_first(b, inputs, rank)
    ins = [x, w] + ([_bias(b, layer)] if layer.bias is not None else [])
    y = b.op("ConvTranspose", ins, kernel_shape=list(layer.kernel_size),
             strides=list(layer.strides), dilations=list(layer.dilation_rate),
             pads=begin + end, output_padding=extra if any(extra) else None)
    return activation(b, layer.activation, to_channels_last(b, y, rank), layer)
