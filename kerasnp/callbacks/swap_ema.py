"""SwapEMAWeights: evaluate and save with the optimizer's exponential moving averages of the
weights."""
from .base import Callback

__all__ = ["SwapEMAWeights"]


class SwapEMAWeights(Callback):
    """Puts the optimizer's moving averages (`use_ema=True`) into the model for evaluation and
    prediction, and back out for training.

    During `evaluate`, `predict` and the validation inside `fit`, the model holds the averages;
    the trained values come back when they end. With `swap_on_epoch=True` the averages are also
    in the model from the end of each epoch to the start of the next, so callbacks that save
    (ModelCheckpoint) save them; at the end of the last epoch the model keeps them.

    Args:
        swap_on_epoch: also swap at epoch ends (see above).

    Example:
        >>> import kerasnp
        >>> model = kerasnp.Sequential([kerasnp.layers.Input((2,)), kerasnp.layers.Dense(1)])
        >>> model.compile(optimizer=kerasnp.optimizers.Adam(use_ema=True), loss="mse")
        >>> cb = SwapEMAWeights(swap_on_epoch=True)
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        if not isinstance(swap_on_epoch, bool):
            raise TypeError("SwapEMAWeights: argument `swap_on_epoch` must be a bool. "
                            f"Received: swap_on_epoch={swap_on_epoch!r}")
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def get_state(self):
        """Whether the model holds the averages (kept by `BackupAndRestore`: a run resumed
        after an epoch end with `swap_on_epoch` swaps the trained values back in)."""
        return {"ema_weights_in_model": self._ema_weights_in_model}

    def set_state(self, state):
        self._ema_weights_in_model = bool(state.get("ema_weights_in_model", False))

    def _optimizer(self):
        opt = getattr(self.model, "optimizer", None)
        if opt is None or not getattr(opt, "use_ema", False):
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the "
                             f"optimizer. Received: use_ema={getattr(opt, 'use_ema', None)}")
        return opt

    def _swap(self, into_model):
        if self._ema_weights_in_model != into_model:
            self._optimizer()._swap_ema(self.model.trainable_weights)
            self._ema_weights_in_model = into_model

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap(False)

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap(True)
            if epoch == self.params.get("epochs", 0) - 1:
                # The model keeps the averages after the last epoch: make the averages equal
                # to them, so the optimizer's end-of-training finalize leaves them in place.
                self._optimizer()._ema_from_weights(self.model.trainable_weights)

    def on_test_begin(self, logs=None):
        self._swap(True)

    def on_test_end(self, logs=None):
        self._swap(False)

    def on_predict_begin(self, logs=None):
        self._swap(True)

    def on_predict_end(self, logs=None):
        self._swap(False)
