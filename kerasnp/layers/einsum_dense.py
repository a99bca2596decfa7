"""EinsumDense: a dense layer whose product is any einsum equation of the input and a kernel."""
import re

from .. import _validate, activations
from ..ops._arith import add
from ..ops._fused import apply_activation
from ..ops._linalg import einsum
from .base import Layer, _serialize_attrs, register
from .core import KERNEL_BIAS_ARGS, set_kernel_bias_args

_PLAIN = re.compile(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$")
_LEFT = re.compile(r"^\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$")
_RIGHT = re.compile(r"^([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]{2,})\.\.\.$")


def _parse(equation, owner):
    """`(input, weight, output specs, elided side)` of an EinsumDense equation."""
    eq = equation.replace(" ", "") if isinstance(equation, str) else equation
    for pattern, side in ((_PLAIN, None), (_LEFT, "left"), (_RIGHT, "right")):
        found = pattern.match(eq) if isinstance(eq, str) else None
        if found:
            return (*found.groups(), side)
    raise ValueError(f"{_validate.describe(owner)}: invalid equation. Expected "
                     "'<input>,<weight>-><output>' with letters, optionally with '...' at the "
                     "start of input and output (or at their end), e.g. 'ab,bc->ac' or "
                     f"'...b,bc->...c'. Received: equation={equation!r}")


def _shapes(owner, input_shape, partial):
    """Kernel shape, bias shape (or None) and full output shape for `input_shape`.

    `partial` is the layer's `output_shape` (without the batch axis); axes elided by `...` take
    the input's sizes, and `None` entries the sizes of the input axes with the same letter.
    """
    ins, ws, outs, side = owner._spec
    where = f"{_validate.describe(owner)} (equation {owner.equation!r}, input {input_shape})"
    elided = len(input_shape) - len(ins)
    if elided < 0 or (elided and side is None):
        raise ValueError(f"{where}: the input must have {len(ins)} axes"
                         f"{' or more' if side else ''}.")
    out = [input_shape[0]] + list(partial)
    if side == "left":
        out[1:1] = input_shape[1:elided]
        in_at = {d: elided + i for i, d in enumerate(ins)}
        out_at = {d: elided + i for i, d in enumerate(outs)}
    else:
        if side == "right":
            out += list(input_shape[len(ins):])
        in_at = {d: i for i, d in enumerate(ins)}
        out_at = {d: i for i, d in enumerate(outs)}
    if len(out) != len(outs) + (elided if side else 0):
        raise ValueError(f"{where}: output_shape {tuple(partial)} must give the "
                         f"{len(outs) - 1} non-batch axes of '{outs}'.")
    for d, i in in_at.items():
        if d in out_at:
            j = out_at[d]
            if out[j] is not None and input_shape[i] is not None and out[j] != input_shape[i]:
                raise ValueError(f"{where}: input and output shape differ at the shared axis "
                                 f"'{d}' ({input_shape[i]} vs {out[j]}).")
            if out[j] is None:
                out[j] = input_shape[i]
    for d in outs:
        if d not in ins and d not in ws:
            raise ValueError(f"{where}: output axis '{d}' appears in neither the input nor "
                             "the weight spec.")
    kernel = []
    for d in ws:
        size = (input_shape[in_at[d]] if d in in_at else
                out[out_at[d]] if d in out_at else None)
        if size is None:
            raise ValueError(f"{where}: weight axis '{d}' needs a known size from the input or "
                             "output_shape.")
        kernel.append(size)
    bias = None
    if owner.bias_axes is not None:
        bad = [c for c in owner.bias_axes if c not in outs]
        if bad:
            raise ValueError(f"{where}: bias axes {bad} are not in the output spec '{outs}'. "
                             f"Received: bias_axes={owner.bias_axes!r}")
        first = min(outs.index(c) for c in owner.bias_axes)
        bias = [out[out_at[c]] if c in owner.bias_axes else 1 for c in outs[first:]]
        if side == "right":
            bias += [1] * elided
    return tuple(kernel), None if bias is None else tuple(bias), tuple(out)


@register
class EinsumDense(Layer):
    """`activation(einsum(equation, inputs, kernel) + bias)`: a Dense over any axes.

    Args:
        equation: `'<input>,<weight>-><output>'` in einsum letters, the first letter being the
            batch axis; `'...'` may stand for leading (`'...b,bc->...c'`) or trailing axes.
        output_shape: int or tuple, the output shape without the batch axis (and without the
            axes under `...`); `None` entries take the size of the input axis of the same letter.
        activation: name, callable or None.
        bias_axes: letters of the output that carry a bias (e.g. `'c'`), or None for no bias.
        kernel_initializer, bias_initializer, *_regularizer, *_constraint: as for Dense.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> layer = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 4, 8),
        ...                                  bias_axes="de")
        >>> layer(np.ones((2, 7, 16))).shape, layer.kernel.shape, layer.bias.shape
        ((2, 7, 4, 8), (16, 4, 8), (4, 8))
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None, **kwargs):
        unsupported = {key: kwargs.pop(key, None) for key in ("gptq_unpacked_column_size",
                                                              "quantization_config")}
        super().__init__(**kwargs)
        unsupported.update(lora_rank=lora_rank)
        for key, given in unsupported.items():
            if given is not None:       # LoRA and quantization are not offered by kerasnp
                raise ValueError(f"{_validate.describe(self)}: `{key}` is not supported by "
                                 f"kerasnp and must be None. Received: {key}={given!r}")
        self.equation = equation
        self._spec = _parse(equation, self)
        partial = [output_shape] if not isinstance(output_shape, (list, tuple)) else output_shape
        if any(d is not None and (isinstance(d, bool) or not isinstance(d, int) or d <= 0)
               for d in partial):
            raise ValueError(f"{_validate.describe(self)}: output_shape must be a positive int "
                             f"or a tuple of positive ints or None. Received: output_shape="
                             f"{output_shape!r}")
        self.partial_output_shape = tuple(partial)
        if bias_axes is not None and not isinstance(bias_axes, str):
            raise TypeError(f"{_validate.describe(self)}: bias_axes must be a string of output "
                            f"letters or None. Received: bias_axes={bias_axes!r}")
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        set_kernel_bias_args(self, bias_axes is not None, kernel_initializer, bias_initializer,
                             kernel_regularizer, bias_regularizer, kernel_constraint,
                             bias_constraint)

    def build(self, input_shape):
        kernel, bias, self.full_output_shape = _shapes(self, input_shape,
                                                       self.partial_output_shape)
        self.kernel = self.add_weight(shape=kernel, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = (self.add_weight(shape=bias, initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint, name="bias")
                     if bias is not None else None)
        self.built = True

    def compute_output_shape(self, input_shape):
        return _shapes(self, input_shape, self.partial_output_shape)[2]

    def call(self, inputs):
        y = einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            y = add(y, self.bias)
        return apply_activation(self.activation, y)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(output_shape=list(self.partial_output_shape), equation=self.equation,
                   activation=activations.serialize(self.activation), bias_axes=self.bias_axes,
                   **_serialize_attrs(self, *KERNEL_BIAS_ARGS))
        return cfg
