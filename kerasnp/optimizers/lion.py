"""Lion and Lamb (Keras 3 formulas): a sign-based optimizer and layer-wise adaptive Adam."""
from kerasnp import _validate as validate
from kerasnp.optimizers.adam import _AdamBase
from kerasnp.optimizers.base import Optimizer, registry


@registry.register("lion", "Lion")
class Lion(Optimizer):
    """Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms").

    `w -= lr * sign(b1 * m + (1 - b1) * g); m = b2 * m + (1 - b2) * g`: every coordinate moves by
    exactly `lr`, so Lion wants a learning rate 3-10x smaller than AdamW's.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: float in (0, 1], the interpolation giving the update's sign.
        beta_2: float in [0, 1], the decay of the momentum.
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `use_ema`,
            `ema_momentum`, `ema_overwrite_frequency`, `name`.

    Example:
        >>> opt = Lion(learning_rate=1e-4, weight_decay=0.01)
    """

    _default_name = "lion"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = validate.number(beta_1, "beta_1", self, low=0.0, high=1.0, low_open=True)
        self.beta_2 = validate.number(beta_2, "beta_2", self, low=0.0, high=1.0)

    def _update_slot_names(self):
        return ("momentum",)

    def _variant(self):
        return "lion"

    def _hyper(self, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        return (lr, b1, 1.0 - b1, b2, 1.0 - b2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


@registry.register("lamb", "Lamb")
class Lamb(_AdamBase):
    """Lamb (You et al., 2019): Adam's bias-corrected update `r = m_hat / (sqrt(v_hat) + eps)`
    rescaled per variable by the trust ratio `||w|| / ||r||` (1 when either norm is 0):
    `w -= lr * ||w|| / ||r|| * r`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1, beta_2: floats in [0, 1), the moment decays.
        epsilon: float >= 0.
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `use_ema`,
            `ema_momentum`, `ema_overwrite_frequency`, `name`.

    Example:
        >>> opt = Lamb(learning_rate=1e-3, weight_decay=0.01)
    """

    _default_name = "lamb"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)

    def _update_slot_names(self):
        return ("momentum", "velocity")

    def _variant(self):
        return "lamb"

    def _hyper(self, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        return (lr, b1, 1.0 - b1, b2, 1.0 - b2, 1.0 / (1.0 - b1 ** step),
                1.0 / (1.0 - b2 ** step), self.epsilon)
