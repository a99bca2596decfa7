"""How `Layer.__call__` reads a call: symbolic or concrete arguments, the build shape, what
`call` accepts (cached per class), and which layers are leaves (see `Layer._call_fast`)."""
import inspect

import numpy as np

from ..autodiff.tape import Tensor, unwrap
from ..ops._dispatch import SymbolicTensor


_CONCRETE = (np.ndarray, Tensor)
_BUILTIN = {}


def _is_leaf_class(cls):
    """Whether `cls` is a built-in layer class (defined in kerasnp.layers): with no sublayers
    and no activity regularizer, its call runs ops only."""
    builtin = _BUILTIN.get(cls)
    if builtin is None:
        builtin = _BUILTIN[cls] = cls.__module__.startswith("kerasnp.layers.")
    return builtin


def _has_symbolic(args, kwargs):
    for a in args:
        if isinstance(a, SymbolicTensor):
            return True
        if isinstance(a, (list, tuple)) and a and any(isinstance(b, SymbolicTensor) for b in a):
            return True
        if isinstance(a, dict) and any(isinstance(b, SymbolicTensor) for b in a.values()):
            return True
    return any(isinstance(v, SymbolicTensor) for v in kwargs.values())


def _shape_of(inputs):
    """Build shape of a call's inputs (batch axis None): a tuple, or a list for several."""
    if isinstance(inputs, (list, tuple)):
        return [(None,) + tuple(np.shape(unwrap(a)))[1:] for a in inputs]
    if isinstance(inputs, dict):
        return [(None,) + tuple(np.shape(unwrap(a)))[1:] for a in inputs.values()]
    return (None,) + tuple(np.shape(unwrap(inputs)))[1:]


class _Signature:
    __slots__ = ("training", "mask", "var_kw", "positional_extra", "mask_args", "names")


_SIGNATURES = {}


def _call_signature(cls):
    """What `cls.call` accepts (cached per class)."""
    sig = _SIGNATURES.get(cls)
    if sig is None:
        sig = _Signature()
        params = inspect.signature(cls.call).parameters
        kinds = [p.kind for p in params.values()]
        sig.var_kw = inspect.Parameter.VAR_KEYWORD in kinds
        sig.training = "training" in params or sig.var_kw
        sig.mask = "mask" in params
        # `query_mask` beside `query`: the engine fills it with the mask of `query` (Keras 3)
        sig.mask_args = tuple((name[:-5], name) for name in params
                              if name.endswith("_mask") and name[:-5] in params)
        sig.names = [p.name for p in list(params.values())[1:]
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        positional = [p for p in list(params.values())[1:]
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                      and p.name not in ("training", "mask")]
        sig.positional_extra = (len(positional) > 1
                                or inspect.Parameter.VAR_POSITIONAL in kinds)
        _SIGNATURES[cls] = sig
    return sig


def _build_params(cls):
    try:
        params = list(inspect.signature(cls.build).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    return [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.default is p.empty]
