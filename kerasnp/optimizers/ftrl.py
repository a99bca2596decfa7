"""Ftrl: follow the regularized leader (McMahan et al., 2013), Keras 3's formulation."""
from kerasnp import _validate as validate
from kerasnp.optimizers.base import Optimizer, registry


@registry.register("ftrl", "Ftrl")
class Ftrl(Optimizer):
    """Ftrl-proximal, for large sparse linear models (with L1 giving exact zeros).

    Per coordinate, with `n` the accumulator of squared gradients, `z` the linear term and
    `c = -learning_rate_power`:
    `n' = n + g²; z += g + 2 l2_shrinkage w - (n'^c - n^c) / lr * w;
    w = (clip(z, -l1, l1) - z) / (n'^c / lr + 2 (l2 + beta / (2 lr)))`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        learning_rate_power: float <= 0 (-0.5: the usual 1 / sqrt schedule).
        initial_accumulator_value: float >= 0, the accumulator's start.
        l1_regularization_strength: float >= 0.
        l2_regularization_strength: float >= 0.
        l2_shrinkage_regularization_strength: float >= 0, an L2 penalty on the weights that
            enters the gradient (magnitude shrinkage).
        beta: float, added to the L2 strength as `beta / (2 lr)`.
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `use_ema`,
            `ema_momentum`, `ema_overwrite_frequency`, `name`.

    Example:
        >>> opt = Ftrl(learning_rate=0.1, l1_regularization_strength=0.01)
    """

    _default_name = "ftrl"

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.learning_rate_power = validate.number(learning_rate_power, "learning_rate_power",
                                                   self, high=0.0)
        self.initial_accumulator_value = validate.number(
            initial_accumulator_value, "initial_accumulator_value", self, low=0.0)
        self.l1_regularization_strength = validate.number(
            l1_regularization_strength, "l1_regularization_strength", self, low=0.0)
        self.l2_regularization_strength = validate.number(
            l2_regularization_strength, "l2_regularization_strength", self, low=0.0)
        self.l2_shrinkage_regularization_strength = validate.number(
            l2_shrinkage_regularization_strength, "l2_shrinkage_regularization_strength", self,
            low=0.0)
        self.beta = validate.number(beta, "beta", self)

    def _update_slot_names(self):
        return ("accumulator", "linear")

    def _slot_init(self, name):
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def _variant(self):
        return "ftrl"

    def _hyper(self, lr, step):
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        return (lr, self.learning_rate_power, self.l1_regularization_strength, l2,
                2.0 * self.l2_shrinkage_regularization_strength)

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
