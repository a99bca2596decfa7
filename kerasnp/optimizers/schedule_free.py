"""ScheduleFreeAdamW (Defazio et al., 2024, "The Road Less Scheduled")."""
from kerasnp import _validate as validate
from kerasnp.optimizers.adam import _AdamBase
from kerasnp.optimizers.base import registry


@registry.register("schedulefreeadamw", "ScheduleFreeAdamW")
class ScheduleFreeAdamW(_AdamBase):
    """Schedule-free AdamW: no learning-rate schedule needed; the weights `y` interpolate
    between an Adam-preconditioned SGD sequence `z` (slot `momentum`, starting at the weights)
    and its running average `x`.

    At step `t`: `v = b2 v + (1 - b2) g²; z' = z - lr_t g / (sqrt(v / (1 - b2^t)) + eps)`;
    `x = (y - (1 - b1) z) / b1; x' = (1 - 1/t) x + z' / t; y = (1 - b1) z' + b1 x'`, with
    `lr_t = lr * min(t / warmup_steps, 1)`. (Keras's torch backend reads `z` after its update
    where the paper's rule, followed here, reads it before: from the second step on the two
    differ slightly.)

    Args:
        learning_rate: float, schedule or callable (default 0.0025).
        beta_1: float in (0, 1), the interpolation between `z` and `x`.
        beta_2: float in [0, 1), the second moment decay.
        epsilon: float >= 0.
        warmup_steps: int >= 0, linear warm-up of the learning rate.
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `use_ema`,
            `ema_momentum`, `ema_overwrite_frequency`, `name`.

    Example:
        >>> opt = ScheduleFreeAdamW(learning_rate=0.0025, warmup_steps=100)
    """

    _default_name = "schedule_free_adam_w"

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        if self.beta_1 == 0.0:
            raise ValueError("ScheduleFreeAdamW: argument `beta_1` must be in (0, 1). "
                             "Received: beta_1=0.0")
        self.warmup_steps = validate.non_negative_int(warmup_steps, "warmup_steps", self)

    def _update_slot_names(self):
        return ("momentum", "velocity")

    def _initial_slot(self, name, value):
        if name == "momentum":                       # z starts at the weights (Keras)
            return value.copy()
        return super()._initial_slot(name, value)

    def _variant(self):
        return "schedule_free_adamw"

    def _hyper(self, lr, step):
        if self.warmup_steps > 0:
            lr = lr * min(step / self.warmup_steps, 1.0)
        b1, b2 = self.beta_1, self.beta_2
        return (lr, b1, 1.0 - b1, b2, 1.0 - b2, 1.0 / (1.0 - b2 ** step), self.epsilon,
                1.0 / step)

    def get_config(self):
        return {**super().get_config(), "warmup_steps": self.warmup_steps}

