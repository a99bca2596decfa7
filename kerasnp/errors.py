"""Exceptions raised by kerasnp with a meaning of their own."""


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite during `fit`; the weights are those from before that batch."""


class NonFiniteUpdateError(NonFiniteLossError):
    """An optimizer step would have left a weight or an optimizer slot NaN or infinite (the
    loss before it may have been finite: a learning rate so large that the update overflows, or
    an infinite gradient). The step was undone: weights, slots and `iterations` are as before
    it. A `NonFiniteLossError`, so code that catches that catches this too."""
