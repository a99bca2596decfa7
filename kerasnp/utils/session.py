"""Session state: automatic layer names."""


def clear_session():
    """Reset automatic layer names (`dense`, `dense_1`, ... start again), as Keras does."""
    from ..layers.base import reset_names
    reset_names()
