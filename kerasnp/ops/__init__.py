"""`kerasnp.ops`: Keras 3's ops namespace over NumPy, differentiable on `kerasnp.GradientTape`.

Write custom layers, losses and metrics with these (`from kerasnp import ops`); each op has a
vector-Jacobian product, so `tape.gradient` differentiates any composition of them. Outside a
tape they are plain NumPy calls. `ops.nn` holds the neural-network ops.
"""
from ._dispatch import OPS
from .core import *  # noqa: F401,F403
from .core import __all__ as _core_all
from . import nn  # noqa: F401
