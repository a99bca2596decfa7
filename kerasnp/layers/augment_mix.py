"""Batch-mixing augmentations (Keras 3's draws), in training only: MixUp and CutMix.

Both pair each image with another image of the same batch (a random permutation) and, given a
dict `{"images": ..., "labels": ...}`, mix the labels with the same weights (Keras's contract
for these two layers); plain image batches come back mixed. Both are written with ops, so a
tape differentiates them.
"""
import numbers

import numpy as np

from .. import _validate, ops
from ..autodiff.tape import record
from ..ops._dispatch import value
from .augment_base import ColorLayer
from .base import register
from .preprocessing import float_call_input


class _MixLayer(ColorLayer):
    """Shared call: subclasses' `_mix(t, x, n)` returns the mixed images, each image's own
    share `w` and the permutation; dict inputs get `labels` mixed as `w·l + (1 - w)·l[perm]`."""

    _bounds, _rgb = (0.0, 1.0), False

    def build(self, input_shape):
        if input_shape and isinstance(input_shape[0], (tuple, list)):
            return                   # a dict of images and labels: checked in call
        super().build(input_shape)

    def call(self, inputs, training=None):
        is_dict = isinstance(inputs, dict)
        if is_dict and "images" not in inputs:
            raise ValueError(f"{_validate.describe(self)}: a dict input needs an 'images' key "
                             f"(and optionally 'labels'). Received keys: {sorted(inputs)}")
        if not training:
            return inputs
        images = inputs["images"] if is_dict else inputs
        x, src = float_call_input(self, images)
        y, share, perm = self._mix(record(x, lambda dy: dy, src), x, len(x))
        if not is_dict:
            return y
        out = dict(inputs, images=y)
        if "labels" in inputs:
            labels = inputs["labels"]
            lv = value(labels)
            dt = lv.dtype if lv.dtype.kind == "f" else np.dtype(self.dtype or "float32")
            w = np.asarray(share, dt).reshape((-1,) + (1,) * (lv.ndim - 1))
            if lv.dtype.kind != "f":
                labels = lv.astype(dt)
            out["labels"] = w * labels + (1.0 - w) * ops.take(labels, perm, axis=0)
        return out

    def compute_output_shape(self, input_shape):
        return input_shape


@register
class MixUp(_MixLayer):
    """Blends each image with another image of the batch: `y = λ x + (1 - λ) x[perm]`, with
    `λ ~ Beta(alpha, alpha)` per image.

    Args:
        alpha: positive float, the Beta distribution's parameter. Defaults to 0.2.
        data_format: None or `"channels_last"`.
        seed: optional int seed for this layer's generator.

    Input shape: `(batch, rows, cols, channels)`, or a dict with `"images"` and `"labels"`
    (labels are mixed with the same weights).  Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> mix = keras.layers.MixUp(alpha=1.0, seed=0)
        >>> out = mix({"images": np.stack([np.zeros((2, 2, 1)), np.ones((2, 2, 1))]),
        ...            "labels": np.eye(2)}, training=True)
        >>> images, labels = out["images"], out["labels"]
        >>> bool(np.allclose(images[:, 0, 0, 0], labels[:, 1]))
        True
    """

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(0.0, seed=seed, data_format=data_format, **kwargs)
        if not (isinstance(alpha, numbers.Real) and not isinstance(alpha, bool) and alpha > 0):
            raise ValueError(f"{_validate.describe(self)}: argument `alpha` must be a positive "
                             f"number. Received: alpha={alpha!r}")
        self.alpha = alpha

    def _mix(self, t, x, n):
        perm = self._rng.permutation(n)
        lam = self._rng.beta(self.alpha, self.alpha, size=n)
        w = lam.astype(x.dtype).reshape(-1, 1, 1, 1)
        return w * t + (1.0 - w) * ops.take(t, perm, axis=0), lam, perm

    def get_config(self):
        cfg = super().get_config()
        for key in ("factor", "value_range"):
            del cfg[key]
        cfg["alpha"] = self.alpha
        return cfg


@register
class CutMix(_MixLayer):
    """Pastes a random rectangle of another image of the batch into each image. A weight
    `λ ~ Beta(a, a)` per image (`a` drawn once per call in the factor range) sets the
    rectangle's sides to `sqrt(1 - λ)` of the image's; labels are mixed by the pasted area.

    Args:
        factor: a number `f` in [0, 1] (`a` drawn in `[0, f]`) or a pair in [0, 1].
            Defaults to 1.0.
        seed: optional int seed for this layer's generator.
        data_format: None or `"channels_last"`.

    Input shape: `(batch, rows, cols, channels)`, or a dict with `"images"` and `"labels"`.
    Output shape: same as input.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> cut = keras.layers.CutMix(seed=1)
        >>> x = np.stack([np.zeros((8, 8, 1)), np.ones((8, 8, 1))])
        >>> out = cut({"images": x, "labels": np.eye(2)}, training=True)
        >>> out["images"].shape, out["labels"].sum(axis=1)        # labels still sum to 1
        ((2, 8, 8, 1), array([1., 1.]))
    """

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(factor, seed=seed, data_format=data_format, **kwargs)

    def _mix(self, t, x, n):
        _, h, w, _ = x.shape
        a = self._rng.uniform(*self.factor) + 1e-6
        ratio = np.sqrt(1.0 - self._rng.beta(a, a, size=n))
        bounds = []
        for size in (w, h):
            length = ratio * size
            start = self._rng.random(n) * (size - length)
            bounds.append((start, start + length))
        (x0, x1), (y0, y1) = bounds
        perm = self._rng.permutation(n)
        cols, rows = np.arange(w)[None, None, :], np.arange(h)[None, :, None]
        box = ((cols >= x0[:, None, None]) & (cols < x1[:, None, None])
               & (rows >= y0[:, None, None]) & (rows < y1[:, None, None]))
        share = 1.0 - (x1 - x0) * (y1 - y0) / (w * h)                # Keras: the box's area
        return ops.where(box[..., None], ops.take(t, perm, axis=0), t), share, perm

    def get_config(self):
        cfg = super().get_config()
        del cfg["value_range"]
        return cfg
