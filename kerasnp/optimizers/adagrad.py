"""Adagrad and Adadelta: per-coordinate rates from accumulated squared gradients."""
from kerasnp import _validate as validate
from kerasnp.optimizers.base import Optimizer, registry


@registry.register("adagrad", "Adagrad")
class Adagrad(Optimizer):
    """Adagrad: `acc += g²; w -= lr * g / sqrt(acc + epsilon)`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        initial_accumulator_value: float >= 0, starting value of the accumulator.
        epsilon: float >= 0, added inside the square root.
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `name`.

    Example:
        >>> opt = Adagrad(learning_rate=0.01)
    """

    _default_name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = validate.number(
            initial_accumulator_value, "initial_accumulator_value", self, low=0.0)
        self.epsilon = validate.number(epsilon, "epsilon", self, low=0.0)

    def _update_slot_names(self):
        return ("accumulator",)

    def _slot_init(self, name):
        return self.initial_accumulator_value

    def _variant(self):
        return "adagrad"

    def _hyper(self, lr, step):
        return (lr, self.epsilon)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


@registry.register("adadelta", "Adadelta")
class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of running RMS of updates and of gradients.

    `G = rho * G + (1 - rho) * g²; d = -sqrt(D + eps) / sqrt(G + eps) * g;
    D = rho * D + (1 - rho) * d²; w += lr * d`.

    Args:
        learning_rate: float, schedule or callable (default 0.001; 1.0 matches the paper).
        rho: float in [0, 1], decay rate of both running averages.
        epsilon: float >= 0.
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `name`.

    Example:
        >>> opt = Adadelta(learning_rate=1.0)
    """

    _default_name = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = validate.number(rho, "rho", self, low=0.0, high=1.0)
        self.epsilon = validate.number(epsilon, "epsilon", self, low=0.0)

    def _update_slot_names(self):
        return ("accumulated_grad", "accumulated_delta_var")

    def _variant(self):
        return "adadelta"

    def _hyper(self, lr, step):
        return (lr, self.rho, 1.0 - self.rho, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
