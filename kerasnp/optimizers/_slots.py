"""Per-variable optimizer state: the slots (Keras names, e.g. Adam's `momentum`, `velocity`),
their second set the kernels write into, the weight's backup, and the public methods that read
and restore them (`build`, `get_slots`, `set_slots`, `variables_for`, `set_variables_for`).

A step writes the new slots aside and backs the weight up as it goes, so a step whose values
are not all finite is undone exactly (see `Optimizer._step`); after a step that succeeded the two
slot sets are swapped (in `_step`'s loop).
"""
import numpy as np

from kerasnp.optimizers import _kernels, _reference

NUMBA_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class State:
    """One variable's slots: full-shape arrays and their flat views, a second set of slot arrays
    the kernel writes the new values into (swapped in when the whole step succeeded), a backup of
    the weight from before the step, and the kernel to run."""

    __slots__ = ("var", "value", "flat", "arrays", "flats", "spare", "spare_flats", "backup",
                 "kernel", "decay", "n_update")

    def __init__(self, var, arrays, kernel, decay, n_update):
        self.var = var
        self.value = var.value
        self.flat = var.value.reshape(-1)
        self.arrays = arrays
        self.flats = tuple(a.reshape(-1) for a in arrays)
        self.spare = tuple(np.empty_like(a) for a in arrays)
        self.spare_flats = tuple(a.reshape(-1) for a in self.spare)
        self.backup = np.empty_like(self.flat)
        self.kernel = kernel
        self.decay = decay
        self.n_update = n_update            # the first slots are the kernel's; then the EMA

    def undo(self):
        """Give the weight its value from before the step (the slots were not touched)."""
        self.flat[...] = self.backup


class SlotsMixin:
    """The slot state of `Optimizer` (which defines `_slot_names`, `_update_slot_names`,
    `_slot_init`, `_variant`, `_decays` and `iterations`).

    Hooks for optimizers whose slots are not all filled with a constant of the weight's shape
    (Adafactor's factored moments, ScheduleFreeAdamW's copy of the weight): `_slot_shape`,
    `_initial_slot`; and `_kernel_for` for a kernel that needs more than flat arrays.
    """

    def _slot_shape(self, name, shape):
        return shape

    def _initial_slot(self, name, value):
        return np.full(self._slot_shape(name, value.shape), self._slot_init(name),
                       dtype=value.dtype)

    def _kernel_for(self, var):
        module = _kernels if var.value.dtype in NUMBA_DTYPES else _reference
        return getattr(module, self._variant())

    def _state(self, var):
        st = self._states.get(id(var))
        if st is None or st.var is not var:
            return self._build_state(var, None)
        if st.value is not var.value:                 # value was rebound (e.g. cast to floatx)
            return self._build_state(var, st)
        return st

    def _build_state(self, var, old):
        value = var.value
        arrays = []
        for i, name in enumerate(self._slot_names()):
            if old is not None and i < len(old.arrays) and \
                    old.arrays[i].shape == self._slot_shape(name, value.shape):
                arrays.append(old.arrays[i].astype(value.dtype))
            else:
                arrays.append(self._initial_slot(name, value))
        st = State(var, tuple(arrays), self._kernel_for(var), self._decays(var),
                   len(self._update_slot_names()))
        self._states[id(var)] = st
        return st

    def build(self, var_list):
        """Create the slots of every variable in `var_list` now (they are otherwise created at
        the first step that sees each variable)."""
        for var in var_list:
            self._state(var)

    def get_slots(self, var):
        """Return a copy of `var`'s slots as `{slot_name: array}` (created if missing)."""
        st = self._state(var)
        return {name: a.copy() for name, a in zip(self._slot_names(), st.arrays)}

    def set_slots(self, var, slots):
        """Copy `slots` (`{slot_name: array}`, exactly this optimizer's slot names) into `var`'s
        slots."""
        st = self._state(var)
        names = self._slot_names()
        if not isinstance(slots, dict) or set(slots) != set(names):
            got = sorted(slots) if isinstance(slots, dict) else slots
            raise ValueError(f"{type(self).__name__}.set_slots expected a dict with keys "
                             f"{list(names)} for variable '{var.path}'. Received: slots={got!r}")
        for name, a in zip(names, st.arrays):
            new = np.asarray(slots[name])
            if new.shape != a.shape:
                raise ValueError(f"{type(self).__name__}.set_slots: slot '{name}' of variable "
                                 f"'{var.path}' must have shape {a.shape}, received shape "
                                 f"{new.shape}.")
            a[...] = new

    def variables_for(self, var_list):
        """Return the optimizer state for `var_list` as a list of `(name, array)`: first
        `("iterations", int64 scalar array)`, then each variable's slots in list order and slot
        order, named `"<var.path>/<slot>"` (copies)."""
        out = [("iterations", np.array(self.iterations, dtype=np.int64))]
        for var in var_list:
            for name, a in self.get_slots(var).items():
                out.append((f"{var.path}/{name}", a))
        return out

    def set_variables_for(self, var_list, items):
        """Restore state saved by `variables_for(var_list)`.

        Args:
            var_list: the variables, in the same order as when saving (names are not matched,
                so a model rebuilt with different auto-names still loads).
            items: the saved `(name, array)` pairs, or just the arrays, in saved order.
        """
        arrays = [a[1] if isinstance(a, tuple) else a for a in items]
        names = self._slot_names()
        expected = 1 + len(names) * len(var_list)
        if len(arrays) != expected:
            raise ValueError(f"{type(self).__name__}.set_variables_for expected {expected} arrays "
                             f"(iterations + {len(names)} slot(s) x {len(var_list)} variables), "
                             f"received {len(arrays)}.")
        self.iterations = int(np.asarray(arrays[0]))
        k = 1
        for var in var_list:
            self.set_slots(var, dict(zip(names, arrays[k:k + len(names)])))
            k += len(names)
