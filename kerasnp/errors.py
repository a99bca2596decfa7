"""Exceptions raised by kerasnp with a meaning of their own."""


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite during `fit`; the weights are those from before that batch."""
