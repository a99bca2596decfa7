"""Neural-network, linear-algebra, FFT and functional control-flow ops beyond the first set
(Keras 3 names), with their VJPs: re-exported by kerasnp.ops. The ops live in topic modules:
`_linalg_extra` (inverses, determinants, solvers), `_decomp_extra` (decompositions),
`_nn_act_extra` (activations), `_nn_norm_extra` (normalisations, psnr, multi_hot),
`_nn_pool_extra` (depth/space, adaptive pools, fold/unfold), `_fft_extra`, `_control_extra`
(map, scan, associative_scan, vectorize, custom_gradient), `_jvp_extra`."""
from ._linalg_extra import *  # noqa: F401,F403
from ._decomp_extra import *  # noqa: F401,F403
from ._nn_act_extra import *  # noqa: F401,F403
from ._nn_norm_extra import *  # noqa: F401,F403
from ._nn_pool_extra import *  # noqa: F401,F403
from ._fft_extra import *  # noqa: F401,F403
from ._control_extra import *  # noqa: F401,F403
from ._jvp_extra import *  # noqa: F401,F403
from . import (_control_extra, _jvp_extra, _decomp_extra, _fft_extra, _linalg_extra, _nn_act_extra,
               _nn_norm_extra, _nn_pool_extra)

NN_EXTRA = sorted(_nn_act_extra.__all__ + _nn_norm_extra.__all__ + _nn_pool_extra.__all__)
__all__ = sorted(_linalg_extra.__all__ + _decomp_extra.__all__ + NN_EXTRA + _fft_extra.__all__
                 + _control_extra.__all__ + _jvp_extra.__all__)
