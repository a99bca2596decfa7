"""The optimizer's exponential moving average of the weights (Keras 3's `use_ema`).

With `use_ema`, every variable gets one more slot, `average` (Keras's name), after the kernel's
slots: the step writes the new average aside and it is swapped in with the other slots, so a step
that fails leaves it untouched, and it is saved and restored with them.
"""
import numbers

import numpy as np

from kerasnp import _validate as validate


class EmaMixin:
    """`use_ema`, `ema_momentum`, `ema_overwrite_frequency` of `Optimizer`."""

    def _init_ema(self, use_ema, ema_momentum, ema_overwrite_frequency):
        self.use_ema = validate.boolean(use_ema, "use_ema", self)
        self.ema_momentum = validate.number(ema_momentum, "ema_momentum", self, 0.0, 1.0)
        freq = ema_overwrite_frequency
        if freq is not None and (isinstance(freq, bool) or not isinstance(freq, numbers.Integral)
                                 or freq < 1):
            raise ValueError(f"{type(self).__name__}: argument `ema_overwrite_frequency` must be "
                             f"None or an int >= 1. Received: ema_overwrite_frequency={freq!r}")
        self.ema_overwrite_frequency = None if freq is None else int(freq)

    def _update_ema(self, done):
        """Write each new average aside (swapped in with the other slots); every
        `ema_overwrite_frequency` steps, copy the averages into the weights (as Keras)."""
        m = self.ema_momentum if self.iterations > 0 else 0.0   # the first step copies
        overwrite = (self.ema_overwrite_frequency is not None
                     and (self.iterations + 1) % self.ema_overwrite_frequency == 0)
        for st in done:
            t = st.value.dtype.type
            new = st.spare_flats[-1]
            np.multiply(st.flats[-1], t(m), out=new)
            new += t(1.0 - m) * st.flat                  # average = m·average + (1 - m)·var
            if overwrite:
                st.flat[...] = new


    def _averages(self, var_list, who):
        if not self.use_ema:
            raise ValueError(f"{who} needs an optimizer created with use_ema=True. Received: "
                             f"{type(self).__name__} with use_ema={self.use_ema}")
        return [(var, self._state(var).arrays[-1]) for var in var_list]

    def _swap_ema(self, var_list, who="SwapEMAWeights"):
        """Exchange each variable's value with its moving average (a second call undoes it)."""
        for var, avg in self._averages(var_list, who):
            held = var.value.copy()
            var.value[...] = avg
            avg[...] = held

    def _ema_from_weights(self, var_list, who="SwapEMAWeights"):
        """Set each moving average to its variable's value."""
        for var, avg in self._averages(var_list, who):
            avg[...] = var.value

    def finalize_variable_values(self, var_list):
        """End of training (Keras API): with `use_ema`, each variable takes its moving average;
        otherwise nothing happens."""
        if self.use_ema:
            for var, avg in self._averages(var_list, "finalize_variable_values"):
                var.value[...] = avg
