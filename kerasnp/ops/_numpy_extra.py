"""NumPy-like ops beyond the first set (Keras 3 names), with their VJPs: re-exported by kerasnp.ops.

Topic modules: `_np_math` (element-wise math), `_np_bitwise` (integer ops), `_np_windows`
(signal windows), `_np_arrange` (stacks, splits, flips: elements moved or copied),
`_np_rearrange` (einops patterns), `_np_linear` (differences, products, distances), `_np_nan`
(NaN-ignoring reductions and scans), `_np_quantile` (quantiles, medians), `_np_create`
(creation, copies, dtypes), `_np_search` (searching, counting, selecting), `_np_segment`
(segment reductions, scatters); their helpers live in `_np_common` and `_np_special`.
"""
from . import (_np_arrange, _np_bitwise, _np_create, _np_linear, _np_math, _np_nan,
               _np_quantile, _np_rearrange, _np_search, _np_segment, _np_windows)
from ._np_arrange import *  # noqa: F401,F403
from ._np_bitwise import *  # noqa: F401,F403
from ._np_create import *  # noqa: F401,F403
from ._np_linear import *  # noqa: F401,F403
from ._np_math import *  # noqa: F401,F403
from ._np_nan import *  # noqa: F401,F403
from ._np_quantile import *  # noqa: F401,F403
from ._np_rearrange import *  # noqa: F401,F403
from ._np_search import *  # noqa: F401,F403
from ._np_segment import *  # noqa: F401,F403
from ._np_windows import *  # noqa: F401,F403

_PARTS = (_np_arrange, _np_bitwise, _np_create, _np_linear, _np_math, _np_nan, _np_quantile,
          _np_rearrange, _np_search, _np_segment, _np_windows)
__all__ = sorted(name for m in _PARTS for name in m.__all__)
