"""The CTC loss (`losses.CTC`, `losses.ctc`) over `ops.ctc_loss`, with Keras's conventions."""
import numpy as np

from .. import config, ops
from ..autodiff.tape import unwrap
from .base import Loss, registry


def ctc(y_true, y_pred):
    """Per-sequence CTC loss with Keras's conventions: blank class 0, `y_true` `(batch,
    max_label_length)` integer labels padded with 0 (the label length is the count of non-zero
    entries), `y_pred` logits `(batch, time, classes)`, every time step valid.

    Example:
        >>> round(float(ctc([[1, 2]], np.zeros((1, 3, 3)))[0]), 4)
        1.6864
    """
    t = np.asarray(unwrap(y_true))
    shape = np.shape(unwrap(y_pred))
    if t.ndim != 2:
        raise ValueError("ctc: `y_true` must be integer labels of shape (batch_size, "
                         f"max_length). Received: y_true.shape={t.shape}")
    if len(shape) != 3:
        raise ValueError("ctc: `y_pred` must be logits of shape (batch_size, max_length, "
                         f"num_classes). Received: y_pred.shape={shape}")
    t = t.astype(np.int64)
    label_length = (t != 0).sum(axis=-1)
    input_length = np.full((shape[0],), shape[1], dtype=np.int64)
    return ops.ctc_loss(t, y_pred, label_length, input_length, mask_index=0)


@registry.register("CTC", "ctc")
class CTC(Loss):
    """Connectionist temporal classification loss for unsegmented sequence labelling (speech,
    handwriting): see `ctc` for the conventions.

    Example:
        >>> round(CTC()([[1, 2]], np.zeros((1, 3, 3))), 4)
        1.6864
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return ctc(y_true, y_pred)

    def check_targets(self, y_true, output_shape):
        y = np.asarray(y_true)
        if y.ndim != 2 or not (np.issubdtype(y.dtype, np.integer)
                               or np.all(np.mod(y, 1) == 0)):
            raise ValueError(f"{self._who()} expects integer labels of shape (n, "
                             f"max_label_length), 0 being the blank/padding. Received: "
                             f"y_true.shape={y.shape}, dtype={y.dtype}")
        return y.astype(self.dtype or config.floatx(), copy=False)
