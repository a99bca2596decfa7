"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""
from kerasnp import _validate as validate
from kerasnp.optimizers.base import Optimizer, registry


@registry.register("rmsprop", "RMSprop")
class RMSprop(Optimizer):
    """RMSprop (Keras 3 formulation: epsilon inside the square root).

    `v = rho * v + (1 - rho) * g²`; when `centered`, also `a = rho * a + (1 - rho) * g` and the
    denominator uses the variance `v - a²`. The increment `lr * g / sqrt(denominator + epsilon)`
    is subtracted, or fed through momentum `mom = momentum * mom + increment; w -= mom`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        rho: float in [0, 1], discount of the gradient history.
        momentum: float in [0, 1].
        epsilon: float >= 0, added inside the square root for stability.
        centered: normalise by the estimated variance instead of the second moment.
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `name`.

    Example:
        >>> opt = RMSprop(learning_rate=1e-3, centered=True)
    """

    _default_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = validate.number(rho, "rho", self, low=0.0, high=1.0)
        self.momentum = validate.number(momentum, "momentum", self, low=0.0, high=1.0)
        self.epsilon = validate.number(epsilon, "epsilon", self, low=0.0)
        self.centered = validate.boolean(centered, "centered", self)

    def _update_slot_names(self):
        return (("velocity",) + (("average_gradient",) if self.centered else ())
                + (("momentum",) if self.momentum else ()))

    def _variant(self):
        return ("rmsprop" + ("_centered" if self.centered else "")
                + ("_momentum" if self.momentum else ""))

    def _hyper(self, lr, step):
        return (lr, self.rho, 1.0 - self.rho, self.epsilon, self.momentum)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
