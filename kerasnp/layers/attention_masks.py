"""Attention masks as Keras 3 combines them, with errors that name the layer and both shapes.

MultiHeadAttention's mask is the AND of: the query's mask on rows `(B, T, 1)`, the value's and
the key's masks on columns `(B, 1, S)`, the causal mask `(1, T, S)` and the given
`attention_mask` (`(B, T, S)` or anything that broadcasts); it is then expanded, right before
its attention axes, to the rank of the scores (the heads' axis), as Keras does.
"""
import numpy as np

from .. import _validate
from ..ops._dispatch import value


def _bool(mask, name, expected, layer):
    m = np.asarray(value(mask))
    if m.shape != tuple(expected):
        raise ValueError(f"{_validate.describe(layer)} expected `{name}` of shape "
                         f"{tuple(expected)} (batch, steps) with True for the steps to use. "
                         f"Received: "
                         f"{name}.shape={m.shape}")
    return m.astype(bool, copy=False)


def causal_mask(t, s):
    """`(1, T, S)`: position i attends to positions j <= i."""
    return np.tril(np.ones((t, s), dtype=bool))[None]


def combine(layer, q_shape, v_shape, query_mask=None, value_mask=None, key_mask=None,
            attention_mask=None, use_causal_mask=False):
    """The boolean attention mask `(B or 1, T, S)` (or the broadcastable `attention_mask` given),
    or None when nothing is masked. `q_shape`/`v_shape` are the query's and value's shapes."""
    auto = None
    rows, cols = tuple(q_shape[:2]), (v_shape[0], v_shape[1])
    if query_mask is not None:
        auto = _bool(query_mask, "query_mask", rows, layer)[:, :, None]
    for name, m in (("value_mask", value_mask), ("key_mask", key_mask)):
        if m is not None:
            m = _bool(m, name, cols, layer)[:, None, :]
            auto = m if auto is None else auto & m
    if use_causal_mask:
        m = causal_mask(q_shape[1], v_shape[1])
        auto = m if auto is None else auto & m
    if attention_mask is not None:
        given = np.asarray(value(attention_mask)).astype(bool, copy=False)
        return given if auto is None else _and(layer, given, auto, rows + (v_shape[1],))
    return auto


def _and(layer, given, auto, expected):
    try:
        return given & auto
    except ValueError:
        raise ValueError(f"{_validate.describe(layer)} expected `attention_mask` broadcastable "
                         f"to {expected} (batch, query steps, key steps). Received: "
                         f"attention_mask.shape={given.shape}") from None


def expand(layer, mask, scores_shape, n_axes, expected):
    """Insert axes right before the attention axes of `mask` until it has the scores' rank
    (Keras's rule: the heads' axis, then the other batch axes), and check that it broadcasts."""
    if mask.ndim > len(scores_shape):
        _fail(layer, mask, expected, scores_shape)
    at = mask.ndim - 2 * n_axes
    if at < 0:
        _fail(layer, mask, expected, scores_shape)
    full = mask.reshape(mask.shape[:at] + (1,) * (len(scores_shape) - mask.ndim)
                        + mask.shape[at:])
    try:
        fits = np.broadcast_shapes(full.shape, scores_shape) == tuple(scores_shape)
    except ValueError:
        fits = False
    if not fits:
        _fail(layer, mask, expected, scores_shape)
    return full


def _fail(layer, mask, expected, scores_shape):
    raise ValueError(f"{_validate.describe(layer)} expected an attention mask broadcastable to "
                     f"{tuple(expected)} (batch, query steps, key steps; the scores have shape "
                     f"{tuple(scores_shape)}). Received: attention_mask.shape={mask.shape}")


def dropout_keep(layer, q, scores_shape, training):
    """The inverted-dropout multiplier on the attention probabilities (0 or `1 / (1 - rate)`,
    in `q`'s float type, at least float32), or None outside training or without dropout."""
    if not (training and layer.dropout > 0.0):
        return None
    dt = np.result_type(value(q).dtype, np.float32)
    return (layer._rng.random(scores_shape, dtype=np.float32) >= layer.dropout) \
        .astype(dt) * dt.type(1.0 / (1.0 - layer.dropout))


def query_mask(previous_mask):
    """The output's mask of an attention layer: the query's (the first of the inputs' masks)."""
    if isinstance(previous_mask, (list, tuple)):
        return previous_mask[0] if previous_mask else None
    return previous_mask
