"""`kerasnp.ops.nn`: neural-network ops (Keras 3's `keras.ops.nn` names).

The ops live in topic modules; this module only gathers them:
- `_fused`: dense + activation and activation nodes for the built-in layers, penalties;
- `_nn_math`: activations, softmax family, one_hot, moments, normalization, losses;
- `_nn_conv`: conv, depthwise/separable/transposed conv, max/average pooling;
- `_attention`: `dot_product_attention` (MultiHeadAttention's fused core);
- `_nn_act_extra`, `_nn_norm_extra`, `_nn_pool_extra`: glu, sparsemax and the other newer
  activations, layer/rms normalization, psnr, multi_hot, depth/space, adaptive pools, fold;
- `_ctc`: `ctc_loss`, `ctc_decode`.
"""
from ._fused import apply_activation, dense, regularizer_penalty  # noqa: F401
from ._nn_math import *  # noqa: F401,F403
from ._nn_conv import *  # noqa: F401,F403
from ._attention import *  # noqa: F401,F403
from ._nn_act_extra import *  # noqa: F401,F403
from ._nn_norm_extra import *  # noqa: F401,F403
from ._nn_pool_extra import *  # noqa: F401,F403
from ._ctc import *  # noqa: F401,F403
