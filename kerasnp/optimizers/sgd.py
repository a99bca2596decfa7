"""Stochastic gradient descent, with optional (Nesterov) momentum."""
from kerasnp import _validate as validate
from kerasnp.optimizers.base import Optimizer, registry


@registry.register("sgd", "SGD")
class SGD(Optimizer):
    """Gradient descent with momentum.

    Update (Keras 3): without momentum `w -= lr * g`; with it `m = momentum * m - lr * g`, then
    `w += m`, or `w += momentum * m - lr * g` when `nesterov`.

    Args:
        learning_rate: float, schedule or callable (default 0.01).
        momentum: float in [0, 1], accelerates descent along consistent directions.
        nesterov: whether to apply Nesterov momentum.
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `name`
            (see `Optimizer`).

    Example:
        >>> opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    """

    _default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = validate.number(momentum, "momentum", self, low=0.0, high=1.0)
        self.nesterov = validate.boolean(nesterov, "nesterov", self)

    def _update_slot_names(self):
        return ("momentum",) if self.momentum else ()

    def _variant(self):
        if not self.momentum:
            return "sgd"
        return "sgd_nesterov" if self.nesterov else "sgd_momentum"

    def _hyper(self, lr, step):
        return (lr, self.momentum) if self.momentum else (lr,)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
