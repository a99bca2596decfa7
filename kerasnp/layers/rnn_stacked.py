"""StackedRNNCells, and the helpers that move recurrent states between flat and nested lists."""
from .. import _validate
from .base import Layer, register
from .serialization import deserialize_layer, serialize_layer


def check_cell(cell, arg, owner):
    """A cell needs `call` and `state_size` (Keras's contract)."""
    missing = [a for a in ("call", "state_size") if not hasattr(cell, a)]
    if missing:
        raise ValueError(f"{owner}: argument `{arg}` must be an RNN cell, with a `call(inputs, "
                         "states, training=None)` method and a `state_size` attribute (an int "
                         f"or a list of ints); it has no {', '.join(missing)}. "
                         f"Received: {arg}={cell!r}")


def flatten(states):
    """The arrays of a (nested) list of states, in order."""
    if isinstance(states, (list, tuple)):
        return [s for item in states for s in flatten(item)]
    return [states]


def flat_sizes(state_size):
    """`state_size` (an int, or a nested list of ints) as a flat list of ints."""
    if isinstance(state_size, (list, tuple)):
        return [n for item in state_size for n in flat_sizes(item)]
    return [int(state_size)]


def pack(state_size, flat):
    """Flat states in the structure a cell's `call` expects: a list for the cell (one entry
    per item of `state_size`, itself a list where that item is a list)."""
    sizes = state_size if isinstance(state_size, (list, tuple)) else [state_size]
    out, k = [], 0
    for item in sizes:
        if isinstance(item, (list, tuple)):
            n = len(flat_sizes(item))
            out.append(list(flat[k:k + n]))
            k += n
        else:
            out.append(flat[k])
            k += 1
    return out


@register
class StackedRNNCells(Layer):
    """Several cells run as one: each step feeds the output of a cell to the next.

    Args:
        cells: list of RNN cells (built-in or user cells with `call` and `state_size`).

    `state_size` is the list of the cells' state sizes; the states of a step are a list with
    one entry per cell. `RNN([cell1, cell2])` wraps the list in a `StackedRNNCells`.

    Example:
        >>> import numpy as np, kerasnp as keras
        >>> cells = keras.layers.StackedRNNCells([keras.layers.LSTMCell(4),
        ...                                        keras.layers.GRUCell(3)])
        >>> keras.layers.RNN(cells)(np.zeros((2, 5, 6), "float32")).shape
        (2, 3)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(f"{_validate.describe(self)}: argument `cells` must be a non-empty "
                             f"list of RNN cells. Received: cells={cells!r}")
        for k, cell in enumerate(cells):
            check_cell(cell, f"cells[{k}]", _validate.describe(self))
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._build_once(shape)
            shape = (shape[0], _output_size(cell))

    def get_initial_state(self, batch_size=None):
        from .rnn import initial_state_of
        return [initial_state_of(c, batch_size, "float32") for c in self.cells]

    def call(self, inputs, states, training=None):
        new_states = []
        for cell, s in zip(self.cells, states):
            listed = isinstance(s, (list, tuple))
            inputs, s = cell(inputs, list(s) if listed else [s], training=training)
            if not listed and isinstance(s, (list, tuple)) and len(s) == 1:
                s = s[0]
            new_states.append(s)
        return inputs, new_states

    def get_config(self):
        cfg = super().get_config()
        cfg["cells"] = [serialize_layer(c) for c in self.cells]
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["cells"] = [deserialize_layer(c, custom_objects) for c in config["cells"]]
        return cls(**config)


def _output_size(cell):
    size = getattr(cell, "output_size", None)
    if size is None:
        size = flat_sizes(cell.state_size)[0]
    return int(size)
