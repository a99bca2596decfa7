"""The projections inside MultiHeadAttention, with Keras 3's EinsumDense weight layout.

Keras builds MultiHeadAttention from four `EinsumDense` sublayers named `query`, `key`, `value`
(kernel `(dim, heads, key_dim)`, bias `(heads, key_dim)`) and `attention_output` (kernel
`(heads, value_dim, *output_shape)`, bias `output_shape`). `_Projection` holds the same weights
under the same names, so weights move between Keras and kerasnp in `get_weights()` order, and
runs as one fused node (`ops._attention.project`: a single BLAS product).
"""
from ..ops._attention import project
from .base import Layer


class _Projection(Layer):
    """`y = x·kernel + bias`, contracting the last `in_rank` axes of `x` with the kernel's
    first ones; the output's trailing axes are `out_dims`.

    Not registered: MultiHeadAttention makes its projections in `build`, and its own config
    rebuilds them.
    """

    def __init__(self, in_rank, out_dims, use_bias, kernel_initializer, bias_initializer,
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.in_rank, self.out_dims, self.use_bias = in_rank, tuple(out_dims), use_bias
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer
        self.kernel_constraint, self.bias_constraint = kernel_constraint, bias_constraint

    def build(self, input_shape):
        in_dims = tuple(input_shape[len(input_shape) - self.in_rank:])
        self.kernel = self.add_weight(shape=in_dims + self.out_dims,
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = (self.add_weight(shape=self.out_dims, initializer=self.bias_initializer,
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint, name="bias")
                     if self.use_bias else None)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:len(input_shape) - self.in_rank]) + self.out_dims

    def call(self, inputs):
        return project(inputs, self.kernel, self.bias, self.in_rank)
