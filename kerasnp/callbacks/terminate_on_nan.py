"""TerminateOnNaN: stop training, without an error, when the loss becomes NaN or infinite."""
import math

import numpy as np

from ._common import say
from .base import Callback


class TerminateOnNaN(Callback):
    """End training quietly when the loss becomes NaN or infinite.

    Without this callback `fit` raises `kerasnp.errors.NonFiniteLossError`; with it, `fit` prints
    the epoch and batch and returns, keeping the weights from before the bad batch (the same for
    an optimizer update that would have made the weights non-finite). As in Keras, the stopped
    epoch still ends: validation runs, callbacks get `on_epoch_end`, and the `History` records
    it with its non-finite loss (NaN for a refused update). While it is active or not, `ModelCheckpoint` and `BackupAndRestore` check that the weights are finite
    before writing, so no checkpoint ever holds NaN or inf weights.

    Example:
        >>> import kerasnp as keras
        >>> keras.callbacks.TerminateOnNaN().stops_on_nan
        True
    """

    stops_on_nan = True        # read by the training loop

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and np.size(loss) == 1 and not math.isfinite(float(loss)):
            say(f"Batch {batch}: invalid loss, terminating training")
            self.model.stop_training = True
