"""The Adam family: Adam, AdamW, Adamax and Nadam (Keras 3 formulas)."""
import math

from kerasnp import _validate as validate
from kerasnp.optimizers.base import Optimizer, registry


class _AdamBase(Optimizer):
    """Shared validation of `beta_1`, `beta_2`, `epsilon` (first and second moment rates)."""

    def __init__(self, learning_rate, beta_1, beta_2, epsilon, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = validate.number(beta_1, "beta_1", self, low=0.0, high=1.0, high_open=True)
        self.beta_2 = validate.number(beta_2, "beta_2", self, low=0.0, high=1.0, high_open=True)
        self.epsilon = validate.number(epsilon, "epsilon", self, low=0.0)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


@registry.register("adam", "Adam")
class Adam(_AdamBase):
    """Adam: adaptive moment estimation.

    `m = b1 * m + (1 - b1) * g; v = b2 * v + (1 - b2) * g²;
    w -= alpha * m / (sqrt(v) + epsilon)` with `alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)`
    (Keras's form: epsilon is added to the uncorrected `sqrt(v)`). With `amsgrad`, `v` in the
    denominator is replaced by its running maximum.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: float in [0, 1), decay of the first moment.
        beta_2: float in [0, 1), decay of the second moment.
        epsilon: float >= 0.
        amsgrad: use the AMSGrad variant.
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `name`.

    Example:
        >>> opt = Adam(learning_rate=1e-3)
    """

    _default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = validate.boolean(amsgrad, "amsgrad", self)

    def _update_slot_names(self):
        return ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())

    def _variant(self):
        return "adam_amsgrad" if self.amsgrad else "adam"

    def _hyper(self, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        alpha = lr * math.sqrt(1.0 - b2 ** step) / (1.0 - b1 ** step)
        return (alpha, b1, 1.0 - b1, b2, 1.0 - b2, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "amsgrad": self.amsgrad}


@registry.register("adamw", "AdamW")
class AdamW(Adam):
    """Adam with decoupled weight decay (`w -= lr * weight_decay * w` before each update).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        weight_decay: float >= 0 (default 0.004); required.
        beta_1, beta_2, epsilon, amsgrad: as in `Adam`.
        **kwargs: `clipnorm`, `clipvalue`, `global_clipnorm`, `name`, ...

    Example:
        >>> opt = AdamW(learning_rate=1e-3, weight_decay=0.01)
    """

    _default_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: argument `weight_decay` must be a float >= 0. "
                             "Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)


@registry.register("adamax", "Adamax")
class Adamax(_AdamBase):
    """Adamax: Adam with the infinity norm.

    `m = b1 * m + (1 - b1) * g; u = max(b2 * u, |g|); w -= lr / (1 - b1^t) * m / (u + epsilon)`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1, beta_2: floats in [0, 1).
        epsilon: float >= 0.
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `name`.

    Example:
        >>> opt = Adamax(learning_rate=2e-3)
    """

    _default_name = "adamax"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)

    def _update_slot_names(self):
        return ("momentum", "norm")

    def _variant(self):
        return "adamax"

    def _hyper(self, lr, step):
        b1 = self.beta_1
        return (lr / (1.0 - b1 ** step), b1, 1.0 - b1, self.beta_2, self.epsilon)


@registry.register("nadam", "Nadam")
class Nadam(_AdamBase):
    """Nadam: Adam with Nesterov momentum (Dozat's schedule, as in Keras).

    With `u_t = b1 * (1 - 0.5 * 0.96^t)` and `P_t = u_1 * ... * u_t`:
    `m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)`,
    `v_hat = v / (1 - b2^t)`, `w -= lr * m_hat / (sqrt(v_hat) + epsilon)`.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1, beta_2: floats in [0, 1).
        epsilon: float >= 0.
        **kwargs: `weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`, `name`.

    Example:
        >>> opt = Nadam(learning_rate=1e-3)
    """

    _default_name = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self._u_memo = (0, 1.0)                      # (t, P_t): P_0 = 1

    def _u(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** t)

    def _u_product(self, t):
        """P_t, kept incrementally (recomputed only when `iterations` jumped, e.g. on load)."""
        n, prod = self._u_memo
        if n != t - 1:
            n, prod = 0, 1.0
        while n < t:
            n += 1
            prod *= self._u(n)
        self._u_memo = (n, prod)
        return prod

    def _update_slot_names(self):
        return ("momentum", "velocity")

    def _variant(self):
        return "nadam"

    def _hyper(self, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        u_t, u_next = self._u(step), self._u(step + 1)
        prod = self._u_product(step)
        cm = u_next / (1.0 - prod * u_next)
        cg = (1.0 - u_t) / (1.0 - prod)
        return (lr, b1, 1.0 - b1, b2, 1.0 - b2, cm, cg, 1.0 / (1.0 - b2 ** step), self.epsilon)
