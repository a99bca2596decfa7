"""`kerasnp.ops.nn`: neural-network ops (Keras 3's `keras.ops.nn` names).

The ops live in topic modules; this module only gathers them:
- `_fused`: dense + activation and activation nodes for the built-in layers, penalties;
- `_nn_math`: activations, softmax family, one_hot, moments, normalization, losses;
- `_nn_conv`: conv, depthwise/separable/transposed conv, max/average pooling;
- `_attention`: `dot_product_attention` (MultiHeadAttention's fused core).
"""
from ._fused import apply_activation, dense, regularizer_penalty  # noqa: F401
from ._nn_math import *  # noqa: F401,F403
from ._nn_conv import *  # noqa: F401,F403
from ._attention import *  # noqa: F401,F403
