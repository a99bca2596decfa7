"""`kerasnp.ops`: Keras 3's ops namespace over NumPy, differentiable on `kerasnp.GradientTape`.

Write custom layers, losses and metrics with these (`from kerasnp import ops`); each op has a
vector-Jacobian product, so `tape.gradient` differentiates any composition of them. Outside a
tape they are plain NumPy calls. `ops.nn` holds the neural-network ops; as in Keras, its
activations, softmax family, cross-entropies, convolutions and pools are also available here
(`ops.relu`, `ops.conv`).

Topic modules: `core` (conversion, cast, shape queries), `_arith` (arithmetic, comparison,
logic), `_elementwise` (unary math), `_linalg` (matmul, dot, einsum...), `_reduce`
(reductions, scans), `_norms` (diagonals, norms), `_sorting`, `_shape`, `_indexing`, `_create`,
`_control`, `_nn_math`; the second wave gathers its modules in `_numpy_extra` (the NumPy-like
`_np_*` modules), `_nn_linalg_extra` (`_linalg_extra`, `_decomp_extra`, `_nn_act_extra`,
`_nn_norm_extra`, `_nn_pool_extra`, `_fft_extra`, `_control_extra`, `_jvp_extra`) and `_ctc`;
`image`, `linalg` and `numpy` are Keras's sub-namespaces.
"""
from ._dispatch import OPS
from .core import *  # noqa: F401,F403
from ._arith import *  # noqa: F401,F403
from ._elementwise import *  # noqa: F401,F403
from ._linalg import *  # noqa: F401,F403
from ._reduce import *  # noqa: F401,F403
from ._shape import *  # noqa: F401,F403
from ._indexing import *  # noqa: F401,F403
from ._create import *  # noqa: F401,F403
from ._control import *  # noqa: F401,F403
from ._norms import *  # noqa: F401,F403
from ._sorting import *  # noqa: F401,F403
from ._nn_math import *  # noqa: F401,F403
from ._nn_conv import *  # noqa: F401,F403
from ._attention import *  # noqa: F401,F403
from ._numpy_extra import *  # noqa: F401,F403
from ._nn_linalg_extra import *  # noqa: F401,F403
from ._ctc import *  # noqa: F401,F403
from . import nn  # noqa: F401
from . import image, linalg, numpy  # noqa: F401  (Keras's sub-namespaces)
from . import (_arith, _attention, _control, _create, _elementwise, _indexing, _linalg, _nn_conv,
               _nn_math, _norms, _reduce, _shape, _sorting, core, _numpy_extra, _nn_linalg_extra,
               _ctc)

_MODULES = (core, _arith, _elementwise, _linalg, _reduce, _shape, _indexing, _create, _control,
            _norms, _sorting, _nn_math, _nn_conv, _attention, _numpy_extra, _nn_linalg_extra,
            _ctc)
__all__ = sorted({name for m in _MODULES for name in m.__all__} | {"OPS", "nn", "image", "linalg", "numpy"})
