"""Neural-network, linear-algebra, FFT and functional control-flow ops beyond the first set
(Keras 3 names), with their VJPs: re-exported by kerasnp.ops. The ops live in topic modules:
`_linalg_extra` (inverses, determinants, solvers), `_decomp_extra` (decompositions)."""
from ._linalg_extra import *  # noqa: F401,F403
from ._linalg_extra import __all__ as _linalg_all
from ._decomp_extra import *  # noqa: F401,F403
from ._decomp_extra import __all__ as _decomp_all

__all__ = sorted(_linalg_all + _decomp_all)
