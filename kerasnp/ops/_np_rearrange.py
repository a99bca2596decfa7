"""`rearrange`: einops-style reshapes and transposes from a pattern such as
`"b (h w) c -> b h w c"`, as Keras's op reads them (named axes and parenthesised groups; no
ellipsis, no unit axes). One node: the VJP is the inverse reshape and transpose."""
import re

import numpy as np

from ._dispatch import op, value
from ._np_common import remap

_TOKEN = re.compile(r"\(|\)|[A-Za-z_][A-Za-z0-9_]*|\S")


def _groups(side, pattern):
    """`"b (h w) c"` -> `[["b"], ["h", "w"], ["c"]]`."""
    out, group = [], None
    for tok in _TOKEN.findall(side):
        if tok == "(":
            if group is not None:
                raise ValueError(f"rearrange: nested parentheses. Received: pattern={pattern!r}")
            group = []
        elif tok == ")":
            if group is None:
                raise ValueError(f"rearrange: unbalanced ')'. Received: pattern={pattern!r}")
            out.append(group)
            group = None
        elif tok[0].isalpha() or tok[0] == "_":
            if group is None:
                out.append([tok])
            else:
                group.append(tok)
        else:
            raise ValueError(f"rearrange supports named axes and (groups) only, not {tok!r}. "
                             f"Received: pattern={pattern!r}")
    if group is not None:
        raise ValueError(f"rearrange: unbalanced '('. Received: pattern={pattern!r}")
    return out


def _plan(shape, pattern, lengths):
    if pattern.count("->") != 1:
        raise ValueError(f"rearrange: the pattern needs one '->'. Received: pattern={pattern!r}")
    left, right = (_groups(s, pattern) for s in pattern.split("->"))
    names_l = [n for g in left for n in g]
    names_r = [n for g in right for n in g]
    if sorted(names_l) != sorted(names_r) or len(set(names_l)) != len(names_l):
        raise ValueError("rearrange: both sides must name the same axes, each once. Received: "
                         f"pattern={pattern!r}")
    if len(left) != len(shape):
        raise ValueError(f"rearrange: the left side has {len(left)} axes but the input has "
                         f"rank {len(shape)} (shape {tuple(shape)}). Received: pattern="
                         f"{pattern!r}")
    sizes = {k: int(v) for k, v in lengths.items()}
    for g, n in zip(left, shape):
        unknown = [a for a in g if a not in sizes]
        known = int(np.prod([sizes[a] for a in g if a in sizes]))
        if len(unknown) > 1:
            raise ValueError(f"rearrange: give the lengths of all but one of {g}. Received: "
                             f"axes_lengths={lengths}")
        if unknown:
            if known == 0 or n % known:
                raise ValueError(f"rearrange: axis of size {n} cannot be split as {g} with "
                                 f"axes_lengths={lengths}")
            sizes[unknown[0]] = n // known
        elif known != n:
            raise ValueError(f"rearrange: axis of size {n} does not match {g} = {known}. "
                             f"Received: axes_lengths={lengths}")
    flat = [sizes[a] for a in names_l]
    perm = [names_l.index(a) for a in names_r]
    out = [int(np.prod([sizes[a] for a in g])) for g in right]
    return flat, perm, out


@op
def rearrange(tensor, pattern, **axes_lengths):
    """Reshape and transpose `tensor` as `pattern` says (einops notation).

    Args:
        tensor: the input.
        pattern: `"<left> -> <right>"`, each side a list of axis names, parentheses grouping
            axes merged into one.
        **axes_lengths: sizes of axes the left side splits (all but one per group).

    Example:
        >>> ops.rearrange(np.zeros((2, 3, 4)), "b h w -> b (w h)").shape
        (2, 12)
    """
    flat, perm, out = _plan(np.shape(value(tensor)), pattern, axes_lengths)
    return remap(lambda v: np.reshape(np.transpose(np.reshape(v, flat), perm), out), tensor)


__all__ = ["rearrange"]
